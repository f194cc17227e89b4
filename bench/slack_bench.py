"""How fast TraceBot answers in Slack: acknowledgement, reply and alert latency.

Runs `tracebot serve` on the demo plant against the local Slack stand-in
(tests/e2e/slack_stub.py; needs the test extras), sends signed app_mention
events one after another and then in bursts, and prints:

- acknowledgement time (Slack wants 200 within 3 s),
- time from the event to the answer's chat.postMessage,
- time from a failed QC result (POST /api/events) to the alert's post.

    python bench/slack_bench.py [--questions 100] [--burst 20]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.e2e.servers import demo_database, tracebot_server  # noqa: E402
from tests.e2e.slack_stub import SlackStub  # noqa: E402
from tests.e2e.test_slack import (  # noqa: E402
    ALERTS,
    API_KEY,
    TOKEN,
    environment,
    event_body,
    mention,
    qc_failure,
    send_event,
)

QUESTIONS = (
    "who got lot 4471?",
    "what went into L-2024-0113?",
    "when does 4480 expire?",
    "did 5120 pass QC?",
    "mock recall on ALM-5531",
    "what expires in the next 30 days?",
)


def figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"{name}: p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms (n={len(ms)})"


def ask(base: str, stub: SlackStub, number: int, text: str) -> tuple[float, float]:
    ts = f"17000{number:05d}.000100"
    started = time.perf_counter()
    response = send_event(base, event_body(mention(text, ts=ts, channel="C0BENCH")))
    acknowledged = time.perf_counter() - started
    assert response.status_code == 200, response.text
    stub.wait_for(
        "chat.postMessage",
        where=lambda c: c.params.get("thread_ts") == ts and c.params.get("channel") == "C0BENCH",
        timeout=60,
    )
    return acknowledged, time.perf_counter() - started


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--questions", type=int, default=100)
    options.add_argument("--burst", type=int, default=20)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = demo_database(Path(folder))
        stub = SlackStub(TOKEN).start()
        try:
            with tracebot_server(url, environment(stub)) as base:
                stub.wait_for(
                    "chat.postMessage", 2, where=lambda c: c.params.get("channel") == ALERTS
                )
                acks, replies = [], []
                for number in range(args.questions):
                    ack, reply = ask(base, stub, number, QUESTIONS[number % len(QUESTIONS)])
                    acks.append(ack)
                    replies.append(reply)
                print(f"{args.questions} mentions, one at a time, demo plant")
                print("  " + figures("acknowledged", acks))
                print("  " + figures("answered (event to chat.postMessage)", replies))

                first = args.questions + 1
                with concurrent.futures.ThreadPoolExecutor(args.burst) as pool:
                    started = time.perf_counter()
                    results = list(
                        pool.map(
                            lambda n: ask(base, stub, n, QUESTIONS[n % len(QUESTIONS)]),
                            range(first, first + args.burst),
                        )
                    )
                    wall = time.perf_counter() - started
                print(f"{args.burst} mentions at once")
                print("  " + figures("acknowledged", [a for a, _ in results]))
                print(
                    "  " + figures("answered", [r for _, r in results]) + f"; all in {wall:.2f} s"
                )

                delays = []
                for number, test in enumerate(
                    ("aflatoxin", "moisture", "salmonella", "listeria", "metal")
                ):
                    lot = ("4471", "4480", "5133", "4402", "4398")[number]
                    started = time.perf_counter()
                    response = httpx.post(
                        f"{base}/api/events",
                        json=qc_failure(lot, test),
                        headers={"X-API-Key": API_KEY},
                    )
                    assert response.status_code == 201, response.text
                    stub.wait_for(
                        "chat.postMessage",
                        where=lambda c, lot=lot, test=test: (
                            c.params.get("channel") == ALERTS
                            and f"lot {lot}" in str(c.params.get("text"))
                            and test in str(c.params.get("text"))
                        ),
                        timeout=60,
                    )
                    delays.append(time.perf_counter() - started)
                print("5 failed QC results through POST /api/events")
                print("  " + figures("alert posted (event to chat.postMessage)", delays))
        finally:
            stub.stop()


if __name__ == "__main__":
    main()
