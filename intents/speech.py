"""Offline speech: a WAV question to text with pocketsphinx, constrained to what can be asked.

Plants without a cloud still get voice. pocketsphinx's wheel ships an English
acoustic model and dictionary; instead of its general language model, the
decoder searches a JSGF grammar built here from the questions TraceBot answers
(intent phrases, date windows, "yes", "goodbye"), every way people say the
plant's lot codes (digit by digit, in pairs such as "forty four seventy one",
letters by name or NATO word, "dash"), and the party and item names in the
database. A small grammar makes the recogniser both right and fast.

Audio is read with the standard ``wave`` module and resampled to the model's
16 kHz with soxr.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
from pocketsphinx import Decoder

__all__ = ["Listener", "SpeechError", "Transcript", "grammar", "pcm16k", "spoken_forms"]

RATE = 16_000
SILENCE = Path(__file__).resolve().parent / "silence.dict"
MAX_SECONDS = 30
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = {
    2: "twenty",
    3: "thirty",
    4: "forty",
    5: "fifty",
    6: "sixty",
    7: "seventy",
    8: "eighty",
    9: "ninety",
}
NATO = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        [
            "alpha",
            "bravo",
            "charlie",
            "delta",
            "echo",
            "foxtrot",
            "golf",
            "hotel",
            "india",
            "juliet",
            "kilo",
            "lima",
            "mike",
            "november",
            "oscar",
            "papa",
            "quebec",
            "romeo",
            "sierra",
            "tango",
            "uniform",
            "victor",
            "whiskey",
            "xray",
            "yankee",
            "zulu",
        ],
        strict=True,
    )
)
EXTRA_WORDS = {"tracebot": "T R EY S B AA T", "xray": "EH K S R EY"}

# Questions about lots, as the words before the lot code and after it; the
# grammar joins any of these (the text parser decides what was asked), which keeps
# the lot-code network single and the search small.
BEFORE_LOT = (
    "who got", "who received", "where did", "which customers got", "what went into",
    "what is", "what's", "who supplied", "when does", "tell me about", "how much of",
    "where is", "what is the status of", "did", "who signed off", "q c results for",
    "mock recall on", "recall", "start a recall for", "put", "hold", "quarantine",
    "release", "take", "lift the hold on", "reconcile", "mass balance for", "what do",
    "trace", "what about",
)  # fmt: skip
AFTER_LOT = (
    "go", "ship", "end up", "made of", "come from", "expire", "is left", "pass q c",
    "pass quality control", "on hold", "off hold",
)  # fmt: skip
OTHER = (
    "what expires [<window>]", "what is expiring [<window>]", "what goes out of date [<window>]",
    "what did <party> send us [<window>]", "what did <party> get [<window>]",
    "what changed in the <item> recipe", "any recipe changes",
    "help", "what can you do", "yes", "no", "goodbye", "send it to slack",
    "and where did it go", "and what went into it",
)  # fmt: skip
WINDOWS = (
    "today", "tomorrow", "this week", "next week", "this month", "next month",
    "in the next seven days", "in the next ten days", "in the next fourteen days",
    "in the next thirty days", "last week", "last month",
)  # fmt: skip


class SpeechError(Exception):
    """The audio cannot be used; the message says why, for the caller."""


@dataclass(frozen=True)
class Transcript:
    text: str
    score: int | None


def _pair(digits: str) -> str | None:
    """Two digits as said together ("44" is "forty four"), or None ("04")."""
    if digits[0] == "0":
        return None
    number = int(digits)
    if number < 20:
        return TEENS[number - 10]
    return TENS[number // 10] + ("" if number % 10 == 0 else " " + DIGITS[number % 10])


def spoken_forms(code: str) -> list[str]:
    """The ways a lot code is said: digits one by one or in pairs, letters by name or NATO.

    Example:
        >>> spoken_forms("A12B")
        ['a one two b', 'a twelve b', 'alpha one two bravo', 'alpha twelve bravo']
        >>> spoken_forms("L-2024-0113")[0]
        'l dash two zero two four dash zero one one three'
    """
    found: list[str] = []
    for nato in (False, True):
        for pairs in (False, True):
            words: list[str] = []
            for group in re.split(r"[-./ ]+", code.lower()):
                if not group:
                    continue
                if words:
                    words.append("dash")
                for run in re.findall(r"\d+|[a-z]+", group):
                    if run.isdigit():
                        said = [_pair(run[k : k + 2]) for k in range(0, len(run), 2)]
                        if pairs and len(run) % 2 == 0 and all(said):
                            words += [s for s in said if s]
                        else:
                            words += [DIGITS[int(d)] for d in run]
                    else:
                        words += [NATO[c] if nato else c for c in run]
            form = " ".join(words)
            if form and form not in found:
                found.append(form)
    return found


def _alternatives(phrases: Iterable[str]) -> str:
    listed = [f"({p})" for p in dict.fromkeys(phrases) if p]
    return " | ".join(listed) if listed else "<VOID>"


def grammar(codes: Sequence[str], parties: Sequence[str], items: Sequence[str]) -> str:
    """The JSGF grammar of the questions about these lots, parties and items."""
    return "\n".join(
        [
            "#JSGF V1.0;",
            "grammar tracebot;",
            "public <question> = [<filler>] (<about_lot> | <other>);",
            "<filler> = hey tracebot | okay tracebot | uh | um | okay | so;",
            "<about_lot> = <before> <lot> [<after>] [and <lot> [have in common]];",
            "<lot> = [lot | batch | a lot] <code>;",
            f"<before> = {_alternatives(BEFORE_LOT)};",
            f"<after> = {_alternatives(AFTER_LOT)};",
            f"<other> = {_alternatives(OTHER)};",
            f"<window> = {_alternatives(WINDOWS)};",
            # "dash" may be left out: "l two zero two four dash zero one one three".
            "<code> = "
            + _alternatives(
                form.replace(" dash ", " [dash] ") for code in codes for form in spoken_forms(code)
            )
            + ";",
            f"<party> = {_alternatives(parties)};",
            f"<item> = {_alternatives(items)};",
        ]
    )


def said_name(name: str) -> str:
    """A master-data name as people say it: its words up to the first that is no word.

    Example:
        >>> said_name("Honey Almond Granola 500 g"), said_name("Acme Grain Co.")
        ('honey almond granola', 'acme grain co')
    """
    words = []
    for word in re.split(r"[\s,]+", name.lower()):
        word = word.strip(".()&'")
        if not word.isalpha():
            break
        words.append(word)
    return " ".join(words)


MIN_RATE, MAX_RATE = 4_000, 192_000
"""Sample rates a recording may have (Hz): telephone audio to studio audio."""
MAX_CHANNELS = 8


def pcm16k(data: bytes) -> bytes:
    """A WAV file's audio as 16 kHz mono 16-bit samples, for the recogniser.

    The header is checked before the samples are touched: 16-bit PCM, 1 to 8
    channels, a rate of 4,000 to 192,000 Hz, and data holding whole frames. A
    header may promise more frames than follow (a recorder writing to a pipe
    cannot go back to fill the length in): the frames that are there are used.

    Raises:
        SpeechError: the recording is no WAV audio that can be read, and why.

    Example:
        >>> import wave
        >>> out = io.BytesIO()
        >>> with wave.open(out, "wb") as audio:
        ...     audio.setnchannels(1); audio.setsampwidth(2); audio.setframerate(8000)
        ...     audio.writeframes(bytes(1600))
        >>> len(pcm16k(out.getvalue()))  # 800 frames at 8 kHz: 1,600 at 16 kHz
        3200
        >>> broken = bytearray(out.getvalue()); broken[24:28] = bytes(4)  # a rate of 0 Hz
        >>> pcm16k(bytes(broken))
        Traceback (most recent call last):
        ...
        intents.speech.SpeechError: The WAV header gives a sample rate of 0 Hz; send 4,000 to 192,000 Hz.
    """
    try:
        with wave.open(io.BytesIO(data)) as audio:
            rate, channels, width = audio.getframerate(), audio.getnchannels(), audio.getsampwidth()
            _check_header(rate, channels, width)
            frames = audio.readframes(audio.getnframes())
    except (wave.Error, EOFError, struct.error, RuntimeError) as err:
        # wave raises a bare RuntimeError where a chunk claims more bytes than follow.
        why = str(err) or "a chunk is longer than the file"
        raise SpeechError(f"That is not a WAV recording I can read ({why}).") from err
    frame = channels * width
    if len(frames) % frame:
        raise SpeechError(
            f"The WAV data ends inside a frame: {len(frames):,} bytes are no whole number "
            f"of {frame}-byte frames."
        )
    if not frames:
        raise SpeechError("The recording is empty.")
    if len(frames) / (rate * frame) > MAX_SECONDS:
        raise SpeechError(f"Questions longer than {MAX_SECONDS} seconds are refused.")
    samples = np.frombuffer(frames, dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    if rate != RATE:
        samples = soxr.resample(samples, rate, RATE)
    return np.asarray(samples, dtype=np.int16).tobytes()


def _check_header(rate: int, channels: int, width: int) -> None:
    """Raise SpeechError unless a WAV header's format is one the recogniser can take."""
    if width != 2:
        raise SpeechError("Send 16-bit PCM WAV audio.")
    if not 1 <= channels <= MAX_CHANNELS:
        raise SpeechError(
            f"The WAV header gives {channels} channels; send 1 to {MAX_CHANNELS} (mono is best)."
        )
    if not MIN_RATE <= rate <= MAX_RATE:
        raise SpeechError(
            f"The WAV header gives a sample rate of {rate:,} Hz; "
            f"send {MIN_RATE:,} to {MAX_RATE:,} Hz."
        )


