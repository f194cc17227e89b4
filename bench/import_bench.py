"""CSV import figures: `tracebot import csv` against a bare sqlite3 load, side by side.

On the plant of ``bench/make_plant.py`` (300,000 lots and over 1,000,000
consumption rows by default), in one run:

1. baseline: Python's sqlite3 reads the same CSV files with the csv module and
   ``executemany``s every row into plain tables (the same columns, as text and
   numbers) with an index on every code column, one transaction per file;
2. `tracebot import csv` into a fresh SQLite database, in its own process, with
   its peak memory;
3. the same import again (idempotent: nothing changes), and the counts.

Prints rows per second, the ratio of the two load times (target <= 5) and peak
memory (target < 2 GB).

Usage: python bench/import_bench.py [--dir bench/out/plant] [--lots N] [--links N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = (
    "items.csv",
    "parties.csv",
    "lots.csv",
    "receipts.csv",
    "consumption.csv",
    "shipments.csv",
    "qc.csv",
)
INDEXED = ("sku", "id", "lot_code", "output_lot", "input_lot", "supplier", "to")


def baseline(directory: Path, database: Path) -> tuple[float, int]:
    """Bare sqlite3: every row of every file into plain indexed tables."""
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    total = 0
    for name in FILES:
        path = directory / name
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            table = name.removesuffix(".csv")
            columns = ", ".join(f'"{column}"' for column in header)
            connection.execute(f"CREATE TABLE {table} ({columns})")
            for column in header:
                if column in INDEXED:
                    connection.execute(f'CREATE INDEX ix_{table}_{column} ON {table} ("{column}")')
            marks = ", ".join("?" * len(header))
            with connection:
                cursor = connection.executemany(f"INSERT INTO {table} VALUES ({marks})", reader)
                total += cursor.rowcount
    connection.close()
    return time.perf_counter() - started, total


def tracebot(*args: str) -> tuple[float, float, str]:
    """Run `tracebot ARGS` in its own process: wall seconds, its peak MiB, stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, stdout=out, stderr=err
        )
        # wait4 gives this one child's resource usage: its own peak memory.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode not in (0, 1):
            raise SystemExit(f"tracebot {' '.join(args)} failed:\n{err.read()}")
        return elapsed, usage.ru_maxrss / 1024, out.read()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "plant")
    parser.add_argument("--lots", type=int, default=300_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    args = parser.parse_args()
    meta_path = args.dir / "bench_meta.json"
    if not meta_path.exists() or json.loads(meta_path.read_text())["lots"] != args.lots:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "make_plant.py"),
                str(args.dir),
                "--lots",
                str(args.lots),
                "--links",
                str(args.links),
            ],
            check=True,
        )
    counts = json.loads(meta_path.read_text())["counts"]
    rows = sum(counts.get(name, 0) for name in FILES)
    print(
        f"plant: {', '.join(f'{name} {count:,}' for name, count in counts.items())}; {rows:,} rows"
    )

    with tempfile.TemporaryDirectory(prefix="tracebot-bench-") as folder:
        base_seconds, loaded = baseline(args.dir, Path(folder) / "bare.db")
        url = f"sqlite:///{Path(folder) / 'tracebot.db'}"
        tracebot("--db", url, "init")
        seconds, peak, report = tracebot("--db", url, "import", "csv", str(args.dir), "--json")
        again, again_peak, again_report = tracebot(
            "--db", url, "import", "csv", str(args.dir), "--json"
        )
        _, _, stats = tracebot("--db", url, "stats", "--json")
        first, second = json.loads(report), json.loads(again_report)

    print(f"\n{'load':28} {'seconds':>8} {'rows/s':>10}")
    print(f"{'bare sqlite3 executemany':28} {base_seconds:8.1f} {loaded / base_seconds:10,.0f}")
    print(f"{'tracebot import csv':28} {seconds:8.1f} {rows / seconds:10,.0f}")
    print(f"{'tracebot import csv, again':28} {again:8.1f} {rows / again:10,.0f}")
    for file in first["files"]:
        print(f"  {file['file']:18} {file['rows']:>9,} rows {file['seconds']:6.1f} s")
    ratio = seconds / base_seconds
    print(f"\nratio tracebot / bare: {ratio:.2f} (target <= 5): {'ok' if ratio <= 5 else 'MISSED'}")
    print(
        f"peak memory of the import: {peak:,.0f} MiB (target < 2048): {'ok' if peak < 2048 else 'MISSED'}; again: {again_peak:,.0f} MiB"
    )
    changed = sum(file["inserted"] + file["updated"] for file in second["files"])
    print(
        f"rejected rows: {len(first['rejected'])}; alerts raised: {first['alerts']}; rows changed by the second import: {changed}"
    )
    print(f"stats: {stats.strip()}")


if __name__ == "__main__":
    main()
