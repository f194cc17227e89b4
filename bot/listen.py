"""Spoken questions offline: a WAV in, its transcript to ``TraceService.hear``, speech back.

The recogniser (intents.speech) listens for the plant's question phrases, party
and item names, and the *shapes* of its lot codes ("r" and seven digits), never
for all of its codes: it is built once per set of shapes and names, so a lot
added costs it nothing. A code heard is decoded again against the few real codes
nearest it (``Hearing.candidates``, from the service's lot index, which reads
the lots added since it last looked): a bounded list, whatever the plant's size.
Matching a heard code to the real lots, asking back when it is not sure, and
confirming changes are the service's: a recording is answered exactly as the
same words said on a call would be. Where espeak-ng is installed, answers can be
spoken back as WAV audio.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Sequence
from datetime import date

from bot.service import Caller, TraceService
from bot.service.heard import index_for
from intents.speech import Listener, SpeechError
from trace_engine.model import Answer

__all__ = ["Hearing", "SpeechError", "speak"]

NEAREST = 150
"""Real codes, nearest each heard code, the recogniser weighs it against again."""
RECENT = 8
"""The plant's newest lots, weighed beside them (a lot just made is often asked about)."""


class Hearing:
    """Transcribes spoken questions for one plant and has the service answer them."""

    def __init__(self, service: TraceService) -> None:
        self.service = service
        self._listener: Listener | None = None
        self._shapes: tuple[str, ...] = ()
        self._names: object = None
        self._lock = threading.Lock()

    def listener(self) -> Listener:
        """The recogniser for the plant as it is now (rebuilt only when the shapes of
        its codes, or its parties and items, change)."""
        names = self.service.gazetteer()  # the parties and items people name, kept current
        shapes = tuple(index_for(self.service.database_url).current().shapes())
        with self._lock:
            if self._listener is None or shapes != self._shapes or names is not self._names:
                self._listener = Listener(
                    shapes, names.parties, names.items, candidates=self.candidates
                )
                self._shapes, self._names = shapes, names
            return self._listener

    def candidates(self, heard: Sequence[str]) -> list[str]:
        """The real codes a recogniser's heard codes may be: the nearest to each by edit
        distance, and the newest lots (a bounded list, whatever the plant's size)."""
        index = index_for(self.service.database_url).current()
        found = [code for said in heard for code in index.nearest(said, limit=NEAREST)]
        return list(dict.fromkeys([*found, *reversed(index.codes[-RECENT:])]))

    def answer(
        self,
        wav: bytes,
        *,
        today: date,
        caller: Caller | None = None,
        conversation: str | None = None,
    ) -> Answer:
        """The answer to a recorded question, with ``transcript`` in its query.

        Raises:
            SpeechError: the recording is no WAV audio the recogniser can read.
        """
        heard = self.listener().transcribe(wav)
        return self.service.hear(
            heard.text, today=today, caller=caller, conversation=conversation, codes=heard.codes
        )


def speak(text: str) -> bytes:
    """``text`` spoken by espeak-ng as WAV audio.

    Raises:
        SpeechError: espeak-ng is not installed.
    """
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechError("Spoken answers need espeak-ng (Debian package espeak-ng).")
    done = subprocess.run(
        [program, "-v", "en-us", "-s", "160", "--stdout", text[:2000]],
        capture_output=True,
        check=False,
        timeout=20,
    )
    if done.returncode != 0 or not done.stdout:
        raise SpeechError("espeak-ng could not speak the answer.")
    return done.stdout
