"""Alert delivery with two `tracebot serve` workers on one database and a Slack stand-in.

A plant from bench/make_plant.py is loaded (its first import: history), then two
workers start against the same database (PostgreSQL when TRACEBOT_BENCH_POSTGRES_URL
or TRACEBOT_TEST_POSTGRES_URL names a server, else one SQLite file) and the
recording Slack stand-in of the tests. It prints:

1. latency: failed QC results sent one at a time, alternately to each worker, each
   on its own lot; the time from the POST to its alert's post in the channel
   (p50, p95, p99; target p99 <= 1 s);
2. load with a failing Slack: 1,000 failed QC results (in requests of 10, to both
   workers at once) while every third chat.postMessage fails; then Slack recovers
   (no more failures) and the bench waits until every alert is delivered; it prints
   how many alerts were raised, posted, folded into a post of their problem, lost
   (never delivered) and duplicated (posted twice), and how long after Slack
   recovered the last one went out (target: 0 lost, 0 duplicated, within 2 min).

    python bench/alert_delivery_bench.py [--lots 20000] [--latency 100] [--load 1000]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from make_plant import generate  # noqa: E402
from sqlalchemy import text  # noqa: E402

from storage.db import init_schema, make_engine  # noqa: E402
from storage.importers.csv_import import import_csv_dir  # noqa: E402
from tests.e2e.servers import tracebot_server  # noqa: E402
from tests.e2e.slack_stub import SlackStub  # noqa: E402

TOKEN = "xoxb-bench"
KEY = "bench-key"
CHANNEL = "C0BENCH"


def _database(folder: Path) -> str:
    """A fresh database: on the PostgreSQL server if one is named, else SQLite."""
    admin = os.environ.get("TRACEBOT_BENCH_POSTGRES_URL") or os.environ.get(
        "TRACEBOT_TEST_POSTGRES_URL"
    )
    if not admin:
        return f"sqlite:///{folder / 'plant.db'}"
    name = f"alert_bench_{os.getpid()}"
    with make_engine(admin).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.rsplit("/", 1)[0] + f"/{name}"


def _lots(plant: Path, count: int) -> list[str]:
    """Finished lots of the plant, as many as asked."""
    with (plant / "lots.csv").open(encoding="utf-8") as handle:
        rows = [r["lot_code"] for r in csv.DictReader(handle) if r["sku"].startswith("FG-")]
    return rows[-count:]


def _failure(lot: str, test: str, day: str) -> dict[str, str]:
    return {
        "type": "qc",
        "lot_code": lot,
        "test": test,
        "result": "fail",
        "value": "detected",
        "spec": "absent",
        "performed_by": "Bench lab",
        "at": f"{day}T08:00:00",
    }


def _posted(stub: SlackStub) -> Counter[int]:
    """Alert ids of the messages that reached the channels (a refused call is none)."""
    with stub._lock:
        messages = [message for history in stub.history.values() for message in history]
    return Counter(
        message["metadata"]["event_payload"]["alert_id"]
        for message in messages
        if (message.get("metadata") or {}).get("event_type") == "tracebot_alert"
    )


def _undelivered(url: str) -> int:
    with make_engine(url).connect() as connection:
        return int(
            connection.execute(
                text("select count(*) from alert where status = 'open' and delivered_at is null")
            ).scalar_one()
        )


def latency(workers: list[str], stub: SlackStub, lots: list[str], day: str) -> list[float]:
    """Seconds from each POST to the post that carries its test's name."""
    times = []
    for index, lot in enumerate(lots):
        test = f"listeria-{index}"
        worker = workers[index % len(workers)]
        started = time.perf_counter()
        response = httpx.post(
            f"{worker}/api/events",
            json=[_failure(lot, test, day)],
            headers={"X-API-Key": KEY},
            timeout=30,
        )
        response.raise_for_status()
        stub.wait_for(
            "chat.postMessage",
            timeout=30,
            where=lambda c, test=test: f"{test} " in str(c.params.get("text", "")),
        )
        times.append(time.perf_counter() - started)
    return times


