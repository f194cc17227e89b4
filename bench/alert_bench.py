"""The history check of a large plant: its first import, and the rule run over it.

Generates a plant with bench/make_plant.py (or reuses one), imports it into a fresh
SQLite database as a plant's first import (history), and prints the import time,
the rule run over every lot (find and record), how many irregularities were
recorded as history by kind, and how many posts the channel would get (the target:
one summary post, not one per old event). Then it adds one failed QC check on a
shipped lot as news and prints how many posts that gives (one problem).

    python bench/alert_bench.py [--lots 300000] [--links 1000000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from make_plant import generate  # noqa: E402

from storage.alerts import check_rules, open_alerts  # noqa: E402
from storage.db import init_schema  # noqa: E402
from storage.importers.csv_import import import_csv_dir  # noqa: E402
from storage.outbox import due_alerts  # noqa: E402


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lots", type=int, default=300_000)
    options.add_argument("--links", type=int, default=1_000_000)
    options.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "alert-plant")
    args = options.parse_args()
    if not (args.dir / "lots.csv").exists():
        started = time.perf_counter()
        generate(args.dir, lots=args.lots, links=args.links, seed=7)
        print(f"generated {args.lots:,} lots in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'plant.db'}"
        init_schema(url)
        started = time.perf_counter()
        report = import_csv_dir(url, args.dir)  # a first import: history
        imported = time.perf_counter() - started
        started = time.perf_counter()
        again = check_rules(url, None)  # every rule over every lot, nothing new to record
        rules = time.perf_counter() - started
        history = open_alerts(url, history=True)
        posts = due_alerts(url, limit=100_000)
        print(f"first import: {imported:.1f} s, {report.alerts:,} irregularities recorded")
        print(f"rules over every lot again: {rules:.1f} s, {again} new")
        print("as history: " + json.dumps(Counter(a["kind"] for a in history)))
        print(f"posts due after the history import: {len(posts)} ({[a.kind for a in posts][:3]})")
        news = _fail_a_shipped_lot(args.dir, Path(folder) / "news")
        before = {a.id for a in due_alerts(url, limit=100_000)}
        import_csv_dir(url, news, history=False, horizon=None)
        new_posts = [a for a in due_alerts(url, limit=100_000) if a.id not in before]
        print(f"a new failed check on a shipped lot: {len(new_posts)} post(s)")


def _fail_a_shipped_lot(plant: Path, out: Path) -> Path:
    """qc.csv with one failed check on the most shipped lot of the plant."""
    with (plant / "shipments.csv").open(encoding="utf-8") as handle:
        shipped = Counter(row["lot_code"] for row in csv.DictReader(handle))
    lot, _ = shipped.most_common(1)[0]
    out.mkdir(parents=True)
    with (out / "qc.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lot_code", "test", "result", "value", "spec", "performed_by", "at"])
        writer.writerow(
            [lot, "salmonella", "fail", "detected", "absent", "Bench", "2026-12-01T08:00:00"]
        )
    return out


if __name__ == "__main__":
    main()
