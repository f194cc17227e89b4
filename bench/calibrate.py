"""Fit the parser's confidence to how often it is right, and write intents/calibration.json.

The parses of labelled questions the parser was not trained on (the corpus's dev
split and every blind round in tests/data/blind) are scored right when intent and
lots are right (the two that decide which answer is given), then fitted by pooling
adjacent violators. Prints the reliability of the fit: for each band of reported
confidence, how many parses and the share right.

    python bench/calibrate.py [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intent_report import CORPUS, TODAY, load, plant_parser  # noqa: E402

from intents.calibration import STEPS_FILE, calibrated, fit  # noqa: E402

BLIND = ROOT / "tests" / "data" / "blind"


def labelled() -> list[dict[str, object]]:
    rows = load("dev", CORPUS)
    for path in sorted(BLIND.glob("*.jsonl")):
        rows += load("all", path)
    return rows


def reliability(pairs: list[tuple[float, bool]]) -> None:
    print(f"{'reported':<12}{'parses':>8}{'right':>8}")
    for low, high in ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
        band = [right for confidence, right in pairs if low <= confidence < high]
        if band:
            share = sum(band) / len(band)
            print(f"{low:.1f}-{min(high, 1.0):.1f}{len(band):>10}{share:>8.1%}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = options.parse_args()
    parser, is_lot, looked_up = plant_parser()
    raw: list[tuple[float, bool]] = []
    for row in labelled():
        got = parser.parse(str(row["text"]), today=TODAY, is_lot=is_lot)
        right = got.intent == row["intent"] and looked_up(list(got.lots)) == looked_up(
            list(row["lots"])  # type: ignore[arg-type]
        )
        raw.append((got.score or got.confidence, right))
    table = fit(raw)
    print(f"{len(raw)} held-out parses, {sum(r for _, r in raw)} right; {len(table)} steps")
    reliability([(calibrated(score, table), right) for score, right in raw])
    if not args.dry_run:
        STEPS_FILE.write_text(json.dumps(table) + "\n")
        print(f"wrote {STEPS_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
