"""Events recorded through POST /api/events (storage.importers.events): every fault
is a rejection at the JSON path of the bad value, every refused event is named,
and a body with any refused event writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.db import make_engine
from storage.importers import events as events_module
from storage.importers.csv_import import import_csv_dir
from storage.importers.events import record_events
from storage.tables import HOLDS
from tests.storage.test_csv_import import write_plant
from tests.storage.test_epcis_faults import nested, row_counts

QC = {
    "type": "qc",
    "lot_code": "4471",
    "test": "moisture",
    "result": "pass",
    "at": "2026-12-01T09:30:00",
}
RECEIPT = {
    "type": "receipt",
    "lot_code": "OAT-77",
    "sku": "OAT",
    "supplier": "ACME",
    "quantity": 500,
    "uom": "kg",
    "received_on": "2026-12-01",
    "site": "PLANT",
}
RULE = "(allowed: letters, digits and !\"%&'()*+,-./:;<=>?_)"


@pytest.fixture
def plant(database: str, tmp_path: Path) -> str:
    """The small plant of the CSV tests: lots 4471, 12 (two items), B-1..."""
    import_csv_dir(database, write_plant(tmp_path / "plant"))
    return database


def refusals(url: str, body: list[Any]) -> list[tuple[str, str]]:
    """(path, reason) of each refused event, after checking that nothing was written."""
    before = row_counts(url)
    report = record_events(url, body, actor="api:test")
    assert row_counts(url) == before
    return [(rejection.file, rejection.reason) for rejection in report.rejected]


def test_good_events_are_recorded(plant: str) -> None:
    before = row_counts(plant)

    report = record_events(plant, [RECEIPT, QC], actor="api:test")

    assert report.rejected == []
    after = row_counts(plant)
    assert (after["receipt"] - before["receipt"], after["qc_check"] - before["qc_check"]) == (1, 1)


def test_a_value_nested_a_hundred_thousand_levels_is_refused_at_its_path(plant: str) -> None:
    body = [{**QC, "value": nested(100_000)}]

    assert refusals(plant, body) == [
        ("$[0].value", "expected text, a number, true, false or null, got a list")
    ]


@pytest.mark.parametrize("kind", [["qc"], {"qc": 1}, 7])
def test_a_type_that_is_no_text_is_refused(plant: str, kind: object) -> None:
    (path, reason), *_ = refusals(plant, [{**QC, "type": kind}])

    assert path == "$[0].type"
    assert reason.startswith(
        "type must be one of receipt, consumption, shipment, qc, hold, release"
    )


def test_an_event_that_is_no_object_is_refused(plant: str) -> None:
    assert refusals(plant, [QC, "qc"]) == [("$[1]", 'an event is a JSON object, got "qc"')]


def test_a_nan_quantity_is_refused_at_its_path(plant: str) -> None:
    body = [{**RECEIPT, "quantity": float("nan")}]

    assert refusals(plant, body) == [("$[0].quantity", "NaN is not a number JSON allows")]


def test_a_quantity_that_is_no_number_is_refused_at_its_path(plant: str) -> None:
    body = [{**RECEIPT, "quantity": True}]

    assert refusals(plant, body) == [("$[0].quantity", "bad number 'true' in quantity")]


def test_a_lot_code_outside_the_rule_is_refused_with_the_rule_message(plant: str) -> None:
    body = [QC, {**RECEIPT, "lot_code": "OAT 77"}, {**QC, "lot_code": "4471`"}]

    assert refusals(plant, body) == [
        ("$[1].lot_code", f"a lot code may not hold ' ' {RULE}"),
        ("$[2].lot_code", f"a lot code may not hold '`' {RULE}"),
    ]


def test_a_bad_date_is_refused_at_its_field(plant: str) -> None:
    body = [{**RECEIPT, "Received_On": "2026-02-30"}]
    del body[0]["received_on"]

    assert refusals(plant, body) == [
        ("$[0].Received_On", "bad date '2026-02-30' in received_on (expected YYYY-MM-DD)")
    ]


def test_every_refused_event_is_named_and_nothing_is_written(plant: str) -> None:
    body = [
        RECEIPT,
        {**QC, "type": "qa"},
        QC,
        {**QC, "lot_code": "9999"},  # found out while loading
        {"type": "shipment", "lot_code": "4471", "to": "NOBODY", "shipped_on": "2026-12-01"},
        {"type": "shipment", "lot_code": "4471", "shipped_on": "2026-12-01"},
    ]

    assert [path for path, _ in refusals(plant, body)] == [
        "$[1].type",
        "$[3].lot_code",
        "$[4].to",
        "$[5].to",
    ]


def test_a_release_beside_a_refused_event_releases_nothing(plant: str) -> None:
    record_events(plant, [{"type": "hold", "lot_code": "4471", "reason": "swab"}], actor="api:t")

    assert refusals(plant, [{"type": "release", "lot_code": "4471"}, {**QC, "result": 3.5}]) == [
        ("$[1].result", "bad result '3.5' (expected one of pass, fail)")
    ]
    with make_engine(plant).connect() as connection:
        still_open = select(func.count()).where(HOLDS.c.released_at.is_(None))
        assert connection.execute(still_open).scalar_one() == 1


def test_more_events_than_the_limit_are_refused_whole(
    plant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_module, "MAX_EVENTS", 2)

    assert refusals(plant, [QC, QC, QC]) == [("$", "at most 2 events at a time, got 3")]