VOWELS = frozenset(
    ["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"]
)


def non_rhotic(phones: list[str]) -> list[str]:
    """A pronunciation without the R after a vowel that non-rhotic accents drop.

    Example:
        >>> non_rhotic("F AO R T IY".split()), non_rhotic("IH K S P AY R".split())
        (['F', 'AO', 'T', 'IY'], ['IH', 'K', 'S', 'P', 'AY', 'AH'])
        >>> non_rhotic("TH ER D IY".split())
        ['TH', 'AH', 'T', 'IY']
    """
    out: list[str] = []
    for index, phone in enumerate(phones):
        following = phones[index + 1] if index + 1 < len(phones) else None
        if phone == "R" and out and out[-1] in VOWELS and following not in VOWELS:
            if out[-1] in ("AY", "AW", "OY"):
                out.append("AH")  # "expire" as "expi-uh"
            continue
        if phone == "ER" and following not in VOWELS:
            out.append("AH")
            continue
        if phone == "D" and out and out[-1] in VOWELS and following in VOWELS:
            out.append("T")  # no flap: "thirty" with a T
            continue
        out.append(phone)
    return out


def _decode(decoder: Decoder, samples: bytes) -> tuple[str, int | None]:
    decoder.start_utt()
    decoder.process_raw(samples, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return (hypothesis.hypstr, hypothesis.score) if hypothesis is not None else ("", None)


class Listener:
    """A pocketsphinx decoder for one plant's questions."""

    def __init__(self, codes: Sequence[str], parties: Sequence[str], items: Sequence[str]) -> None:
        # Silence may come between words, but no other filler: the model's noise
        # and "speech" fillers swallow spoken digits.
        # More Gaussians per frame (topn) and a heavier grammar weight (lw) keep
        # accents the US model knows less (British, Scottish) on the right path.
        self.decoder = Decoder(
            samprate=RATE, lm=None, fdict=str(SILENCE), topn=28, lw=10.0, loglevel="FATAL"
        )
        for word, phones in EXTRA_WORDS.items():
            if self.decoder.lookup_word(word) is None:
                self.decoder.add_word(word, phones, True)
        self.grammar = grammar(
            [c for c in codes if all(self._known(w) for w in spoken_forms(c)[0].split())],
            self._sayable(parties),
            self._sayable(items),
        )
        self._add_non_rhotic(set(re.findall(r"[a-z']+", self.grammar.split("\n", 2)[2])))
        self.decoder.add_jsgf_string("tracebot", self.grammar)
        self.decoder.activate_search("tracebot")
        self._lock = threading.Lock()

    def _add_non_rhotic(self, words: set[str]) -> None:
        """British and other non-rhotic pronunciations of the grammar's words ("four"
        without its R), as alternates: US dictionaries leave them out."""
        for word in words:
            phones = self.decoder.lookup_word(word)
            if phones is None:
                continue
            variant = non_rhotic(phones.split())
            if variant == phones.split():
                continue
            number = 2
            while self.decoder.lookup_word(f"{word}({number})") is not None:
                number += 1
            self.decoder.add_word(f"{word}({number})", " ".join(variant), False)

    def _known(self, word: str) -> bool:
        return self.decoder.lookup_word(word) is not None

    def _sayable(self, names: Sequence[str]) -> list[str]:
        """Each name as said, and its first word or two ("acme" for Acme Grain Co.),
        where the dictionary knows every word."""
        found: list[str] = []
        for name in names:
            words = said_name(name).split()
            for size in (len(words), 2, 1):
                said = " ".join(words[:size])
                if not words[:size] or (size == 1 and len(said) < 4) or said in found:
                    continue
                if all(self._known(word) for word in words[:size]):
                    found.append(said)
        return found

    def transcribe(self, wav: bytes) -> Transcript:
        """What was said in a WAV recording ("" when nothing the grammar allows)."""
        samples = pcm16k(wav)
        with self._lock:
            text, score = _decode(self.decoder, samples)
        return Transcript(text, score)
