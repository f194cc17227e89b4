"""How well TraceBot understands questions: the labelled corpus, scored.

Parses every utterance of tests/data/utterances.jsonl (or one split of it) with the
demo plant's gazetteer and its lot codes (the database's part), as the service does,
and prints per-intent precision and
recall, intent accuracy, exact lot extraction, party/item and date-window accuracy
(each by style: typed, spoken), and the parse time per question (p50/p99, warm).

    python bench/intent_report.py [--split dev|train|all] [--errors]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intents.model import INTENTS  # noqa: E402
from intents.text import Gazetteer, Parser  # noqa: E402
from storage.demo_plant import ITEMS, MADE, PARTIES, RECEIPTS  # noqa: E402
from trace_engine.genealogy import plain_code  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "utterances.jsonl"
TODAY = date(2026, 11, 25)


def _covers(parse: dict[str, object], intent: object) -> tuple[object, object]:
    """The days a window covers as the answer applies it: an open end of a window in
    the past is today ("since september"), an open start of an expiry window is today
    ("by friday")."""
    since, until = parse["since"], parse["until"]
    if since is not None and until is None and intent != "expiring":
        until = TODAY.isoformat()
    if until is not None and since is None and intent == "expiring":
        since = TODAY.isoformat()
    return since, until


def plant_parser() -> tuple[Parser, Callable[[str], bool], Callable[[list[str]], list[str]]]:
    """A parser with the demo plant's names, whether it has a lot of a code, and codes
    as the database resolves them (separators and case ignored)."""
    gazetteer = Gazetteer.of([(p[1], p[2]) for p in PARTIES], [i[1] for i in ITEMS])
    codes = {row[0].upper() for row in MADE + RECEIPTS}
    real = {plain_code(code): code for code in codes}

    def is_lot(code: str) -> bool:
        return code.upper() in codes

    def as_looked_up(lots: list[str]) -> list[str]:
        return [code if code in codes else real.get(plain_code(code), code) for code in lots]

    return Parser(gazetteer), is_lot, as_looked_up


def load(split: str, corpus: Path = CORPUS) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    sites = {party[1] for party in PARTIES if party[2] == "site"}
    for row in rows:  # a round labelled before the site slot names a site as the party
        if "site" not in row:
            row["site"] = row["party"] if row["party"] in sites else None
            row["party"] = None if row["party"] in sites else row["party"]
    return [row for row in rows if split == "all" or row["split"] == split]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--split", choices=("dev", "train", "all"), default="all")
    options.add_argument("--errors", action="store_true", help="list every wrong parse")
    options.add_argument("--corpus", type=Path, default=CORPUS, help="another labelled file")
    args = options.parse_args()
    rows = load(args.split, args.corpus)
    parser, is_lot, as_looked_up = plant_parser()

    for row in rows[:50]:  # warm up
        parser.parse(str(row["text"]), today=TODAY, is_lot=is_lot)

    timings: list[float] = []
    others: list[str] = []

    def is_lot_all(codes: set[str]) -> bool:
        return all(is_lot(code) for code in codes)

    counts: Counter[tuple[str, str]] = Counter()
    styles: Counter[tuple[str, str]] = Counter()
    for row in rows:
        started = time.perf_counter()
        got = parser.parse(str(row["text"]), today=TODAY, is_lot=is_lot).as_dict()
        timings.append((time.perf_counter() - started) * 1000)
        style = str(row["style"])
        named, read = set(as_looked_up(row["lots"])), set(as_looked_up(got["lots"]))
        if got["intent"] != "unknown" and read - named and is_lot_all(read - named):
            others.append(str(row["text"]))  # a real lot the question did not name
        checks = {
            "intent": got["intent"] == row["intent"],
            "lots": as_looked_up(got["lots"]) == as_looked_up(row["lots"]),
            "party": got["party"] == row["party"],
            "item": got["item"] == row["item"],
            "site": got["site"] == row["site"],
            "window": _covers(got, row["intent"]) == _covers(row, row["intent"]),
        }
        for name, right in checks.items():
            styles[(style, name)] += right
            styles[("all", name)] += right
        styles[(style, "n")] += 1
        styles[("all", "n")] += 1
        counts[("true", str(row["intent"]))] += 1
        counts[("predicted", str(got["intent"]))] += 1
        if checks["intent"]:
            counts[("right", str(row["intent"]))] += 1
        if args.errors and not all(checks.values()):
            wrong = {k: (got[k], row[k]) for k, ok in checks.items() if not ok and k != "window"}
            if not checks["window"]:
                wrong["window"] = ((got["since"], got["until"]), (row["since"], row["until"]))
            print(
                f"  {row['text']!r}: "
                + "; ".join(f"{k} {g!r} != {w!r}" for k, (g, w) in wrong.items())
            )

    print(f"\n{len(rows)} utterances ({args.split} split), today {TODAY}")
    print(f"{'intent':<16}{'n':>5}{'precision':>11}{'recall':>8}")
    for intent in INTENTS:
        n = counts[("true", intent)]
        if not n and not counts[("predicted", intent)]:
            continue
        right = counts[("right", intent)]
        predicted = counts[("predicted", intent)]
        precision = right / predicted if predicted else 0.0
        print(f"{intent:<16}{n:>5}{precision:>11.1%}{right / n if n else 0.0:>8.1%}")
    print(
        f"\n{'':<8}{'n':>5}{'intent':>9}{'lots':>9}{'party':>9}{'item':>9}{'site':>9}{'window':>9}"
    )
    for style in ("typed", "spoken", "all"):
        n = styles[(style, "n")]
        if n:
            cells = "".join(
                f"{styles[(style, k)] / n:>9.1%}"
                for k in ("intent", "lots", "party", "item", "site", "window")
            )
            print(f"{style:<8}{n:>5}{cells}")
    print(f"\nanswers about a real lot the question did not name: {len(others)}")
    for text in others:
        print(f"  {text!r}")
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"\nparse time per question: p50 {statistics.median(timings):.2f} ms, p99 {p99:.2f} ms, max {timings[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
