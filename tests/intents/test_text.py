"""The plain parser on the contract's example phrasings and their variants."""

from __future__ import annotations

from datetime import date

import pytest

from intents.dates import window
from intents.text import Gazetteer, lot_codes, parse

TODAY = date(2026, 11, 25)  # a Wednesday
GAZETTEER = Gazetteer(
    parties=["Acme Grain Co.", "Sysco", "FreshMart Grocers"],
    items=["Honey Almond Granola 500 g", "Raisin Crunch Granola 500 g", "Clover honey"],
)


@pytest.mark.parametrize(
    ("text", "intent", "lots"),
    [
        ("who got lot 4471?", "trace_forward", ["4471"]),
        ("<@U024BE7LH> who got batch 4471", "trace_forward", ["4471"]),
        ("where did lot L-2024-0113 go?", "trace_forward", ["L-2024-0113"]),
        ("what went into lot 4471?", "trace_backward", ["4471"]),
        ("what went into L-2024-0113?", "trace_backward", ["L-2024-0113"]),
        ("when does 4471 expire?", "lot_info", ["4471"]),
        ("status of lot 4471", "lot_info", ["4471"]),
        ("did 4471 pass QC?", "qc_status", ["4471"]),
        ("mock recall on 4471", "recall", ["4471"]),
        ("recall lots 4471, 4480 and 5120", "recall", ["4471", "4480", "5120"]),
        ("put 4471 on hold", "hold", ["4471"]),
        ("release 4471", "release", ["4471"]),
        ("what do 4471 and 4480 have in common?", "common_source", ["4471", "4480"]),
        ("reconcile lot 4471", "mass_balance", ["4471"]),
        ("which recipe version made lot 4471?", "formula_changes", ["4471"]),
        ("what expires this week?", "expiring", []),
        ("help", "help", []),
        ("what's the weather like?", "unknown", []),
    ],
)
def test_parse_finds_intent_and_lots(text: str, intent: str, lots: list[str]) -> None:
    parsed = parse(text, today=TODAY, gazetteer=GAZETTEER)

    assert (parsed.intent, list(parsed.lots)) == (intent, lots)


@pytest.mark.parametrize(
    ("text", "intent", "party", "since", "until"),
    [
        (
            "what did Acme send us last month?",
            "supplier_lots",
            "Acme Grain Co.",
            "2026-10-01",
            "2026-10-31",
        ),
        ("what did Sysco get in March?", "customer_lots", "Sysco", "2026-03-01", "2026-03-31"),
        (
            "what did we ship to freshmart this month",
            "customer_lots",
            "FreshMart Grocers",
            "2026-11-01",
            "2026-11-30",
        ),
    ],
)
def test_parse_finds_party_and_window(
    text: str, intent: str, party: str, since: str, until: str
) -> None:
    parsed = parse(text, today=TODAY, gazetteer=GAZETTEER).as_dict()

    assert (parsed["intent"], parsed["party"], parsed["since"], parsed["until"]) == (
        intent,
        party,
        since,
        until,
    )


def test_parse_names_the_item_of_a_recipe_question() -> None:
    parsed = parse(
        "what changed in the honey almond granola recipe?", today=TODAY, gazetteer=GAZETTEER
    )

    assert (parsed.intent, parsed.item) == ("formula_changes", "Honey Almond Granola 500 g")


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("what expires in the next 10 days", ()),
        ("who got 240115-03 and A12B", ("240115-03", "A12B")),
        ("what did sysco get in march 2026", ()),
        ("ship 40 kg of lot 12", ("12",)),
    ],
)
def test_lot_codes_skip_numbers_that_are_not_lots(text: str, codes: tuple[str, ...]) -> None:
    assert lot_codes(text) == codes


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        ("this week", "2026-11-23", "2026-11-29"),
        ("next week", "2026-11-30", "2026-12-06"),
        ("the next 10 days", "2026-11-25", "2026-12-05"),
        ("last month", "2026-10-01", "2026-10-31"),
        ("in March", "2026-03-01", "2026-03-31"),
        ("since Monday", "2026-11-23", "2026-11-25"),
        ("before December 1st", None, "2026-11-30"),
        ("yesterday", "2026-11-24", "2026-11-24"),
        ("tomorrow", "2026-11-26", "2026-11-26"),
    ],
)
def test_window_resolves_against_today(text: str, since: str | None, until: str | None) -> None:
    start, end = window(text, TODAY)

    assert (start.isoformat() if start else None, end.isoformat() if end else None) == (
        since,
        until,
    )


@pytest.mark.parametrize(
    ("said", "intent", "lots"),
    [
        ("hey tracebot who got lot four four seven one", "trace_forward", ["4471"]),
        ("uh who got a lot forty four seventy one", "trace_forward", ["4471"]),
        ("what went into lot four thousand four hundred seventy one", "trace_backward", ["4471"]),
        ("tell me about batch alpha twelve bravo", "lot_info", ["A12B"]),
        (
            "where did lot two four zero one one five dash zero three go",
            "trace_forward",
            ["240115-03"],
        ),
        ("um did four four eight zero pass qc", "qc_status", ["4480"]),
    ],
)
def test_parse_understands_recogniser_text(said: str, intent: str, lots: list[str]) -> None:
    parsed = parse(said, today=TODAY, gazetteer=GAZETTEER)

    assert (parsed.intent, list(parsed.lots)) == (intent, lots)


def test_parse_leaves_typed_digits_alone() -> None:
    assert list(parse("who got lot 4471 and 4480?", today=TODAY).lots) == ["4471", "4480"]
