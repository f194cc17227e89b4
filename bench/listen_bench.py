"""Offline spoken questions: espeak-ng voices ask about every demo lot; did TraceBot hear the lot?

Synthesises each question with several espeak-ng voices and speeds, transcribes it
with pocketsphinx (constrained grammar) as `tracebot listen` and POST /voice/audio
do, answers it, and prints the share of questions whose answer names the right
lot, and the time per question (recognition and answer, warm).

    python bench/listen_bench.py [--voices en-us,en,...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.listen import Hearing  # noqa: E402
from bot.service import TraceService  # noqa: E402
from intents.speech import spoken_forms  # noqa: E402
from storage.demo_plant import load_demo  # noqa: E402

VOICES = ("en-us", "en", "en-gb-x-rp", "en-029", "en-gb-scotland", "en-us+f3")
SPEEDS = (145, 175)
TEMPLATES = (
    "who got lot {}",
    "what went into lot {}",
    "when does lot {} expire",
    "mock recall on lot {}",
    "hey tracebot did lot {} pass q c",
)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--voices", default=",".join(VOICES))
    options.add_argument("--speeds", default=",".join(map(str, SPEEDS)), help="words per minute")
    options.add_argument(
        "--shift", type=int, default=0, help="pair other questions and code forms with voices"
    )
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'plant.db'}"
        load_demo(url, anchor=date(2026, 11, 25))
        hearing = Hearing(TraceService.open(url))
        hearing.listener()  # built once, as a running server keeps it
        codes = sorted({code for code in hearing._codes if code != "12"})
        right = total = 0
        per_voice: dict[str, list[int]] = {}
        times: list[float] = []
        misses: list[str] = []
        for number, code in enumerate(codes):
            forms = spoken_forms(code)
            for voice_number, voice in enumerate(args.voices.split(",")):
                turn = number + voice_number + args.shift
                speeds = [int(s) for s in args.speeds.split(",")]
                template = TEMPLATES[turn % len(TEMPLATES)]
                said = template.format(forms[(turn + args.shift) % len(forms)])
                speed = speeds[turn % len(speeds)]
                wav = Path(folder) / "q.wav"
                subprocess.run(
                    ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), said], check=True
                )
                started = time.perf_counter()
                answer = hearing.answer(wav.read_bytes(), today=date(2026, 11, 25))
                times.append(time.perf_counter() - started)
                total += 1
                hit = answer.query.get("lots") == [code]
                per_voice.setdefault(voice, []).append(hit)
                if hit:
                    right += 1
                else:
                    misses.append(
                        f"{voice}@{speed} {said!r} -> heard {answer.query.get('transcript')!r}"
                    )
        ms = sorted(t * 1000 for t in times)
        print(
            f"{total} spoken questions ({len(codes)} lots x {len(args.voices.split(','))} voices)"
        )
        print(f"right lot: {right}/{total} = {right / total:.1%}")
        print(f"time per question: p50 {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms")
        for voice, hits in per_voice.items():
            print(f"  {voice}: {sum(hits)}/{len(hits)}")
        for miss in misses:
            print("  missed:", miss)


if __name__ == "__main__":
    main()
