"""Parties, items and sites inside any question narrow its answer, and say so.

On the demo plant, as the service answers them: "did any of 4471 go to sisco" is
the trace of 4471 seen from Sysco, "how exposed are we if the almonds from valley
nut were bad" the recall of what Valley Nut sent us.
"""

from __future__ import annotations

from datetime import date

import pytest

import storage
from bot.service import TraceService
from storage.demo_plant import load_demo

TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> TraceService:
    url = f"sqlite:///{tmp_path_factory.mktemp('slots') / 'demo.db'}"
    load_demo(url, anchor=TODAY)
    return TraceService(storage.load_genealogy(url), url, admins=("U_ADMIN",))


@pytest.mark.parametrize(
    "question",
    ["did any of 4471 go to sysco", "did sisco get any of lot 4471", "did sis co get any of 4471"],
)
def test_a_customer_named_in_a_trace_keeps_its_shipments(bot: TraceService, question: str) -> None:
    answer = bot.ask(question, today=TODAY)

    assert answer.intent == "trace_forward" and answer.query["party"] == "Sysco"
    assert answer.data["customers"] == ["Sysco"]
    assert {line["party"] for line in answer.data["shipments"]} == {"Sysco"}
    assert answer.data["narrowed"] == {"party": "Sysco"}
    assert answer.text.startswith("*Sysco got lot 4471: 1 of 3 shipments.*")
    assert answer.speech.startswith("Sysco got lot 4471")


def test_a_customer_that_got_none_is_told_so_with_where_it_went(bot: TraceService) -> None:
    answer = bot.ask("did greenbasket get any of lot 4471?", today=TODAY)

    assert answer.intent == "trace_forward"
    assert answer.text.splitlines()[0] == (
        "*GreenBasket Online got none of lot 4471. It went to FreshMart Grocers, "
        "Metro Food Distributors, Sysco.*"
    )
    assert "narrowed" not in answer.data  # the whole trace, as it is
    assert len(answer.data["shipments"]) == 3


def test_an_input_item_named_keeps_those_inputs(bot: TraceService) -> None:
    answer = bot.ask("what raisins went into 4480?", today=TODAY)

    assert answer.intent == "trace_backward"
    assert [line["lot"] for line in answer.data["inputs"]] == ["RS-118"]
    assert answer.data["suppliers"] == ["Sundried Fruit Traders"]
    assert answer.data["narrowed"] == {"item": "Thompson raisins"}


def test_the_lot_s_own_item_describes_it_and_narrows_nothing(bot: TraceService) -> None:
    described = bot.ask("what went into the granola lot 4471?", today=TODAY)
    plain = bot.ask("what went into lot 4471?", today=TODAY)

    assert described.data == plain.data


def test_an_item_the_lot_does_not_hold_is_said_and_nothing_hidden(bot: TraceService) -> None:
    answer = bot.ask("what raisins went into 4471?", today=TODAY)

    assert answer.text.splitlines()[0] == (
        "*No Thompson raisins went into lot 4471; here is everything that did.*"
    )
    assert "ALM-5531" in [line["lot"] for line in answer.data["inputs"]]


@pytest.mark.parametrize(
    "question",
    [
        "how exposed are we if the almonds from valley nut were bad",
        "valley nut called about their almonds, what is affected on our side?",
        "we need to recall all almonds valley nut sent us",
    ],
)
def test_a_recall_of_a_supplier_s_goods_needs_no_lot_code(bot: TraceService, question: str) -> None:
    answer = bot.ask(question, today=TODAY)

    assert answer.intent == "recall" and answer.ok
    assert answer.query["lots"] == ["ALM-5531", "ALM-5602"]
    assert {"4471", "4480", "5133"} <= set(answer.data["affected_lots"])
    assert answer.text.endswith(
        "_The Sliced almonds lots received from Valley Nut Company: ALM-5531, ALM-5602._"
    )


def test_a_supplier_s_goods_that_are_not_on_record_are_said(bot: TraceService) -> None:
    answer = bot.ask("if the honey from valley nut is bad what do we pull", today=TODAY)

    assert not answer.ok
    assert answer.text == "No Clover honey lots from Valley Nut Company on record."


def test_a_site_narrows_what_expires(bot: TraceService) -> None:
    answer = bot.ask("what expires at the cold store in the next 30 days", today=TODAY)

    assert answer.query["site"] == "Riverside cold store"
    assert answer.data["lots"]
    assert {line["location"] for line in answer.data["lots"]} == {"Riverside cold store"}
    assert answer.data["narrowed"] == {"site": "Riverside cold store"}


def test_an_item_narrows_what_expires(bot: TraceService) -> None:
    everything = bot.ask("what expires in the next 60 days", today=TODAY)
    oats = bot.ask("which oat base lots expire in the next 60 days", today=TODAY)

    assert {line["item"] for line in oats.data["lots"]} == {"Toasted oat base"}
    assert len(oats.data["lots"]) < len(everything.data["lots"])
    assert oats.text.startswith(
        f"*Only Toasted oat base: {len(oats.data['lots'])} of {len(everything.data['lots'])} lots.*"
    )


def test_a_site_a_lot_is_not_at_is_said(bot: TraceService) -> None:
    answer = bot.ask("does 4471 have stock at the main plant?", today=TODAY)

    assert answer.intent == "lot_info"
    assert answer.text.splitlines()[0] == (
        "*Lot 4471 is not at Hillside main plant: its stock is at Riverside cold store.*"
    )


def test_alerts_of_one_lot(bot: TraceService) -> None:
    every = bot.ask("any open alerts?", today=TODAY)
    one = bot.ask("any alerts on 5133?", today=TODAY)

    assert one.intent == "alerts"
    assert {a["lot"] for a in every.data["alerts"]} > {"5133"}
    assert {a["lot"] for a in one.data["alerts"]} == {"5133"}


def test_an_unknown_product_is_not_taken_for_one_that_shares_a_word(bot: TraceService) -> None:
    answer = bot.ask("did the peanut butter bar recipe change?", today=TODAY)

    assert answer.query["item"] == "peanut butter bar"
    assert not answer.ok
