"""The plain parser on the contract's example phrasings and their variants."""

from __future__ import annotations

from datetime import date

import pytest

from intents.dates import window
from intents.text import Gazetteer, clarifying_question, lot_codes, parse

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
        ("the next 10 days", "2026-11-25", "2026-12-04"),  # ten days, today the first
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


KINDS = Gazetteer.of(
    [("Acme Grain Co.", "supplier"), ("Sysco", "customer"), ("Hillside plant", "site")],
    ["Honey Almond Granola 500 g"],
)


@pytest.mark.parametrize(
    ("text", "intent", "party"),
    [
        ("which lots has sysco received", "customer_lots", "Sysco"),
        ("acme deliveries this month", "supplier_lots", "Acme Grain Co."),
        ("sysco deliveries this month", "customer_lots", "Sysco"),
        ("what did acmee send us last month", "supplier_lots", "Acme Grain Co."),
        ("what did Golden Fields Farm supply this month", "supplier_lots", "Golden Fields Farm"),
        ("the truck from Acme is late again", "unknown", None),
    ],
)
def test_the_master_data_says_who_sends_and_who_gets(
    text: str, intent: str, party: str | None
) -> None:
    got = parse(text, today=TODAY, gazetteer=KINDS)
    assert (got.intent, got.party) == (intent, party)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what went into 4471?", "trace_backward"),
        ("what did 4471 go into?", "trace_forward"),
        ("what was made from 240115-03?", "trace_forward"),
        ("what was 240115-03 made from?", "trace_backward"),
        ("which products contain lot SALT-77?", "trace_forward"),
        ("what was L-2024-0113 used in?", "trace_forward"),
        ("what did we use to make 240115-03", "trace_backward"),
        ("which oat lots made L-2024-0113", "trace_backward"),
        ("what used oil lot OIL-3301", "trace_forward"),
        ("which honey lot is in 4402?", "trace_backward"),
    ],
)
def test_the_order_of_words_and_lot_sets_the_direction(text: str, intent: str) -> None:
    assert parse(text, today=TODAY).intent == intent


@pytest.mark.parametrize(
    ("text", "intent", "lots"),
    [
        ("is 5120 on hold?", "lot_info", ["5120"]),
        ("Is lot 5120 released?", "lot_info", ["5120"]),
        ("place a hold on 5133", "hold", ["5133"]),
        ("release a12b from quarantine", "release", ["A12B"]),
        ("un-hold b-2291", "release", ["B-2291"]),
        ("common ingredients between 4471 and 5133", "common_source", ["4471", "5133"]),
        ("which supplier lot is behind all of 4471, 5120 and 5133", "common_source",
         ["4471", "5120", "5133"]),
        ("produced consumed shipped on hand for 4402", "mass_balance", ["4402"]),
        ("<https://x.example/c/881|complaint 881> what do 4471 and 4480 share?",
         "common_source", ["4471", "4480"]),
    ],
)  # fmt: skip
def test_parse_reads_statuses_holds_and_shared_sources(
    text: str, intent: str, lots: list[str]
) -> None:
    got = parse(text, today=TODAY)
    assert (got.intent, list(got.lots)) == (intent, lots)


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "good morning team :sunny:",
        "can you order 500 kg of oats from Acme",
        "remind me to call Sysco at 4",
        "the 2024 audit went well",
        "how do I request time off",
        "release the kraken",
        "who won the game last night",
    ],
)
def test_everyday_chat_is_unknown(text: str) -> None:
    got = parse(text, today=TODAY, gazetteer=KINDS)
    assert (got.intent, got.lots) == ("unknown", ())


@pytest.mark.parametrize(
    "text", ["?", "what kind of questions can I ask?", "what can tracebot do", "how do I use this"]
)
def test_help_in_many_words(text: str) -> None:
    assert parse(text, today=TODAY).intent == "help"


def test_follow_ups_reuse_the_lot_or_the_intent() -> None:
    first = parse("who got lot 4471?", today=TODAY)
    other_lot = parse("what about 4480?", today=TODAY, context=first)
    assert (other_lot.intent, other_lot.lots) == ("trace_forward", ("4480",))
    other_question = parse("and what went into it?", today=TODAY, context=first)
    assert (other_question.intent, other_question.lots) == ("trace_backward", ("4471",))
    spoken = parse(
        "and where did it go", today=TODAY, context=parse("tell me about lot 5120", today=TODAY)
    )
    assert (spoken.intent, spoken.lots) == ("trace_forward", ("5120",))
    fresh = parse("what expires this week", today=TODAY, context=first)
    assert (fresh.intent, fresh.lots) == ("expiring", ())


def test_a_tie_or_weak_parse_gets_a_clarifying_question() -> None:
    tied = parse("trace 4471", today=TODAY)
    question = clarifying_question(tied)
    assert question is not None and "4471" in question
    assert clarifying_question(parse("who got lot 4471?", today=TODAY)) is None
    assert clarifying_question(parse("hello there", today=TODAY)) is None


@pytest.mark.parametrize(
    ("said", "lots"),
    [
        ("where did salt dash seventy seven end up", ["SALT-77"]),
        ("what's the production date on h n dash zero eight seven seven", ["HN-0877"]),
        ("where is lot oil dash thirty three oh one stored", ["OIL-3301"]),
        ("recall scope for r s dash one one eight", ["RS-118"]),
        ("who got lot b dash one", ["B-1"]),
    ],
)
def test_spoken_letters_or_a_word_before_dash_lead_the_code(said: str, lots: list[str]) -> None:
    assert list(parse(said, today=TODAY).lots) == lots


