"""`tracebot ask --json` on an imported random plant, against answers computed here.

The plant is random but seeded: a layered genealogy with diamonds, partial
shipments and received lots. The test computes every expected answer itself from
the CSV rows with a plain breadth-first search, independent of the engine.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from storage.importers.csv_import import import_csv_dir
from tests.conftest import write_csv

pytestmark = pytest.mark.e2e


def random_plant(directory: Path, seed: int = 11) -> dict[str, list[list[str]]]:
    rng = random.Random(seed)
    items = [["sku", "name", "kind", "uom", "shelf_life_days", "gtin"]]
    items += [[f"RAW{n}", f"Raw material {n}", "raw", "kg", "365", ""] for n in range(5)]
    items += [[f"WIP{n}", f"Mix {n}", "wip", "kg", "60", ""] for n in range(3)]
    items += [[f"FIN{n}", f"Product {n}", "finished", "ea", "180", ""] for n in range(4)]
    parties = [["id", "name", "kind", "gln", "email", "phone"]]
    parties += [
        [f"S{n}", f"Supplier {n}", "supplier", "", f"s{n}@example.com", ""] for n in range(4)
    ]
    parties += [
        [f"C{n}", f"Customer {n}", "customer", "", f"c{n}@example.com", ""] for n in range(6)
    ]
    parties += [["PLANT", "Main plant", "site", "", "", ""]]
    lots = [
        ["lot_code", "sku", "quantity", "uom", "produced_on", "received_on", "expires_on", "site"]
    ]
    receipts = [
        [
            "lot_code",
            "sku",
            "supplier",
            "supplier_lot",
            "quantity",
            "uom",
            "received_on",
            "site",
            "reference",
        ]
    ]
    consumption = [["output_lot", "input_lot", "quantity", "uom", "at", "work_order"]]
    shipments = [["lot_code", "to", "from_site", "quantity", "uom", "shipped_on", "reference"]]
    raw = [f"R{n:03d}" for n in range(40)]
    wip = [f"W{n:03d}" for n in range(40)]
    fin = [f"F{n:03d}" for n in range(60)]
    for code in raw:
        receipts.append(
            [
                code,
                f"RAW{rng.randrange(5)}",
                f"S{rng.randrange(4)}",
                "X" + code,
                "1000",
                "kg",
                "2026-09-01",
                "PLANT",
                "PO",
            ]
        )
    for code in wip:
        lots.append([code, f"WIP{rng.randrange(3)}", "500", "kg", "2026-10-01", "", "", "PLANT"])
        for source in rng.sample(raw, 3):
            consumption.append([code, source, "10", "kg", "2026-10-01T08:00:00", "WO-" + code])
    for code in fin:
        lots.append([code, f"FIN{rng.randrange(4)}", "100", "ea", "2026-10-10", "", "", "PLANT"])
        # a product from two mixes and a raw material: diamonds are common
        for source in [*rng.sample(wip, 2), rng.choice(raw)]:
            consumption.append([code, source, "5", "kg", "2026-10-10T08:00:00", "WO-" + code])
        for part in range(rng.randrange(3)):
            shipments.append(
                [
                    code,
                    f"C{rng.randrange(6)}",
                    "PLANT",
                    "20",
                    "ea",
                    f"2026-10-1{part + 1}",
                    f"BOL-{code}-{part}",
                ]
            )
    files = {
        "items.csv": items,
        "parties.csv": parties,
        "lots.csv": lots,
        "receipts.csv": receipts,
        "consumption.csv": consumption,
        "shipments.csv": shipments,
    }
    for name, rows in files.items():
        write_csv(directory, name, rows)
    return files


def closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, frontier = set(), [start]
    while frontier:
        for nxt in edges[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


def test_ask_json_matches_independent_answers(database: str, tmp_path: Path) -> None:
    files = random_plant(tmp_path / "plant")
    assert import_csv_dir(database, tmp_path / "plant").rejected == []
    down: dict[str, set[str]] = defaultdict(set)
    up: dict[str, set[str]] = defaultdict(set)
    for output_lot, input_lot, *_ in files["consumption.csv"][1:]:
        down[input_lot].add(output_lot)
        up[output_lot].add(input_lot)
    customer_name = {row[0]: row[1] for row in files["parties.csv"][1:]}
    shipped: dict[str, set[str]] = defaultdict(set)
    for lot, to, *_ in files["shipments.csv"][1:]:
        shipped[lot].add(customer_name[to])
    supplier_of = {row[0]: customer_name[row[2]] for row in files["receipts.csv"][1:]}
    sample = ["R000", "R007", "R021", "W003", "W017", "F005", "F042"]
    questions = [f"who got lot {lot}?" for lot in sample] + [
        f"what went into lot {lot}?" for lot in sample
    ]

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "--db",
            database,
            "ask",
            "--json",
            "--today",
            "2026-11-25",
        ],
        input="\n".join(questions),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = [json.loads(line) for line in result.stdout.splitlines()]

    assert len(answers) == len(questions)
    for lot, answer in zip(sample, answers[: len(sample)], strict=True):
        below = closure(lot, down)
        assert answer["ok"] is True
        assert answer["intent"] == "trace_forward"
        assert answer["data"]["downstream_lots"] == sorted(below)
        assert answer["data"]["customers"] == sorted(
            set().union(*(shipped[x] for x in below | {lot}))
        )
    for lot, answer in zip(sample, answers[len(sample) :], strict=True):
        above = closure(lot, up)
        assert answer["intent"] == "trace_backward"
        assert answer["data"]["upstream_lots"] == sorted(above)
        assert sorted(line["lot"] for line in answer["data"]["inputs"]) == sorted(up[lot])
        assert answer["data"]["suppliers"] == sorted(
            {supplier_of[x] for x in above | {lot} if x in supplier_of}
        )


def test_ask_unknown_lot_exits_1_with_a_reason(database: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", database, "ask", "who got lot 9999?", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    answer = json.loads(result.stdout)
    assert result.returncode == 1
    assert (answer["ok"], answer["text"]) == (False, "I can't find lot 9999.")
    assert result.stderr.strip() == "tracebot: I can't find lot 9999."
