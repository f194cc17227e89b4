"""EPCIS figures: a plant exported as one EPCIS 2.0 document and imported again.

1. generate a plant with ``bench/make_plant.py`` sized for about 100,000 events
   and import its CSV files;
2. `tracebot export epcis --all` (events per second, document size);
3. `tracebot import epcis` of that document into a fresh database, in its own
   process (events per second, peak memory), then the same import again (every
   event skipped), and a check that both databases hold the same counts.

Usage: python bench/epcis_bench.py [--lots 30000] [--links 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_bench import tracebot  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lots", type=int, default=30_000)
    parser.add_argument("--links", type=int, default=100_000)
    args = parser.parse_args()
    plant = ROOT / "bench" / "out" / f"epcis-plant-{args.lots}"
    if not (plant / "bench_meta.json").exists():
        import subprocess

        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "make_plant.py"),
                str(plant),
                "--lots",
                str(args.lots),
                "--links",
                str(args.links),
            ],
            check=True,
        )

    with tempfile.TemporaryDirectory(prefix="tracebot-epcis-") as folder:
        source = f"sqlite:///{Path(folder) / 'source.db'}"
        target = f"sqlite:///{Path(folder) / 'target.db'}"
        document = Path(folder) / "plant.jsonld"
        tracebot("--db", source, "init")
        csv_seconds, _, _ = tracebot("--db", source, "import", "csv", str(plant), "--json")
        export_seconds, export_peak, _ = tracebot(
            "--db", source, "export", "epcis", "--all", "--out", str(document)
        )
        events = len(json.loads(document.read_text())["epcisBody"]["eventList"])
        size = document.stat().st_size / 1024 / 1024
        tracebot("--db", target, "init")
        seconds, peak, report = tracebot("--db", target, "import", "epcis", str(document), "--json")
        again, _, again_report = tracebot(
            "--db", target, "import", "epcis", str(document), "--json"
        )
        _, _, source_stats = tracebot("--db", source, "stats", "--json")
        _, _, target_stats = tracebot("--db", target, "stats", "--json")

    first, second = json.loads(report), json.loads(again_report)
    print(f"plant: {args.lots:,} lots, CSV import {csv_seconds:.1f} s")
    print(
        f"export: {events:,} events, {size:.0f} MiB, {export_seconds:.1f} s ({events / export_seconds:,.0f} events/s), peak {export_peak:,.0f} MiB"
    )
    print(
        f"import: {first['events']:,} events in {seconds:.1f} s ({events / seconds:,.0f} events/s), peak {peak:,.0f} MiB"
    )
    print(
        f"import again: {second['events']} new, {second['skipped_events']:,} skipped, {again:.1f} s"
    )
    print(
        f"same counts after the round trip: {json.loads(source_stats) == json.loads(target_stats)}"
    )
    print(f"  source {source_stats.strip()}\n  target {target_stats.strip()}")


if __name__ == "__main__":
    main()
