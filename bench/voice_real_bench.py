"""Spoken questions about a 300,000-lot plant, by real human voices and espeak-ng ones.

Each question is a carrier phrase spoken by espeak-ng ("who got lot r") followed
by the digits of a real lot code, each one a recording of a real person saying
that digit (``../shared/speech-samples``: FSDD, three speakers, 8 kHz; indexes
0-4, the dataset's test split), with short pauses between; beside them the whole
question spoken by espeak-ng voices. Every question is sent at 16 kHz and at
telephone bandwidth (8 kHz µ-law), through ``Hearing.answer`` as ``POST
/voice/audio`` does. When TraceBot asks back ("Did you mean lot …?" or "lot X or
lot Y?"), the bench answers as the speaker would: yes, or the lot it meant.

Per voice and bandwidth it prints: right (answered about the lot said), confirmed
(right after one confirmation), nothing heard (asked again, or no lot offered
that was said), wrong (answered about another lot without asking: must be 0),
and the p95 time per question (recognition and answer, warm).

    python bench/voice_real_bench.py [--per-voice 8] [--plant /tmp/tracebot-voice-plant]

The recordings are CC BY-SA 4.0 (see their SOURCES.md); the questions made of
them are kept in memory only.
"""

from __future__ import annotations

import argparse
import io
import random
import subprocess
import sys
import time
import wave
from datetime import date
from pathlib import Path

import numpy as np
import soxr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.listen import Hearing  # noqa: E402
from bot.service import TraceService  # noqa: E402
from storage.writes import lot_codes  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "speech-samples"
SPEAKERS = ("jackson", "nicolas", "yweweler")
ESPEAK = ("en-us", "en-gb-x-rp")
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
CARRIERS = ("who got lot", "what went into lot", "when does lot")


def ensure_plant(folder: Path) -> str:
    """The 300,000-lot plant of bench/make_plant.py, generated and imported once."""
    database = folder / "plant.db"
    url = f"sqlite:///{database}"
    if not (folder / "imported").exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "make_plant.py"), str(folder)], check=True
        )
        tracebot = [sys.executable, "-m", "bot.cli", "--db", url]
        subprocess.run([*tracebot, "init"], check=True, cwd=ROOT)
        subprocess.run(
            [*tracebot, "import", "csv", str(folder), "--history", "--json"],
            check=False,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        (folder / "imported").write_text("ok")
    return url


def read(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as audio:
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16)
        return samples, audio.getframerate()


def espeak(text: str, voice: str = "en-us") -> tuple[np.ndarray, int]:
    done = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True)
    return read(done.stdout)


def human(code: str, speaker: str, rng: random.Random) -> np.ndarray:
    """A lot code's letters by espeak-ng, its digits by a real speaker, at 16 kHz."""
    parts = []
    for char in code:
        if char.isdigit():
            sound, rate = read((SAMPLES / f"{char}_{speaker}_{rng.randrange(5)}.wav").read_bytes())
        elif char.isalpha():
            sound, rate = espeak(char.lower())
        else:
            continue
        parts += [soxr.resample(sound, rate, 16000).astype(np.int16), pause(rng)]
    return np.concatenate(parts)


def pause(rng: random.Random) -> np.ndarray:
    """A short pause with a faint room noise floor (a real line is never digital silence)."""
    length = int(16000 * rng.uniform(0.08, 0.2))
    return (np.random.default_rng(rng.randrange(1 << 30)).standard_normal(length) * 20).astype(
        np.int16
    )