def test_an_unknown_product_expiring_is_named_as_said() -> None:
    got = parse("any oat clusters expiring before December 1st", today=TODAY)
    assert (got.intent, got.item, got.since, got.until) == (
        "expiring",
        "oat clusters",
        None,
        date(2026, 11, 30),
    )
    assert parse("what will expire in january", today=TODAY).item is None


@pytest.mark.parametrize(
    ("said", "lots"),
    [
        ("um trace lot a l m five five three one back to the supplier", ["ALM5531"]),
        ("did the micro test pass for lot s a l t seven seven", ["SALT77"]),
        ("parking lot 4 is closed for resurfacing fyi", []),
    ],
)
def test_spelled_letters_lead_a_code_and_a_parking_lot_is_no_lot(
    said: str, lots: list[str]
) -> None:
    assert list(parse(said, today=TODAY).lots) == lots


def test_names_and_products_as_said_in_long_questions() -> None:
    sent = parse("uh what did we send pine hill foods yesterday", today=TODAY)
    history = parse(":memo: formula change history for Maple Pecan Clusters", today=TODAY)
    audit = parse(
        "Sysco is running their annual supplier audit and asked for shipment history from the "
        "last holiday season; what lots did we send Sysco in December?",
        today=TODAY,
        gazetteer=KINDS,
    )

    assert (sent.intent, sent.party, sent.since) == (
        "customer_lots",
        "pine hill foods",
        date(2026, 11, 24),
    )
    assert (history.intent, history.item) == ("formula_changes", "Maple Pecan Clusters")
    assert (audit.intent, audit.party, audit.since) == ("customer_lots", "Sysco", date(2025, 12, 1))


PLANT = Gazetteer.of(
    [
        ("Sysco", "customer"),
        ("FreshMart Grocers", "customer"),
        ("Valley Nut Company", "supplier"),
        ("Busy Bees Apiaries", "supplier"),
        ("Riverside cold store", "site"),
        ("Hillside main plant", "site"),
    ],
    ["Sliced almonds", "Clover honey", "Trail Mix Bar 12-pack", "Printed PP film bag"],
)


@pytest.mark.parametrize("said", ["sisco", "sysko", "sis co", "Sysco"])
def test_a_party_spelled_by_ear_is_the_party_inside_a_lot_question(said: str) -> None:
    got = parse(f"did any of 4471 go to {said}", today=TODAY, gazetteer=PLANT)

    assert (got.intent, got.lots, got.party) == ("trace_forward", ("4471",), "Sysco")


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("which honey lots expire next month", "Clover honey"),
        ("any bars expiring this week", "Trail Mix Bar 12-pack"),
        ("busy bees honey in 5133?", "Clover honey"),
        ("which film bags did we get", "Printed PP film bag"),
        ("did the peanut butter bar recipe change", "peanut butter bar"),  # not the Trail Mix Bar
    ],
)
def test_an_item_s_head_noun_names_it_where_no_other_word_qualifies_it(
    text: str, item: str
) -> None:
    assert parse(text, today=TODAY, gazetteer=PLANT).item == item


def test_a_site_is_a_slot_of_its_own() -> None:
    stock = parse("how much of 4471 is at the cold store", today=TODAY, gazetteer=PLANT)
    expiring = parse("what expires at the main plant this week", today=TODAY, gazetteer=PLANT)

    assert (stock.intent, stock.site, stock.party) == ("lot_info", "Riverside cold store", None)
    assert (expiring.intent, expiring.site) == ("expiring", "Hillside main plant")
    assert stock.as_dict()["site"] == "Riverside cold store"


@pytest.mark.parametrize(
    "text",
    [
        "how exposed are we if the almonds from valley nut were bad",
        "valley nut called about their almonds, what is affected on our side",
        "we need to recall all almonds valley nut sent us this month",
    ],
)
def test_a_recall_of_a_supplier_s_goods_names_supplier_and_item(text: str) -> None:
    got = parse(text, today=TODAY, gazetteer=PLANT)

    assert (got.intent, got.lots) == ("recall", ())
    assert (got.party, got.item) == ("Valley Nut Company", "Sliced almonds")


def test_impact_words_ask_for_a_recall_and_alerts_may_name_a_lot() -> None:
    assert parse("what is the impact if ALM-5531 is bad", today=TODAY).intent == "recall"
    assert parse("open alerts?", today=TODAY).intent == "alerts"
    assert parse("any alerts on 5133", today=TODAY).as_dict() | {"confidence": 0} == {
        "intent": "alerts", "lots": ["5133"], "party": None, "item": None, "site": None,
        "since": None, "until": None, "confidence": 0,
    }  # fmt: skip


def test_a_lower_case_word_is_a_code_only_where_the_plant_has_it() -> None:
    codes = {"SLF"}

    def is_lot(code: str) -> bool:
        return code.upper() in codes

    assert parse("mock recall on slf", today=TODAY, is_lot=is_lot).lots == ("SLF",)
    assert parse("mock recall on salt", today=TODAY, is_lot=is_lot).lots == ()
    assert parse("my extension is 4480", today=TODAY, is_lot=lambda code: code == "4480").lots == ()


def test_since_the_start_of_a_period_runs_to_today() -> None:
    assert window("failed lab tests since the start of the month", TODAY) == (
        date(2026, 11, 1),
        TODAY,
    )


def test_confidence_is_the_share_right_at_that_score() -> None:
    from intents.calibration import calibrated, steps

    table = steps()
    assert table, "run: python bench/calibrate.py"
    shares = [share for _, share in table]
    assert shares == sorted(shares)  # a higher score is never less often right
    got = parse("who got lot 4471?", today=TODAY)
    assert got.confidence == calibrated(got.score) and 0.9 <= got.confidence <= 0.99
