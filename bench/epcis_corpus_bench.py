"""EPCIS documents written by other systems: how many load, how many are refused.

Every document of ``../shared/epcis-corpus`` (see its MANIFEST.tsv: public
documents from other projects, each marked valid or invalid) is imported into a
fresh SQLite database. It prints, per kind (document, query document, bare
event, XML) and expectation, how many loaded, were refused (with the JSON path or
XML line) or raised anything else (a traceback: a bug), then each document whose
outcome differs from its mark, with the reason, and the warnings given.

    python bench/epcis_corpus_bench.py [--corpus ../shared/epcis-corpus] [--verbose]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import init_schema  # noqa: E402
from storage.importers.epcis import EpcisError, import_epcis, read_epcis  # noqa: E402


def outcome(url: str, path: Path) -> tuple[str, str, int]:
    """(loaded | refused | traceback, the reason or the event count, warnings)."""
    try:
        report = import_epcis(url, read_epcis(path), source=path.name)
    except EpcisError as err:
        return "refused", str(err), 0
    except Exception as err:  # the bench counts what a user would have seen as a crash
        return "traceback", f"{type(err).__name__}: {err}", 0
    return "loaded", f"{report.events} events", len(report.warnings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "epcis-corpus")
    parser.add_argument("--verbose", action="store_true", help="every document's outcome")
    args = parser.parse_args()
    rows = list(csv.DictReader((args.corpus / "MANIFEST.tsv").open(), delimiter="\t"))
    tally: Counter[tuple[str, str, str]] = Counter()
    odd: list[str] = []
    warned = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for number, row in enumerate(rows):
            url = f"sqlite:///{Path(folder) / f'{number}.db'}"
            init_schema(url)
            result, why, warnings = outcome(url, args.corpus / row["file"])
            warned += warnings
            kind = "xml" if row["file"].startswith("xml/") else row["kind"]
            tally[(kind, row["expected"], result)] += 1
            right = (row["expected"] == "valid") == (result == "loaded")
            if args.verbose or not right or result == "traceback":
                odd.append(f"  {result:9} ({row['expected']}) {row['file']}: {why[:200]}")
    print(f"{len(rows)} documents in {time.perf_counter() - started:.1f} s; {warned} warnings")
    for expected in ("valid", "invalid"):
        total = sum(n for (_, e, _), n in tally.items() if e == expected)
        good = sum(
            n
            for (_, e, r), n in tally.items()
            if e == expected and (r == "loaded") == (expected == "valid")
        )
        verb = "loaded" if expected == "valid" else "refused"
        print(f"{expected}: {good} of {total} {verb} ({100 * good / max(total, 1):.1f} %)")
    for (kind, expected, result), count in sorted(tally.items()):
        print(f"  {kind:15} {expected:8} {result:9} {count}")
    tracebacks = sum(n for (_, _, r), n in tally.items() if r == "traceback")
    print(f"tracebacks: {tracebacks}")
    if odd:
        print("not as marked:")
        print("\n".join(odd))


if __name__ == "__main__":
    main()