def wav(samples: np.ndarray, rate: int, *, mulaw: bool) -> bytes:
    """16-bit PCM at 16 kHz, or telephone audio: 8 kHz µ-law (format tag 7)."""
    if not mulaw:
        out = io.BytesIO()
        with wave.open(out, "wb") as audio:
            audio.setnchannels(1)
            audio.setsampwidth(2)
            audio.setframerate(rate)
            audio.writeframes(samples.astype(np.int16).tobytes())
        return out.getvalue()
    narrow = soxr.resample(samples.astype(np.float32), rate, 8000)
    coded = bytes(_mulaw(int(v)) for v in np.clip(narrow, -32635, 32635))
    fmt = (7).to_bytes(2, "little") + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little")
    fmt += (8000).to_bytes(4, "little") + (1).to_bytes(2, "little") + (8).to_bytes(2, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt
    body += b"data" + len(coded).to_bytes(4, "little") + coded
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def _mulaw(value: int) -> int:
    sign = 0x80 if value < 0 else 0
    magnitude = min(abs(value), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def ask(hearing: Hearing, audio: bytes, code: str, session: str) -> tuple[str, float]:
    """right, confirmed, nothing or wrong, and the time of the first answer."""
    started = time.perf_counter()
    answer = hearing.answer(audio, today=date(2026, 10, 20), conversation=session)
    took = time.perf_counter() - started
    if answer.ok:
        return ("right" if answer.query.get("lots") == [code] else "wrong"), took
    offered = [c["lot"] for c in answer.data.get("candidates", [])][:2]
    if answer.data.get("reason") != "confirm lot" or code not in offered:
        return "nothing", took
    reply = (
        "yes"
        if "Did you mean" in answer.text
        else ("the first" if offered[0] == code else "the second")
    )
    after = hearing.service.hear(reply, today=date(2026, 10, 20), conversation=session)
    if after.ok and after.query.get("lots") == [code]:
        return "confirmed", took
    return ("wrong" if after.ok else "nothing"), took


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument(
        "--per-voice", type=int, default=8, help="questions per voice and bandwidth"
    )
    options.add_argument("--plant", type=Path, default=Path("/tmp/tracebot-voice-plant"))
    options.add_argument("--seed", type=int, default=15)
    args = options.parse_args()
    url = ensure_plant(args.plant)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    service = TraceService.open(url)
    opened = time.perf_counter()
    hearing = Hearing(service)
    hearing.listener()
    print(
        f"plant: {len(lot_codes(url))} lots; service open in {opened - started:.1f} s, "
        f"recogniser ready {time.perf_counter() - opened:.1f} s after"
    )
    print(f"shapes: {', '.join(hearing.listener().shapes)}")
    codes = [row[1] for row in lot_codes(url)]
    print(
        f"{'voice':<22}{'band':<12}{'right':>6}{'confirmed':>10}{'nothing':>8}{'wrong':>6}{'p95 s':>7}"
    )
    for voice in (*SPEAKERS, *ESPEAK):
        for band in ("16 kHz", "8k µ-law"):
            tally = {"right": 0, "confirmed": 0, "nothing": 0, "wrong": 0}
            times = []
            for number in range(args.per_voice):
                code = rng.choice(codes)
                carrier = CARRIERS[number % len(CARRIERS)]
                if voice in SPEAKERS:
                    head, rate = espeak(carrier)
                    head = soxr.resample(head, rate, 16000).astype(np.int16)
                    samples = np.concatenate([head, pause(rng), human(code, voice, rng)])
                else:
                    said = " ".join(
                        DIGITS[int(c)] if c.isdigit() else c.lower() for c in code if c.isalnum()
                    )
                    samples, rate = espeak(f"{carrier} {said}", voice)
                    samples = soxr.resample(samples, rate, 16000).astype(np.int16)
                audio = wav(samples, 16000, mulaw=band != "16 kHz")
                outcome, took = ask(hearing, audio, code, f"{voice}-{band}-{number}")
                tally[outcome] += 1
                times.append(took)
            p95 = sorted(times)[min(len(times) - 1, int(0.95 * len(times)))]
            name = f"{voice} (FSDD)" if voice in SPEAKERS else f"espeak-ng {voice}"
            print(
                f"{name:<22}{band:<12}{tally['right']:>6}{tally['confirmed']:>10}"
                f"{tally['nothing']:>8}{tally['wrong']:>6}{p95:>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
