"""The demo plant: deterministic, loads cleanly and idempotently, answers the README."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import storage
from bot.service import TraceService
from storage.demo_plant import EXAMPLE_QUESTIONS, load_demo, write_demo_csv
from storage.stats import count_rows

ANCHOR = date(2026, 11, 25)


def test_write_demo_csv_is_deterministic(tmp_path: Path) -> None:
    write_demo_csv(tmp_path / "a", anchor=ANCHOR)
    write_demo_csv(tmp_path / "b", anchor=ANCHOR)

    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_load_demo_loads_cleanly_and_only_once(db_url: str) -> None:
    day, first = load_demo(db_url, anchor=ANCHOR)
    counts = count_rows(db_url)

    again_day, again = load_demo(db_url, anchor=date(2030, 1, 1))

    assert first.rejected == []
    assert (day, again_day) == (ANCHOR, ANCHOR)  # the first anchor sticks
    assert again.changed == 0
    assert count_rows(db_url) == counts
    assert counts == {
        "items": 12,
        "parties": 12,
        "lots": 23,
        "links": 30,
        "receipts": 13,
        "shipments": 8,
        "qc_checks": 11,
        "holds": 2,
        "alerts": 2,  # the failed moisture check on 5120, and 5133 shipped before release
    }


def test_every_example_question_has_an_answer(sqlite_url: str) -> None:
    load_demo(sqlite_url, anchor=ANCHOR)
    service = TraceService(storage.load_genealogy(sqlite_url), sqlite_url)

    answers = {q: service.ask(q, today=ANCHOR) for q in EXAMPLE_QUESTIONS}

    shared = answers.pop("what went into lot 12?")
    assert [c["sku"] for c in shared.data["candidates"]] == ["BASE-TOAST", "BAR-TRAIL-12"]
    for question, answer in answers.items():
        assert answer.ok, (question, answer.text)
        assert answer.intent not in ("unknown", "help"), question
    assert answers["who got lot 4471?"].data["customers"] == [
        "FreshMart Grocers",
        "Metro Food Distributors",
        "Sysco",
    ]
    assert [c["result"] for c in answers["did 5120 pass QC?"].data["checks"]] == ["fail"]
    assert [lot["lot"] for lot in answers["what expires in the next 7 days?"].data["lots"]] == [
        "4398",
        "4402",
    ]
    assert "ALM-5531" in answers["what do 4471 and 4480 have in common?"].data["common_lots"]
    assert answers["reconcile lot 4471"].data["on_hand"] == 476
    changes = answers["what changed in the honey almond granola recipe?"].data["changes"]
    assert [change["version"] for change in changes] == ["1", "2"]
