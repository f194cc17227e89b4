"""The labelled corpus of questions, and how well the parser reads it.

The floors are the issue's targets (97%); bench/intent_report.py prints the figures.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from intents.classifier import classifier
from intents.model import INTENTS
from intents.text import Gazetteer, Parser
from storage.demo_plant import ITEMS, PARTIES

CORPUS = Path(__file__).resolve().parent.parent / "data" / "utterances.jsonl"
TODAY = date(2026, 11, 25)
FIELDS = {"text", "intent", "lots", "party", "item", "site", "since", "until", "style", "split"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


@pytest.fixture(scope="module")
def parsed(rows: list[dict[str, object]]) -> list[tuple[dict[str, object], dict[str, object]]]:
    parser = Parser(Gazetteer.of([(p[1], p[2]) for p in PARTIES], [i[1] for i in ITEMS]))
    return [(row, parser.parse(str(row["text"]), today=TODAY).as_dict()) for row in rows]


def test_corpus_is_varied_and_labelled(rows: list[dict[str, object]]) -> None:
    assert len(rows) >= 600
    assert all(set(row) == FIELDS for row in rows)
    assert len({row["text"] for row in rows}) == len(rows), "no utterance twice"
    per_intent = Counter(str(row["intent"]) for row in rows)
    assert set(per_intent) == set(INTENTS)
    assert min(n for name, n in per_intent.items() if name != "help") >= 40
    styles = Counter(str(row["style"]) for row in rows)
    assert styles["spoken"] >= 0.3 * len(rows) and styles["typed"] >= 0.5 * len(rows)
    splits = Counter(str(row["split"]) for row in rows)
    assert set(splits) == {"train", "dev"} and splits["dev"] >= 0.2 * len(rows)


def accuracy(pairs: list[tuple[dict[str, object], dict[str, object]]], *fields: str) -> float:
    right = sum(all(got[f] == row[f] for f in fields) for row, got in pairs)
    return right / len(pairs)


@pytest.mark.parametrize("split", ["dev", "train"])
def test_parser_reads_the_corpus_at_the_target(
    parsed: list[tuple[dict[str, object], dict[str, object]]], split: str
) -> None:
    pairs = [(row, got) for row, got in parsed if row["split"] == split]
    assert accuracy(pairs, "intent") >= 0.97
    assert accuracy(pairs, "lots") >= 0.97
    assert accuracy(pairs, "since", "until") >= 0.97
    assert accuracy(pairs, "party", "item", "site") >= 0.97


def test_every_intent_is_recalled(
    parsed: list[tuple[dict[str, object], dict[str, object]]],
) -> None:
    for name in INTENTS:
        pairs = [(row, got) for row, got in parsed if row["intent"] == name]
        assert accuracy(pairs, "intent") >= 0.9, name


def test_the_shipped_classifier_votes_for_how_people_ask() -> None:
    model = classifier()
    assert model is not None, "run: python -m intents.classifier tests/data/utterances.jsonl"
    votes = model.cats("could you let me know who we sold lot LOTCODE to ?")
    assert max(votes, key=lambda name: votes[name]) == "trace_forward"
    assert abs(sum(votes.values()) - 1.0) < 1e-3
