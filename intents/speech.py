"""Offline speech: a WAV question to text with pocketsphinx, constrained to what can be asked.

Plants without a cloud still get voice. pocketsphinx's wheel ships an English
acoustic model and dictionary; instead of its general language model, the
decoder searches a JSGF grammar built here from the questions TraceBot answers
(intent phrases, date windows, "yes", "goodbye"), the party and item names in
the database, and the *shapes* of the plant's lot codes (``L-####-####``: "l",
"dash", four digits or two pairs, ...), never the codes, so the grammar does not
grow with the plant.

A code heard that way is rough (a free run of digits hears "on hold" as "oh
go"), so it is decoded twice (``Listener``):

1. the question grammar, with the free code loop: the question and a rough code;
2. the same audio again, the question's phrases around a code that is one of a
   bounded list of real codes (``candidates``: the nearest to the rough code by
   edit distance, and the newest lots), as a tree of their spoken forms (a few
   hundred codes compile and search in a fraction of a second, whatever the
   plant's size).

The second pass's lattice gives the N-best paths: a real code is *sure*
(``CodeCheck.sure``) only where the first pass heard it too and no path with
another code comes near; its characters are then heard right with
``SURE_CHARACTER`` (and the service weighs the real codes near it), else with
``UNSURE_CHARACTER``, which the service never takes as sure: it asks back.

Audio is read with the standard ``wave`` module (or as G.711 telephone audio)
and resampled to the model's 16 kHz with soxr.
"""

from __future__ import annotations

import io
import math
import re
import struct
import threading
import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
from pocketsphinx import Decoder

from intents.heard import plain

__all__ = [
    "CodeCheck",
    "Listener",
    "SpeechError",
    "Transcript",
    "code_grammar",
    "grammar",
    "heard_codes",
    "pcm16k",
    "shape_rule",
    "spoken_forms",
]

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


DIGIT_RULES = (
    "<d> = " + " | ".join([*DIGITS, "oh"]) + ";",
    "<pair> = " + " | ".join([*TEENS, *(f"{t} [<nz>]" for t in TENS.values())]) + ";",
    "<nz> = " + " | ".join(DIGITS[1:]) + ";",
)
"""The JSGF rules of a digit said alone (<d>) or in a pair ("forty four", <pair>)."""


class SpeechError(Exception):
    """The audio cannot be used; the message says why, for the caller."""


@dataclass(frozen=True)
class Transcript:
    text: str
    score: int | None
    codes: tuple[tuple[str, tuple[float, ...]], ...] = ()
    """The codes heard, in order, each with a probability per character."""
    checks: tuple[CodeCheck, ...] = ()
    """How each heard code stood against the real codes near it (second pass)."""


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


def shape_rule(shape: str) -> str:
    """The JSGF of a code shape (``code_shape``): letters by name or NATO word, each
    digit a ``<d>`` (or, for a run of two or four, pairs as "forty four"), separators
    an optional "dash".

    Example:
        >>> shape_rule("L-####")
        '(l | lima) [dash] ((<d> <d> <d> <d>) | (<pair> <pair>))'
        >>> shape_rule("A##B")
        '(a | alpha) ((<d> <d>) | (<pair>)) (b | bravo)'
    """
    words: list[str] = []
    for run in re.findall(r"#+|[A-Z]|[^#A-Z]+", shape.upper()):
        if run[0] == "#":
            singles = " ".join(["<d>"] * len(run))
            if len(run) in (2, 4):
                words.append(f"(({singles}) | ({' '.join(['<pair>'] * (len(run) // 2))}))")
            else:
                words.append(singles)
        elif run.isalpha():
            words.append(f"({run.lower()} | {NATO[run.lower()]})")
        else:
            words.append("[dash]")
    return " ".join(words)


def grammar(shapes: Sequence[str], parties: Sequence[str], items: Sequence[str]) -> str:
    """The JSGF grammar of the questions about lots of these shapes, parties and items.

    It names no lot: a code is any code of a shape the plant has, so a new lot
    costs the grammar nothing (the heard code is matched to real lots after).
    """
    codes = [shape_rule(shape) for shape in shapes if re.search(r"[#A-Z]", shape.upper())]
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
            f"<code> = {_alternatives(codes)};",
            *DIGIT_RULES,
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