def load(
    workers: list[str], stub: SlackStub, url: str, lots: list[str], count: int, day: str
) -> None:
    """``count`` failures while every third post fails; then Slack recovers."""
    raised_before = _count_alerts(url)
    posted_before = sum(_posted(stub).values())
    stub.fail_every("chat.postMessage", 3)
    batches = [
        [_failure(lots[(start + i) % len(lots)], f"load-{start + i}", day) for i in range(10)]
        for start in range(0, count, 10)
    ]

    def send(index: int) -> int:
        response = httpx.post(
            f"{workers[index % len(workers)]}/api/events",
            json=batches[index],
            headers={"X-API-Key": KEY},
            timeout=60,
        )
        response.raise_for_status()
        return int(response.json()["alerts"])

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        raised = sum(pool.map(send, range(len(batches))))
    recorded = time.perf_counter() - started
    time.sleep(5)  # Slack keeps failing every third call a while longer
    stub.fail_every("chat.postMessage", 0)
    recovered = time.perf_counter()
    deadline = recovered + 300
    while _undelivered(url) and time.perf_counter() < deadline:
        time.sleep(0.5)
    drained = time.perf_counter() - recovered
    time.sleep(3)  # a double post would show by now
    posted = _posted(stub)
    doubles = sum(1 for n in posted.values() if n > 1)
    total = _count_alerts(url) - raised_before
    lost = _undelivered(url)
    with make_engine(url).connect() as connection:
        failed_tries = int(
            connection.execute(
                text("select coalesce(sum(delivery_attempts), 0) from alert")
            ).scalar_one()
        )
    new_posts = sum(posted.values()) - posted_before
    print(
        f"load: {count} failed QC results in {len(batches)} requests, recorded in "
        f"{recorded:.1f} s; {raised} alerts raised ({total} rows), {new_posts} posts "
        f"(the rest folded into their problem's post), {lost} lost, {doubles} duplicated; "
        f"{failed_tries} delivery attempts in all; every alert out {drained:.1f} s after "
        "Slack recovered"
    )


def _count_alerts(url: str) -> int:
    with make_engine(url).connect() as connection:
        return int(connection.execute(text("select count(*) from alert")).scalar_one())


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lots", type=int, default=20_000)
    options.add_argument("--links", type=int, default=60_000)
    options.add_argument("--latency", type=int, default=100)
    options.add_argument("--load", type=int, default=1_000)
    options.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "delivery-plant")
    args = options.parse_args()
    if not (args.dir / "lots.csv").exists():
        generate(args.dir, lots=args.lots, links=args.links, seed=11)
    day = (date.today() - timedelta(days=1)).isoformat()
    with tempfile.TemporaryDirectory() as folder:
        url = _database(Path(folder))
        init_schema(url)
        started = time.perf_counter()
        import_csv_dir(url, args.dir)  # a first import: history, one summary post
        print(
            f"database: {url.split('://')[0]}; plant of {args.lots:,} lots loaded in "
            f"{time.perf_counter() - started:.1f} s"
        )
        stub = SlackStub(TOKEN).start()
        environment = {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "bench-secret",
            "SLACK_API_URL": stub.api_url,
            "TRACEBOT_ALERT_CHANNEL": CHANNEL,
            "TRACEBOT_API_KEYS": f"bench:{KEY}",
            "TRACEBOT_DIGEST_TIME": "off",
        }
        try:
            with (
                tracebot_server(url, environment, log=Path(folder) / "a.log") as first,
                tracebot_server(url, environment, log=Path(folder) / "b.log") as second,
            ):
                stub.wait_for("chat.postMessage", timeout=60)  # the history summary
                lots = _lots(args.dir, args.latency + 200)
                times = latency([first, second], stub, lots[: args.latency], day)
                cuts = statistics.quantiles(times, n=100)
                print(
                    f"latency over {len(times)} failed QC results, two workers: p50 "
                    f"{statistics.median(times) * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, "
                    f"p99 {cuts[98] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
                )
                load([first, second], stub, url, lots[args.latency :], args.load, day)
        finally:
            stub.stop()


if __name__ == "__main__":
    main()
