"""Trace query figures on a large plant: warm engine vs a recursive-CTE baseline.

Prints, on the plant of ``bench/make_plant.py`` (300,000 lots and 1,000,000
links by default), imported into SQLite:

* warm downstream and upstream latency of the in-memory engine, p50 and p99, over
  typical lots and the widest fan-out lots (targets: 5 ms and 50 ms);
* the same queries answered by SQL recursive CTEs on the same SQLite file, side by
  side, and the ratio of total times (target: engine at least 3 times faster);
* `tracebot ask` in a new process (target: within 2 s);
* resident memory of the process holding the engine (target: under 1.5 GB).

Usage: python bench/query_bench.py [--dir bench/out/plant] [--db bench/out/query.db]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRACEBOT = [sys.executable, "-m", "bot.cli"]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ensure_plant(directory: Path, lots: int, links: int) -> dict:
    meta_path = directory / "bench_meta.json"
    if not meta_path.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "make_plant.py"),
                str(directory),
                "--lots",
                str(lots),
                "--links",
                str(links),
            ],
            check=True,
        )
    return json.loads(meta_path.read_text())


def ensure_database(directory: Path, database: Path) -> str:
    url = f"sqlite:///{database}"
    marker = database.with_suffix(".imported")
    if marker.exists():
        subprocess.run([*TRACEBOT, "--db", url, "init"], check=True, cwd=ROOT)  # upgrade if older
    if not marker.exists():
        database.unlink(missing_ok=True)
        subprocess.run([*TRACEBOT, "--db", url, "init"], check=True, cwd=ROOT)
        started = time.perf_counter()
        subprocess.run(
            [*TRACEBOT, "--db", url, "import", "csv", str(directory), "--json"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        print(f"imported in {time.perf_counter() - started:.1f} s")
        marker.write_text("ok")
    return url


# --- the baseline: the same answers from recursive CTEs ----------------------------

DOWN_CTE = """
WITH RECURSIVE reach(id) AS (
    SELECT ?
    UNION
    SELECT link.output_lot_id FROM link JOIN reach ON link.input_lot_id = reach.id
)
SELECT lot.lot_code FROM reach JOIN lot ON lot.id = reach.id WHERE reach.id != ?
"""
DOWN_SHIPMENTS = """
WITH RECURSIVE reach(id) AS (
    SELECT ?
    UNION
    SELECT link.output_lot_id FROM link JOIN reach ON link.input_lot_id = reach.id
)
SELECT lot.lot_code, party.name, shipment.quantity, shipment.uom, shipment.shipped_on
FROM reach JOIN shipment ON shipment.lot_id = reach.id
JOIN lot ON lot.id = shipment.lot_id JOIN party ON party.id = shipment.party_id
ORDER BY shipment.shipped_on, lot.lot_code
"""
UP_CTE = """
WITH RECURSIVE reach(id) AS (
    SELECT ?
    UNION
    SELECT link.input_lot_id FROM link JOIN reach ON link.output_lot_id = reach.id
)
SELECT lot.lot_code FROM reach JOIN lot ON lot.id = reach.id WHERE reach.id != ?
"""
UP_RECEIPTS = """
WITH RECURSIVE reach(id) AS (
    SELECT ?
    UNION
    SELECT link.input_lot_id FROM link JOIN reach ON link.output_lot_id = reach.id
)
SELECT lot.lot_code, party.name, receipt.quantity, receipt.uom, receipt.received_on
FROM reach JOIN receipt ON receipt.lot_id = reach.id
JOIN lot ON lot.id = receipt.lot_id JOIN party ON party.id = receipt.supplier_id
ORDER BY receipt.received_on, lot.lot_code
"""
UP_INPUTS = """
SELECT lot.lot_code, item.name, link.quantity, link.uom FROM link
JOIN lot ON lot.id = link.input_lot_id JOIN item ON item.id = lot.item_id
WHERE link.output_lot_id = ?
"""


def cte_downstream(
    connection: sqlite3.Connection, lot_id: int
) -> tuple[list[str], list, list[str]]:
    lots = sorted(row[0] for row in connection.execute(DOWN_CTE, (lot_id, lot_id)))
    shipments = connection.execute(DOWN_SHIPMENTS, (lot_id,)).fetchall()
    return lots, shipments, sorted({row[1] for row in shipments})


def cte_upstream(
    connection: sqlite3.Connection, lot_id: int
) -> tuple[list[str], list, list, list[str]]:
    lots = sorted(row[0] for row in connection.execute(UP_CTE, (lot_id, lot_id)))
    inputs = connection.execute(UP_INPUTS, (lot_id,)).fetchall()
    receipts = connection.execute(UP_RECEIPTS, (lot_id,)).fetchall()
    return lots, inputs, receipts, sorted({row[1] for row in receipts})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "plant")
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "query.db")
    parser.add_argument("--lots", type=int, default=300_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    args.dir.parent.mkdir(parents=True, exist_ok=True)
    meta = ensure_plant(args.dir, args.lots, args.links)
    url = ensure_database(args.dir, args.db)

    import storage

    connection = sqlite3.connect(args.db)
    lot_ids = dict(connection.execute("SELECT lot_code, id FROM lot"))
    rng = random.Random(5)
    typical = [code for code in meta.get("sample_lots", []) if code in lot_ids][: args.sample]
    if len(typical) < args.sample:
        typical += rng.sample(sorted(lot_ids), args.sample - len(typical))
    hubs = [code for code in meta.get("hub_lots", []) if code in lot_ids]
    widest = connection.execute(
        "SELECT lot.lot_code, count(*) FROM link JOIN lot ON lot.id = link.input_lot_id GROUP BY link.input_lot_id ORDER BY count(*) DESC LIMIT 3"
    ).fetchall()
    hubs = list(dict.fromkeys([*hubs, *(code for code, _ in widest)]))
    sample = typical + hubs
    print(
        f"plant: {len(lot_ids):,} lots; sample: {len(typical)} typical lots + {len(hubs)} widest ({', '.join(f'{c}' for c in hubs)})"
    )

    before = rss_mib()
    started = time.perf_counter()
    genealogy = storage.load_genealogy(url)
    load_seconds = time.perf_counter() - started
    held = rss_mib()
    print(
        f"engine load: {load_seconds:.1f} s; resident memory {held:,.0f} MiB ({held - before:,.0f} MiB for the genealogy)"
    )

    widest_down = (
        max(len(genealogy.downstream(code).downstream_lots) for code in hubs) if hubs else 0
    )
    print(f"widest downstream scope: {widest_down:,} lots")

    timings: dict[str, list[float]] = {
        "engine down": [],
        "engine up": [],
        "cte down": [],
        "cte up": [],
    }
    for _ in range(args.repeat):
        for code in sample:
            started = time.perf_counter()
            genealogy.downstream(code)
            timings["engine down"].append(time.perf_counter() - started)
            started = time.perf_counter()
            genealogy.upstream(code)
            timings["engine up"].append(time.perf_counter() - started)
            lot_id = lot_ids[code]
            started = time.perf_counter()
            cte_downstream(connection, lot_id)
            timings["cte down"].append(time.perf_counter() - started)
            started = time.perf_counter()
            cte_upstream(connection, lot_id)
            timings["cte up"].append(time.perf_counter() - started)
    # Both sides must give the same lots and customers.
    for code in sample[:20] + hubs:
        engine = genealogy.downstream(code)
        lots, _, customers = cte_downstream(connection, lot_ids[code])
        assert list(engine.downstream_lots) == lots and list(engine.customers) == customers, code
        engine_up = genealogy.upstream(code)
        up_lots, _, _, suppliers = cte_upstream(connection, lot_ids[code])
        assert (
            list(engine_up.upstream_lots) == up_lots and list(engine_up.suppliers) == suppliers
        ), code

    print(f"\n{'query':14} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'total s':>8}")
    for name, values in timings.items():
        print(
            f"{name:14} {len(values):5d} {statistics.median(values) * 1e3:8.2f} {percentile(values, 0.99) * 1e3:8.2f} "
            f"{max(values) * 1e3:8.2f} {sum(values):8.2f}"
        )
    engine_total = sum(timings["engine down"]) + sum(timings["engine up"])
    cte_total = sum(timings["cte down"]) + sum(timings["cte up"])
    ratio = cte_total / engine_total
    worst_p50 = max(statistics.median(timings[k]) for k in ("engine down", "engine up")) * 1e3
    worst_p99 = max(percentile(timings[k], 0.99) for k in ("engine down", "engine up")) * 1e3
    print(f"\nengine p50 {worst_p50:.2f} ms (target <= 5): {'ok' if worst_p50 <= 5 else 'MISSED'}")
    print(f"engine p99 {worst_p99:.2f} ms (target <= 50): {'ok' if worst_p99 <= 50 else 'MISSED'}")
    print(
        f"CTE / engine total time: {ratio:.1f}x (target >= 3): {'ok' if ratio >= 3 else 'MISSED'}"
    )
    peak = peak_mib()
    print(
        f"engine process peak memory {peak:,.0f} MiB (target < 1536): {'ok' if peak < 1536 else 'MISSED'}"
    )

    cold = []
    for code in [typical[0], typical[len(typical) // 2], *hubs[:1]]:
        for question in (f"who got lot {code}?", f"what went into lot {code}?"):
            started = time.perf_counter()
            result = subprocess.run(
                [*TRACEBOT, "--db", url, "ask", question, "--json"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = time.perf_counter() - started
            answer = json.loads(result.stdout)
            cold.append(elapsed)
            print(f"new process: {question!r}: {elapsed:.2f} s, ok={answer['ok']}")
    print(
        f"tracebot ask in a new process: max {max(cold):.2f} s (target <= 2): {'ok' if max(cold) <= 2 else 'MISSED'}"
    )
    os._exit(0)


if __name__ == "__main__":
    main()
