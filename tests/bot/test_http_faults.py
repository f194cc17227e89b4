"""Faults in what the write routes receive are refusals in the one error shape, each
naming the JSON path of the bad value (the importers' EpcisError and rejections),
and nothing is written; never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from storage.db import init_schema
from tests.bot.test_http import OPS, client_for
from tests.storage.test_epcis_faults import EXAMPLE, nested, row_counts

DEEP = 200  # deeper than the importers take (64), not too deep for a JSON parser


@pytest.fixture
def empty(sqlite_url: str) -> str:
    init_schema(sqlite_url)
    return sqlite_url


@pytest.fixture
def client(empty: str) -> Iterator[TestClient]:
    with client_for(empty) as client:
        yield client


@pytest.mark.skipif(
    not EXAMPLE.exists(), reason="../shared/epcis-examples is not beside the repository"
)
@pytest.mark.parametrize(
    ("spoil", "path", "message"),
    [
        (
            {"quantityList": True},
            "$.epcisBody.eventList[0].quantityList",
            "expected a list, got true",
        ),
        ({"bizLocation": -1}, "$.epcisBody.eventList[0].bizLocation", "expected an object, got -1"),
        (
            {"sourceList": [1]},
            "$.epcisBody.eventList[0].sourceList[0]",
            "expected an object, got 1",
        ),
        (
            {"example:deep": nested(DEEP)},
            "$.epcisBody.eventList[0].example:deep" + "[0]" * 60,
            "nested deeper than 64 levels",
        ),
    ],
    ids=["quantityList", "bizLocation", "sourceList", "deep"],
)
def test_a_bad_capture_is_a_400_naming_the_path(
    client: TestClient, empty: str, spoil: dict[str, object], path: str, message: str
) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["epcisBody"]["eventList"][0].update(spoil)
    before = row_counts(empty)

    response = client.post("/api/epcis/capture", json=document, headers=OPS)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_epcis", "message": message, "path": path}}
    assert row_counts(empty) == before


def test_a_nan_quantity_in_a_capture_names_its_path(client: TestClient) -> None:
    body = EXAMPLE.read_text().replace('"quantity":200', '"quantity":NaN')

    response = client.post("/api/epcis/capture", content=body, headers=OPS)

    assert response.status_code == 400
    assert response.json()["error"]["path"] == "$.epcisBody.eventList[0].quantityList[0].quantity"


def test_a_deeply_nested_event_value_is_a_422_naming_every_fault(
    client: TestClient, empty: str
) -> None:
    event = {"type": "qc", "lot_code": "4471", "test": "moisture", "result": "pass"}
    before = row_counts(empty)

    response = client.post(
        "/api/events", json=[event, {**event, "value": nested(DEEP)}], headers=OPS
    )

    assert response.status_code == 422
    assert response.json()["error"]["path"] == "$[0].lot_code"
    assert response.json()["rejected"] == [
        {"path": "$[0].lot_code", "reason": "unknown lot '4471' in lot_code"},  # an empty plant
        {
            "path": "$[1].value",
            "reason": "expected text, a number, true, false or null, got a list",
        },
    ]
    assert row_counts(empty) == before


@pytest.mark.parametrize("route", ["/api/epcis/capture", "/api/events"])
def test_a_body_nested_a_hundred_thousand_levels_is_a_400_not_a_500(
    client: TestClient, empty: str, route: str
) -> None:
    body = "[" * 100_000 + "]" * 100_000
    before = row_counts(empty)

    response = client.post(route, content=body, headers=OPS)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["path"]) == ("not_json", "$")
    assert row_counts(empty) == before
