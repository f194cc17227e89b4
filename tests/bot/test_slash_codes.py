"""A lot code with slashes, as ERPs write them, is one code end to end: imported,
asked about, and reached through every REST encoding of its path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import storage
from bot.http.app import create_app
from bot.service import TraceService
from bot.settings import load_settings
from storage.importers.csv_import import import_csv_dir
from tests.conftest import write_csv
from tests.storage.test_csv_import import LOTS, PARTIES, SHIPMENTS, write_plant

CODE = "L/24/001"


@pytest.fixture
def plant(database: str, tmp_path: Path) -> str:
    directory = write_plant(tmp_path / "plant")
    write_csv(
        directory, "parties.csv", [*PARTIES, ["METRO", "Metro Foods", "customer", "", "", ""]]
    )
    lots = [
        [CODE, "GRAN", "50", "ea", "2026-11-05", "", "", "PLANT"],
        ["001", "BAR", "70", "ea", "2026-11-05", "", "", "PLANT"],
    ]
    write_csv(directory, "lots.csv", [*LOTS, *lots])
    shipped = [
        [CODE, "SYSCO", "PLANT", "20", "ea", "2026-11-06", "BOL-9"],
        ["001", "METRO", "PLANT", "30", "ea", "2026-11-06", "BOL-10"],
    ]
    write_csv(directory, "shipments.csv", [*SHIPMENTS, *shipped])
    assert not import_csv_dir(database, directory).rejected
    return database


def test_a_recall_of_a_slashed_code_is_of_that_lot(plant: str) -> None:
    bot = TraceService(storage.load_genealogy(plant), plant)

    answer = bot.ask(f"mock recall on {CODE}", today=date(2026, 11, 25))

    assert answer.query["lots"] == [CODE]
    assert answer.data["customers"] == ["Sysco"]
    assert "001" not in answer.data["affected_lots"]


@pytest.mark.parametrize(
    "path",
    ["L/24/001", "L%2F24%2F001", "L%2f24%2f001", "L%2F24/001"],
    ids=["plain", "upper", "lower", "mixed"],
)
def test_every_rest_encoding_of_the_code_reaches_the_lot(plant: str, path: str) -> None:
    client = TestClient(create_app(load_settings(database_url=plant)))

    facts = client.get(f"/api/lots/{path}")
    trace = client.get(f"/api/lots/{path}/trace", params={"direction": "down"})

    assert facts.status_code == 200 and facts.json()["lot"] == CODE
    assert trace.status_code == 200 and trace.json()["customers"] == ["Sysco"]


def test_a_code_outside_the_rule_is_said_to_be_none(plant: str) -> None:
    bot = TraceService(storage.load_genealogy(plant), plant)

    answer = bot.ask("who got lot " + "A1" * 40 + "?", today=date(2026, 11, 25))

    assert not answer.ok
    assert answer.text == (
        "“A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1…” is no lot code: "
        "a lot code has at most 64 characters (this one has 80)."
    )
