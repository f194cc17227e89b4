"""Stated date windows, honoured exactly or asked back about (never a default)."""

from __future__ import annotations

from datetime import date

import pytest

from intents.dates import read_window
from intents.text import clarifying_question, parse

TODAY = date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize(
    ("question", "intent", "since", "until"),
    [
        ("what did Sysco get in november", "customer_lots", "2026-11-01", "2026-11-30"),
        (
            "what did acme send us since the first of november",
            "supplier_lots",
            "2026-11-01",
            "2026-12-01",
        ),
        (
            "shipments to sysco 1 November to 30 November 2026",
            "customer_lots",
            "2026-11-01",
            "2026-11-30",
        ),
        ("what did sysco get since september", "customer_lots", "2026-09-01", "2026-12-01"),
        ("what expires by friday", "expiring", None, "2026-12-04"),
        ("what expires before christmas", "expiring", None, "2026-12-24"),
        ("what expires before the end of the month", "expiring", None, "2026-12-31"),
        ("what expires before the end of the year", "expiring", None, "2026-12-31"),
        (
            "what expires between 1 December and 31 December 2026",
            "expiring",
            "2026-12-01",
            "2026-12-31",
        ),
        ("expiry between 1 and 31 December", "expiring", "2026-12-01", "2026-12-31"),
        ("what did acme send in Q3", "supplier_lots", "2026-07-01", "2026-09-30"),
        ("what expires in the next 7 days", "expiring", "2026-12-01", "2026-12-07"),
        ("what did sysco get in the last 30 days", "customer_lots", "2026-11-02", "2026-12-01"),
        ("what did acme send between 11/01 and 11/15", "supplier_lots", "2026-11-01", "2026-11-15"),
        (
            "which lots expire between 01.12.2026 and 10.12.2026?",
            "expiring",
            "2026-12-01",
            "2026-12-10",
        ),
        ("what did metro get last quarter", "customer_lots", "2026-07-01", "2026-09-30"),
        ("what did sysco get during october 2026", "customer_lots", "2026-10-01", "2026-10-31"),
        ("um what did sysco get in november", "customer_lots", "2026-11-01", "2026-11-30"),
        (
            "what did sysco get between november 1 and 15",
            "customer_lots",
            "2026-11-01",
            "2026-11-15",
        ),
        ("what did sysco get nov 1-15", "customer_lots", "2026-11-01", "2026-11-15"),
        ("what did acme send 10-12 november", "supplier_lots", "2026-11-10", "2026-11-12"),
        ("what did metro get in q4 last year", "customer_lots", "2025-10-01", "2025-12-31"),
        ("what did sysco get in 2025", "customer_lots", "2025-01-01", "2025-12-31"),
        ("what expires after january", "expiring", "2027-02-01", None),
        ("what did acme send dec 28 to jan 3", "supplier_lots", "2025-12-28", "2026-01-03"),
        ("what did sysco get this year so far", "customer_lots", "2026-01-01", "2026-12-01"),
        ("what did acme send next friday", "supplier_lots", "2026-12-04", "2026-12-04"),
        ("failed qc checks from the 10th to the 15th", "qc_failures", "2026-11-10", "2026-11-15"),
    ],
)
def test_a_stated_window_is_read_exactly(
    question: str, intent: str, since: str | None, until: str | None
) -> None:
    parsed = parse(question, today=TODAY).as_dict()

    assert (parsed["intent"], parsed["since"], parsed["until"]) == (intent, since, until)
    assert parsed["lots"] == []  # "Q3", "01.12.2026", "november" are no lot codes


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("what did sysco get on 03/04/2026", "Is 03/04/2026 the 3rd of April or March 4?"),
        ("what expires around easter", "I couldn't read the dates in “around easter”."),
    ],
)
def test_a_window_that_cannot_be_read_for_sure_is_asked_back(question: str, asked: str) -> None:
    intent = parse(question, today=TODAY)

    assert (intent.since, intent.until) == (None, None)
    question_back = clarifying_question(intent)
    assert question_back is not None and question_back.startswith(asked)


@pytest.mark.parametrize(
    "text",
    [
        "who got lot 4471",
        "the march order",
        "lots from sundried fruit traders",
        "pull it from the market",
        "who got the 12/24 packs",
        "1.5 oz cups",
        "what did easter farms send us",
    ],
)
def test_words_that_are_no_dates_state_no_window(text: str) -> None:
    assert read_window(text, TODAY) == read_window("", TODAY)


def test_a_code_with_slashes_is_one_lot_code() -> None:
    assert parse("mock recall on L/24/001", today=TODAY).lots == ("L/24/001",)


def test_a_spelled_november_is_still_a_letter_in_a_code() -> None:
    assert parse("who got lot november four four", today=TODAY).lots == ("N44",)