PCM, ALAW, MULAW, EXTENSIBLE = 1, 6, 7, 0xFFFE
"""WAV format tags: 16-bit PCM, and the 8-bit companded telephone codings (G.711)."""
NARROW = 0.004
"""Below this share of its energy above 4 kHz a recording is telephone audio."""
FOLD = True
"""Telephone audio is widened by spectral folding (else plainly resampled)."""


def _g711_table(mulaw: bool) -> np.ndarray:
    """The 256 linear 16-bit values of the µ-law or A-law bytes (ITU-T G.711)."""
    values = np.zeros(256, dtype=np.int16)
    for byte in range(256):
        if mulaw:
            coded = ~byte & 0xFF
            magnitude = (((coded & 0x0F) << 3) + 0x84) << ((coded & 0x70) >> 4)
            value = 0x84 - magnitude if coded & 0x80 else magnitude - 0x84
        else:
            coded = byte ^ 0x55
            exponent, mantissa = (coded & 0x70) >> 4, coded & 0x0F
            magnitude = (
                (mantissa << 4) + 8
                if exponent == 0
                else ((mantissa << 4) + 0x108) << (exponent - 1)
            )
            value = magnitude if coded & 0x80 else -magnitude
        values[byte] = value
    return values


G711 = {MULAW: _g711_table(True), ALAW: _g711_table(False)}


