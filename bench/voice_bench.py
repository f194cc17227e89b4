"""Phone calls: how fast the Twilio answer webhook replies, and how long its first sentence is.

Runs `tracebot serve` on the demo plant with a Twilio auth token, sends signed
``/voice/twilio/answer`` requests (as Twilio does after a speech ``<Gather>``) for
a set of spoken questions, and prints the reply time (Twilio's target: 1.5 s)
and the words of the first spoken sentence (target: at most 25).

    python bench/voice_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bot.http.voice import first_sentence_words  # noqa: E402
from tests.e2e.servers import demo_database, tracebot_server  # noqa: E402

TOKEN = "bench-twilio-token"
PUBLIC = "https://plant.example.com"
SAID = (
    "who got lot forty four seventy one",
    "what went into lot l two zero two four dash zero one one three",
    "when does lot four four eight zero expire",
    "did lot fifty one twenty pass q c",
    "mock recall on lot alpha lima mike dash five five three one",
    "what expires this week",
    "what did acme send us last month",
    "what do lots forty four seventy one and forty four eighty have in common",
    "reconcile lot forty four seventy one",
    "and where did it go",
)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=5)
    args = options.parse_args()
    validator = RequestValidator(TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        url = demo_database(Path(folder))
        environment = {"TWILIO_AUTH_TOKEN": TOKEN, "TRACEBOT_PUBLIC_URL": PUBLIC}
        with tracebot_server(url, environment) as base:
            times: list[float] = []
            words: list[int] = []
            for round_number in range(args.rounds):
                for speech in SAID:
                    form = {
                        "CallSid": f"CA{round_number}",
                        "From": "+15550199",
                        "SpeechResult": speech,
                        "Confidence": "0.9",
                    }
                    signature = validator.compute_signature(PUBLIC + "/voice/twilio/answer", form)
                    started = time.perf_counter()
                    response = httpx.post(
                        base + "/voice/twilio/answer",
                        data=form,
                        headers={"X-Twilio-Signature": signature},
                        timeout=30,
                    )
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
                    spoken = " ".join(
                        e.text or "" for e in ET.fromstring(response.text).iter("Say")
                    )
                    words.append(first_sentence_words(spoken))
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"{len(ms)} answers to /voice/twilio/answer, demo plant")
    print(
        f"  reply time: p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms"
    )
    print(f"  first sentence: at most {max(words)} words (median {statistics.median(words):.0f})")


if __name__ == "__main__":
    main()
