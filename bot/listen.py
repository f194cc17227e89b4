"""Spoken questions offline: a WAV in, the answer (with its transcript) out, and speech back.

The recogniser (intents.speech) is built for the plant's recent lots, parties and
items, and rebuilt when the data changes. A heard lot code that names no lot is
matched to the nearest real code, and the answer says which lot it understood.
Where espeak-ng is installed, answers can be spoken back as WAV audio.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import replace
from datetime import date
from typing import Any

from rapidfuzz import fuzz, process

from bot.render.speech import spell
from bot.service import TraceService
from intents.speech import Listener, SpeechError
from intents.text import Gazetteer
from storage.writes import recent_lot_codes
from trace_engine.genealogy import plain_code
from trace_engine.model import Answer

__all__ = ["Hearing", "SpeechError", "speak"]

CODES = 3000
"""Lots the recogniser knows by name: the most recent ones."""
NEAREST = 60
"""How alike (0-100) a heard code must be to a real one to stand for it."""


class Hearing:
    """Transcribes and answers spoken questions for one plant."""

    def __init__(self, service: TraceService) -> None:
        self.service = service
        self._listener: Listener | None = None
        self._codes: list[str] = []
        self._names: Gazetteer | None = None
        self._lock = threading.Lock()

    def listener(self) -> Listener:
        """The recogniser for the plant as it is now (rebuilt when lots or names change)."""
        names = self.service.gazetteer()  # the parties and items people name, kept current
        codes = recent_lot_codes(self.service.database_url, CODES)
        with self._lock:
            if self._listener is None or names is not self._names or codes != self._codes:
                self._listener = Listener(codes, names.parties, names.items)
                self._codes, self._names = codes, names
            return self._listener

    def nearest(self, heard: str) -> str | None:
        """The real lot code closest to a heard one, if one is close enough."""
        plain = {plain_code(code): code for code in self._codes}
        said = plain_code(heard)
        if said in plain:
            return plain[said]
        # A code cut short by the recogniser ("43" for 4398) stands for the one lot it starts.
        starting = [code for key, code in plain.items() if len(said) >= 2 and key.startswith(said)]
        if len(starting) == 1:
            return starting[0]
        hit = process.extractOne(said, list(plain), scorer=fuzz.ratio, score_cutoff=NEAREST)
        return plain[hit[0]] if hit else None

    def answer(
        self, wav: bytes, *, today: date, user: str | None = None, thread: str | None = None
    ) -> Answer:
        """The answer to a recorded question, with ``transcript`` in its query."""
        listener = self.listener()
        heard = listener.transcribe(wav)
        if not heard.text:
            message = "I couldn't make out a question. Please ask again, closer to the microphone."
            return Answer(
                "unknown", {"transcript": ""}, False, message, message, {"reason": "nothing heard"}
            )
        intent = self.service.parse(heard.text, today=today, thread=thread)
        understood = []
        lots = []
        for code in intent.lots:
            real = self.nearest(code)
            lots.append(real or code)
            if real and plain_code(real) != plain_code(code):
                understood.append(real)
        intent = replace(intent, lots=tuple(lots))
        self.service.threads.remember(thread, intent)
        answer = self.service.answer(intent, today=today, user=user)
        query: dict[str, Any] = answer.query | {"transcript": heard.text}
        speech = answer.speech
        if understood:
            said = " and ".join(spell(code) for code in understood)
            speech = f"I understood lot {said}. {speech}"
        return replace(answer, query=query, speech=speech)


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