def _riff(data: bytes) -> tuple[int, int, int, int, bytes] | None:
    """(format tag, channels, rate, bits per sample, data bytes) of a WAV file whose
    format is G.711, or None for any other (read by ``wave``)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset, fmt = 12, None
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            int.from_bytes(data[offset + 4 : offset + 8], "little"),
        )
        body = data[offset + 8 : offset + 8 + size]
        if chunk == b"fmt " and len(body) >= 16:
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID's first field
            if tag not in G711:
                return None
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data" and fmt is not None:
            return (*fmt, body)  # a streamed header's size may overrun: what follows is kept
        offset += 8 + size + (size & 1)
    return None


def pcm16k(data: bytes) -> bytes:
    """A WAV file's audio as 16 kHz mono 16-bit samples, for the recogniser.

    The header is checked before the samples are touched: 16-bit PCM or 8-bit
    µ-law or A-law (telephone gateways and intercoms record those, format tags 7
    and 6), 1 to 8 channels, a rate of 4,000 to 192,000 Hz, and data holding whole
    frames. A header may promise more frames than follow (a recorder writing to a
    pipe cannot go back to fill the length in): the frames that are there are used.

    Telephone audio (8 kHz, or any recording with next to nothing above 4 kHz)
    is widened for the recogniser's 16 kHz model by spectral folding: the 0-4 kHz
    band mirrored into 4-8 kHz, where the model expects the sound of s, f and t.

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
    companded = _riff(data)
    if companded is not None:
        tag, channels, rate, bits, frames = companded
        if bits != 8:
            raise SpeechError(
                f"The WAV header gives {bits}-bit G.711 audio; µ-law and A-law are 8-bit."
            )
        _check_header(rate, channels, 1, tag)
        width = 1
    else:
        try:
            with wave.open(io.BytesIO(data)) as audio:
                rate, channels = audio.getframerate(), audio.getnchannels()
                width = audio.getsampwidth()
                _check_header(rate, channels, width, PCM)
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
    if companded is not None:
        samples = G711[companded[0]][np.frombuffer(frames, dtype=np.uint8)]
    else:
        samples = np.frombuffer(frames, dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return _to_model_rate(samples, rate).tobytes()


def _to_model_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Samples at 16 kHz; telephone-band audio folded to fill the upper band."""
    floats = samples.astype(np.float32)
    if rate > 8_000 and len(floats) >= 512:
        spectrum = np.abs(np.fft.rfft(floats)) ** 2
        above = spectrum[int(len(spectrum) * 4_000 / (rate / 2)) :].sum()
        if above <= NARROW * max(float(spectrum.sum()), 1.0):
            floats, rate = soxr.resample(floats, rate, 8_000), 8_000
    if rate <= 8_000:
        narrow = soxr.resample(floats, rate, 8_000) if rate != 8_000 else floats
        if FOLD:
            folded = np.zeros(len(narrow) * 2, dtype=np.float32)
            folded[::2] = narrow * 2  # zeros between samples: the band and its mirror image
            floats = folded
        else:
            floats = soxr.resample(narrow, 8_000, RATE)
    elif rate != RATE:
        floats = soxr.resample(floats, rate, RATE)
    return np.clip(floats, -32768, 32767).astype(np.int16)


def _check_header(rate: int, channels: int, width: int, tag: int) -> None:
    """Raise SpeechError unless a WAV header's format is one the recogniser can take."""
    if tag == PCM and width != 2:
        raise SpeechError("Send 16-bit PCM or 8-bit µ-law WAV audio.")
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


HEARD_SURE = 0.85
"""How sure the recogniser is of a character of a code at most: on a plant where
most codes have real neighbours, an exact match alone is never sure."""

CODE_WORDS = {
    **{word: str(number) for number, word in enumerate(DIGITS)},
    "oh": "0",
    **{word: str(10 + number) for number, word in enumerate(TEENS)},
    **{word: str(tens * 10) for tens, word in TENS.items()},
    **{word: letter.upper() for letter, word in NATO.items()},
    **{letter: letter.upper() for letter in NATO},
    "dash": "",
}
"""What each word of a spoken code adds to it (a tens word before a digit adds one)."""


def _spoken(words: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """The words said, without silences, fillers and pronunciation numbers."""
    spoken = [(w.split("(")[0].lower(), p) for w, p in words if not w.startswith(("<", "["))]
    return [(w, p) for w, p in spoken if w not in ("(null)", "")]


def _code_runs(spoken: Sequence[tuple[str, float]]) -> list[tuple[int, int, str, list[float]]]:
    """(first word, word after, code, probability per character) of each code said."""
    found: list[tuple[int, int, str, list[float]]] = []
    code, sure, start = "", [], 0
    after_lot = False
    for index, (word, prob) in enumerate(spoken):
        following = spoken[index + 1][0] if index + 1 < len(spoken) else ""
        is_code = word in CODE_WORDS and not (word == "a" and following in ("lot", "batch", ""))
        if word in ("a", "i") and not code and following not in CODE_WORDS:
            is_code = False
        if is_code:
            if not code:
                start = index
            piece = CODE_WORDS[word]
            if word in TENS.values() and following in DIGITS[1:]:
                piece = piece[0]  # "forty" of "forty four"
            code += piece
            sure += [prob] * len(piece)
            continue
        if code and (any(c.isdigit() for c in code) or after_lot):
            found.append((start, index, code, sure))
        code, sure = "", []
        after_lot = word in ("lot", "batch")
    if code and (any(c.isdigit() for c in code) or after_lot):
        found.append((start, len(spoken), code, sure))
    return found


def heard_codes(words: Sequence[tuple[str, float]]) -> list[tuple[str, tuple[float, ...]]]:
    """The codes in a recogniser's words, each with a probability per character.

    ``words`` are the words heard with their posterior probabilities (fillers and
    silences included); a code is a run of code words (digits, pairs, letters,
    "dash") holding a digit, or spelled letters after "lot".

    Example:
        >>> heard_codes([("who", 1.0), ("got", 1.0), ("lot", 0.9), ("forty", 0.8),
        ...              ("four", 0.7), ("<sil>", 1.0), ("seven", 0.9), ("one", 0.6)])
        [('4471', (0.8, 0.7, 0.9, 0.6))]
        >>> heard_codes([("tell", 1.0), ("me", 1.0), ("about", 1.0), ("a", 0.9), ("lot", 0.9),
        ...              ("a", 0.5), ("twelve", 0.8), ("b", 0.9)])
        [('A12B', (0.5, 0.8, 0.8, 0.9))]
    """
    return [(code, tuple(sure)) for _, _, code, sure in _code_runs(_spoken(words))]


@dataclass(frozen=True)
class _Pass:
    """One decoding: the text, its path score, the words with their posteriors, and the
    acoustic log-likelihood of the whole path (natural log)."""

    text: str
    score: int | None
    words: list[tuple[str, float]]
    acoustic: float


def _decode(decoder: Decoder, samples: bytes) -> _Pass:
    decoder.start_utt()
    decoder.process_raw(samples, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    if hypothesis is None:
        return _Pass("", None, [], 0.0)
    logmath = decoder.get_logmath()
    segments = list(decoder.seg())
    words = [(segment.word, float(logmath.exp(segment.prob))) for segment in segments]
    # The bindings give the path score as a density scaled down by 2**10 (the
    # decoder's senone score shift), which never underflows; its log times 1024 is
    # the path's acoustic log-likelihood in nats (the grammar's weights left out).
    acoustic = math.log(max(float(hypothesis.score), 1e-300)) * 1024
    return _Pass(hypothesis.hypstr, hypothesis.score, words, acoustic)


@dataclass(frozen=True)
class CodeCheck:
    """How a heard code stood against the real codes near it, decoded again (pass 2).

    ``heard`` is the code of the first pass (the free code loop alone), ``code``
    that of the second, where the real candidates stand beside the free loop
    (``real`` when it is one of them). ``margin`` is how much better (natural
    log) the second pass's best path scores than its best path with other codes
    (``rival``, from the lattice's N-best; ``NO_RIVAL`` when none survived).
    """

    heard: str
    code: str
    real: bool
    margin: float
    rival: str | None
    candidates: int

    @property
    def sure(self) -> bool:
        """The code is taken as heard right: a real one whose digits the free first pass
        heard too (its letters it often drops), with no other code near it."""
        digits = re.sub(r"\D", "", self.code)
        return (
            self.real
            and bool(digits)
            and re.sub(r"\D", "", self.heard) == digits
            and self.margin >= SURE_MARGIN
        )


Candidates = Callable[[Sequence[str]], Sequence[str]]
"""Heard codes to the real codes they may be: a bounded list, nearest first."""

SURE_CHARACTER = 0.95
"""How sure of each character of a real code that passed the second decoding. Not
more: a digit misheard alike by both passes (a speaker's "six" as "eight") passes
too, so on a plant whose codes have many real neighbours it is still asked back."""
UNSURE_CHARACTER = 0.6
"""How sure of each character of a code that failed it: below the 0.8 under which
the service never takes a code as sure."""
SURE_MARGIN = 20.0
"""How much better (natural log) a sure code's path must score than any path with
another code."""
NO_RIVAL = 100.0
"""The margin where the lattice holds no path with another code (all were pruned)."""
FIRST_PASS: dict[str, float | bool] = {"topn": 8, "lw": 10.0, "maxhmmpf": 3000}
"""The first pass's decoder settings."""
SECOND_PASS: dict[str, float | bool] = {"topn": 28, "lw": 10.0, "bestpath": False}
"""The second pass's decoder settings. Its lattice gives the N-best either way; its
best path is the search's own (the lattice's best may be a path cut short)."""
FREE_IN_SECOND = False
"""The second pass lets the free code loop compete with the real candidates. Off:
measured on espeak-ng questions, the loop beat the code said (its "on hold" heard
as "oh two oh") more often than it caught a code that is no real one; a code that
is not among the candidates is caught by the first pass hearing other digits."""
NBEST = 60
"""Paths of the second pass's lattice searched for a rival code."""
REAL_WEIGHT = 4.0
"""The prior of the real candidates against the free code loop in the second pass."""


def trie_rule(forms: Sequence[str]) -> str:
    """The JSGF of spoken forms as a tree: forms that start alike share their start,
    so a few hundred codes make a small network.

    Example:
        >>> trie_rule(["four four eight zero", "four four seven one", "four three"])
        'four ((four ((eight zero) | (seven one))) | three)'
        >>> trie_rule(["one two", "one"])
        'one [two]'
    """
    branches: dict[str, list[list[str]]] = {}
    for form in dict.fromkeys(forms):
        words = form.split()
        if words:
            branches.setdefault(words[0], []).append(words[1:])
    if not branches:
        return "<VOID>"
    parts = []
    for word, rests in branches.items():
        longer = [" ".join(rest) for rest in rests if rest]
        if not longer:
            parts.append(word)
            continue
        inner = trie_rule(longer)
        if len(longer) < len(rests):
            parts.append(f"{word} [{inner}]")
        elif " " in inner and not inner.startswith("("):
            parts.append(f"{word} ({inner})" if "|" in inner else f"{word} {inner}")
        else:
            parts.append(f"{word} {inner}")
    if len(parts) == 1:
        return parts[0]
    return "(" + " | ".join(f"({part})" if " " in part else part for part in parts) + ")"


def code_grammar(
    head: str, tail: str, real: Sequence[str], shapes: Sequence[str], *, free: bool = True
) -> str:
    """The JSGF of a question whose words around the code are ``head`` and ``tail``
    (JSGF expressions) and whose code is one of the ``real`` spoken forms or, with
    ``free``, any code of the ``shapes``.

    Example:
        >>> jsgf = code_grammar("who got lot", "", ["four four", "forty four"], ["##"])
        >>> jsgf.splitlines()[2]
        'public <question> = who got lot <code> ;'
        >>> jsgf.splitlines()[6]
        '<code> = /4.0/ <real> | /1/ <free>;'
    """
    loops = [shape_rule(shape) for shape in shapes if re.search(r"[#A-Z]", shape.upper())]
    choices = []
    if real:
        choices.append(f"/{REAL_WEIGHT}/ <real>")
    if free and loops:
        choices.append("/1/ <free>")
    return "\n".join(
        [
            "#JSGF V1.0;",
            "grammar check;",
            f"public <question> = {head} <code> {tail};",
            "<filler> = hey tracebot | okay tracebot | uh | um | okay | so;",
            f"<before> = {_alternatives(BEFORE_LOT)};",
            f"<after> = {_alternatives(AFTER_LOT)};",
            f"<code> = {' | '.join(choices) if choices else '<VOID>'};",
            f"<real> = {trie_rule(real)};",
            f"<free> = {_alternatives(loops)};",
            *DIGIT_RULES,
        ]
    )


def _head(spoken: list[tuple[str, float]], runs: list[tuple[int, int, str, list[float]]]) -> str:
    """The JSGF of the words before the first code, as the first pass heard them: the
    question's words fixed (the second pass settles the code, not the question), "lot"
    fixed where it was heard, else optional.

    Example:
        >>> words = [(w, 1.0) for w in "um who got lot four four".split()]
        >>> _head(words, _code_runs(words))
        '[<filler>] who got (lot | batch | a lot)'
        >>> words = [(w, 1.0) for w in "put one three three".split()]
        >>> _head(words, _code_runs(words))
        '[<filler>] put [lot | batch | a lot]'
    """
    before = [word for word, _ in spoken[: runs[0][0]]]
    fillers = {"hey", "okay", "tracebot", "uh", "um", "so"}
    while before and before[0] in fillers:
        before = before[1:]
    lot = "[lot | batch | a lot]"
    if before and before[-1] in ("lot", "batch"):
        before = before[:-2] if before[-2:] == ["a", "lot"] else before[:-1]
        lot = "(lot | batch | a lot)"
    if not before or any(not re.fullmatch(r"[a-z']+", word) for word in before):
        return f"[<filler>] <before> {lot}"
    return f"[<filler>] {' '.join(before)} {lot}"


def _rival(
    decoder: Decoder, codes: list[str], best: float, real: set[str]
) -> tuple[float, str | None]:
    """How much better (natural log) the best path scores than the best one of the
    lattice's N-best whose codes differ (real ones: the lattice also holds paths cut
    short, "four four" of 4480), and that path's codes."""
    for count, path in enumerate(decoder.nbest()):
        if count >= NBEST:
            break
        said = [
            code for *_, code, _ in _code_runs(_spoken([(w, 1.0) for w in path.hypstr.split()]))
        ]
        if said != codes and said and all(code in real for code in said):
            score = math.log(max(float(path.score), 1e-300)) * 1024
            return best - score, " ".join(said) or None
    return NO_RIVAL, None


def _add_non_rhotic(decoder: Decoder, words: set[str]) -> None:
    """British and other non-rhotic pronunciations of the grammar's words ("four"
    without its R), as alternates: US dictionaries leave them out."""
    for word in words:
        phones = decoder.lookup_word(word)
        if phones is None:
            continue
        variant = non_rhotic(phones.split())
        if variant == phones.split():
            continue
        number = 2
        while decoder.lookup_word(f"{word}({number})") is not None:
            number += 1
        decoder.add_word(f"{word}({number})", " ".join(variant), False)


class Listener:
    """A pocketsphinx decoder for one plant's questions: its phrases, names and code shapes.

    The grammar holds the shapes of the plant's codes (``code_shape``), never the
    codes: it is built once per set of shapes, however many lots there are. Where
    ``candidates`` is given (heard codes to the few real codes nearest them), a
    heard code is decoded again against those real codes and the free code loop
    (``CodeCheck``): a real code sure only where it clearly beats both.
    """

    def __init__(
        self,
        shapes: Sequence[str],
        parties: Sequence[str],
        items: Sequence[str],
        *,
        candidates: Candidates | None = None,
    ) -> None:
        # Silence may come between words, but no other filler: the model's noise
        # and "speech" fillers swallow spoken digits.
        # More Gaussians per frame (topn) and a heavier grammar weight (lw) keep
        # accents the US model knows less (British, Scottish) on the right path.
        self.decoder = Decoder(
            samprate=RATE, lm=None, fdict=str(SILENCE), loglevel="FATAL", **FIRST_PASS
        )
        for word, phones in EXTRA_WORDS.items():
            if self.decoder.lookup_word(word) is None:
                self.decoder.add_word(word, phones, True)
        self.shapes = tuple(shapes)
        self.candidates = candidates
        self._loops = [s for s in shapes if all(self._known(c.lower()) for c in s if c.isalpha())]
        self.grammar = grammar(self._loops, self._sayable(parties), self._sayable(items))
        self.decoder.add_jsgf_string("tracebot", self.grammar)
        self.decoder.activate_search("tracebot")
        # The second pass keeps a lattice, for the posteriors of the code's words.
        self.checker = Decoder(
            samprate=RATE, lm=None, fdict=str(SILENCE), loglevel="FATAL", **SECOND_PASS
        )
        for word, phones in EXTRA_WORDS.items():
            if self.checker.lookup_word(word) is None:
                self.checker.add_word(word, phones, True)
        grammar_words = set(re.findall(r"[a-z']+", self.grammar.split("\n", 2)[2]))
        for decoder in (self.decoder, self.checker):
            _add_non_rhotic(decoder, grammar_words)
        self._lock = threading.Lock()

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
        """What was said in a WAV recording ("" when nothing the grammar allows), and
        the codes heard in it with how sure the recogniser is of each character."""
        samples = pcm16k(wav)
        with self._lock:
            first = _decode(self.decoder, samples)
            spoken = _spoken(first.words)
            runs = _code_runs(spoken)
            if not runs or self.candidates is None:
                # pocketsphinx gives no word posteriors in grammar search (each is 1.0):
                # each character is taken as heard right with HEARD_SURE at most.
                codes = [(code, tuple(min(p, HEARD_SURE) for p in sure)) for *_, code, sure in runs]
                return Transcript(first.text, first.score, tuple(codes))
            return self._check(samples, first, [code for *_, code, _ in runs], _head(spoken, runs))

    def _check(self, samples: bytes, first: _Pass, heard: list[str], head: str) -> Transcript:
        """Decode again, the words before the code as the first pass heard them (``head``,
        JSGF), the code one of the real codes near those heard; weigh the code against
        the other real codes of the second pass's N-best."""
        assert self.candidates is not None
        real = [code for code in self.candidates(heard) if code]
        forms: dict[str, str] = {}
        for code in real:
            for form in spoken_forms(code):
                if all(self._known(word) for word in form.split()):
                    forms.setdefault(form, plain(code))
        lot = "[lot | batch | a lot]"
        jsgf = code_grammar(
            head,
            f"[<after>] [and {lot} <code> [have in common]]",
            list(forms),
            self._loops,
            free=FREE_IN_SECOND,
        )
        self.checker.add_jsgf_string("check", jsgf)
        self.checker.activate_search("check")
        second = _decode(self.checker, samples)
        runs = _code_runs(_spoken(second.words))
        if not runs:  # the second pass lost the code: the first pass's words, unsure
            rough = tuple((code, (UNSURE_CHARACTER,) * len(code)) for code in heard)
            return Transcript(first.text, first.score, rough)
        said = [code for *_, code, _ in runs]
        owners = set(forms.values())
        margin, rival = _rival(self.checker, said, second.acoustic, owners)
        codes: list[tuple[str, tuple[float, ...]]] = []
        checks: list[CodeCheck] = []
        for number, code in enumerate(said):
            first_code = heard[number] if len(runs) == len(heard) else ""
            check = CodeCheck(first_code, code, code in owners, margin, rival, len(real))
            checks.append(check)
            sure = SURE_CHARACTER if check.sure else UNSURE_CHARACTER
            codes.append((code, (sure,) * len(code)))
        return Transcript(second.text, second.score, tuple(codes), tuple(checks))
