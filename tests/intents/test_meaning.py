"""Questions as people ask them: recalls without the word, the plant's lists, numbers
that are no lot."""

from __future__ import annotations

from datetime import date

import pytest

from intents.text import parse

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("question", "lots"),
    [
        ("pull everything made with RS-118", ["RS-118"]),
        ("supplier notified us OIL-3301 is contaminated. impact?", ["OIL-3301"]),
        ("what do we have to pull if lot ALM-5531 is bad", ["ALM-5531"]),
        ("how bad is it if 4398 turns out to be contaminated", ["4398"]),
        ("we need to pull 5133, who has it?", ["5133"]),
        ("whats our exposure if L-2024-0113 is contaminated", ["L-2024-0113"]),
    ],
)
def test_a_recall_asked_without_the_word_is_a_recall(question: str, lots: list[str]) -> None:
    parsed = parse(question, today=TODAY)

    assert (parsed.intent, list(parsed.lots)) == ("recall", lots)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("what's on hold right now?", "holds"),
        ("list all lots on QA hold", "holds"),
        ("show me every held lot with the reason", "holds"),
        ("any open alerts?", "alerts"),
        ("show active alarms", "alerts"),
        ("anything failed qc recently?", "qc_failures"),
        ("what failed QC in the last 10 days?", "qc_failures"),
        ("is 5120 still on hold?", "lot_info"),
        ("put 4471 on hold", "hold"),
        ("did 5120 fail qc?", "qc_status"),
    ],
)
def test_the_plant_lists_are_asked_of_no_lot(question: str, intent: str) -> None:
    assert parse(question, today=TODAY).intent == intent


@pytest.mark.parametrize(
    "chat", ["my extension is 4480", "print job 5120", "my badge number is 4471 and it broke"]
)
def test_a_number_that_is_someone_s_is_no_lot(chat: str) -> None:
    parsed = parse(chat, today=TODAY)

    assert (parsed.intent, parsed.lots) == ("unknown", ())


@pytest.mark.parametrize(
    ("question", "lots"),
    [
        ("what do A12/A13 have in common", ["A12", "A13"]),
        ("who got lot 4471 w/4480", ["4471", "4480"]),
        ("who got lot L/24/001/A", ["L/24/001/A"]),
        ("who got lot november two one", ["N21"]),
        ("the part number is 4480, who got it", []),
    ],
)
def test_codes_are_read_as_said(question: str, lots: list[str]) -> None:
    assert list(parse(question, today=TODAY).lots) == lots


@pytest.mark.parametrize(
    ("question", "intent"),
    [("pull lot 4471 info", "lot_info"), ("how many lots are held up at customs", "unknown")],
)
def test_words_of_the_new_cues_in_other_senses(question: str, intent: str) -> None:
    assert parse(question, today=TODAY).intent == intent
