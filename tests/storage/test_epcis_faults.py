"""EPCIS faults are refusals: each names the JSON path of the bad value and what is
wrong, and a refused document writes nothing (every table keeps its row count)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, table

from storage.db import init_schema, make_engine
from storage.importers import epcis
from storage.importers.epc import EpcError, parse_epc
from storage.importers.epcis import EpcisError, import_epcis, read_epcis
from tests.conftest import SHARED

EXAMPLE = SHARED / "epcis-examples" / "Example_9.6.2-ObjectEvent.jsonld"
CORPUS = SHARED / "epcis-corpus" / "json"
EVENT = "$.epcisBody.eventList[1]"
needs_examples = pytest.mark.skipif(
    not EXAMPLE.exists(), reason="../shared/epcis-examples is not beside the repository"
)

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


@pytest.fixture
def fresh(sqlite_url: str) -> str:
    init_schema(sqlite_url)
    return sqlite_url


def row_counts(url: str) -> dict[str, int]:
    """Rows in every table of the database."""
    engine = make_engine(url)
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return {
            name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in names
        }


def receiving() -> dict[str, Any]:
    """GS1's receiving example (Example 9.6.2): two events, the second to be spoiled."""
    document = read_epcis(EXAMPLE)
    good = document["epcisBody"]["eventList"][0]
    spoiled = copy.deepcopy(good)
    spoiled["eventID"] = "urn:uuid:6b9a4a1e-0000-4000-8000-000000000002"
    document["epcisBody"]["eventList"].append(spoiled)
    return document


def nested(depth: int) -> list[Any]:
    """A list inside a list ... ``depth`` levels deep, built without recursion."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def refused(url: str, document: dict[str, Any]) -> EpcisError:
    """The refusal of ``document``, after checking that nothing was written."""
    before = row_counts(url)
    with pytest.raises(EpcisError) as caught:
        import_epcis(url, document)
    assert row_counts(url) == before
    return caught.value


@needs_examples
@pytest.mark.parametrize(
    ("spoil", "path", "reason"),
    [
        (
            lambda event: event.update(quantityList=True),
            f"{EVENT}.quantityList",
            "expected a list, got true",
        ),
        (
            lambda event: event.update(bizLocation=-1),
            f"{EVENT}.bizLocation",
            "expected an object, got -1",
        ),
        (
            lambda event: event.update(sourceList=[1]),
            f"{EVENT}.sourceList[0]",
            "expected an object, got 1",
        ),
        (
            lambda event: event["quantityList"][0].update(quantity="200"),
            f"{EVENT}.quantityList[0].quantity",
            'expected a number, got "200"',
        ),
        (
            lambda event: event.update(bizTransactionList=["urn:epcglobal:cbv:bt:0614141:P1"]),
            f"{EVENT}.bizTransactionList[0]",
            'expected an object, got "urn:epcglobal:cbv:bt:0614141:P1"',
        ),
        (
            lambda event: event.update(readPoint={"id": ["urn:epc:id:sgln:4012345.00001.0"]}),
            f"{EVENT}.readPoint.id",
            "expected a string, got a list",
        ),
    ],
    ids=[
        "quantityList-true",
        "bizLocation-minus-1",
        "sourceList-of-1",
        "quantity-text",
        "bt",
        "id",
    ],
)
def test_a_field_of_the_wrong_type_is_refused_at_its_path(
    fresh: str, spoil: Callable[[dict[str, Any]], None], path: str, reason: str
) -> None:
    document = receiving()
    spoil(document["epcisBody"]["eventList"][1])

    error = refused(fresh, document)

    assert (error.path, error.reason) == (path, reason)


@needs_examples
def test_a_nan_quantity_is_refused_at_its_path_not_as_capture(fresh: str) -> None:
    document = receiving()
    document["epcisBody"]["eventList"][1]["quantityList"][0]["quantity"] = float("nan")

    error = refused(fresh, document)

    assert (error.path, error.reason) == (
        f"{EVENT}.quantityList[0].quantity",
        "NaN is not a number JSON allows",
    )


@needs_examples
def test_a_nan_read_from_a_file_is_refused_at_its_path(fresh: str, tmp_path: Path) -> None:
    path = tmp_path / "nan.jsonld"
    path.write_text(EXAMPLE.read_text().replace('"quantity":200', '"quantity":NaN'))

    error = refused(fresh, read_epcis(path))

    assert error.path == "$.epcisBody.eventList[0].quantityList[0].quantity"


@needs_examples
def test_a_hundred_thousand_levels_of_nesting_are_refused(fresh: str) -> None:
    document = receiving()
    document["epcisBody"]["eventList"][1]["example:deep"] = nested(100_000)

    error = refused(fresh, document)

    assert error.reason == "nested deeper than 64 levels"
    assert error.path.startswith(f"{EVENT}.example:deep[0][0]")
    # Level 65, the first too deep: the document, body, event list, event and the
    # extension's own list are levels 1 to 5.
    assert error.path.count("[0]") == 65 - 5


@needs_examples
def test_a_file_nested_a_hundred_thousand_levels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonld"
    path.write_text('{"type": "EPCISDocument", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")

    with pytest.raises(EpcisError) as caught:
        read_epcis(path)

    assert (caught.value.path, caught.value.reason) == ("$", "nested deeper than 64 levels")


@needs_examples
def test_nesting_up_to_the_limit_loads(fresh: str) -> None:
    document = receiving()
    # The event is at level 4 (document, body, list, event): 60 more levels fit.
    document["epcisBody"]["eventList"][1]["example:deep"] = nested(60)

    report = import_epcis(fresh, document)

    assert report.events == 2


@needs_examples
def test_a_document_over_the_size_limit_is_refused(
    fresh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = receiving()
    monkeypatch.setattr(epcis, "MAX_VALUES", 40)

    error = refused(fresh, document)

    assert (error.path, error.reason) == (
        "$",
        "more than 40 JSON values (the limit of one document)",
    )


def test_a_file_over_the_size_limit_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.jsonld"
    path.write_text(json.dumps({"type": "EPCISDocument", "padding": "x" * 2000}))
    monkeypatch.setattr(epcis, "MAX_FILE_BYTES", 1024)

    with pytest.raises(EpcisError) as caught:
        read_epcis(path)

    assert (caught.value.path, caught.value.reason) == (
        "$",
        "a file of 2,040 bytes; at most 1,024 are read",
    )


@needs_examples
def test_a_lot_code_outside_the_rule_is_refused_with_the_rule_message(fresh: str) -> None:
    document = receiving()
    element = document["epcisBody"]["eventList"][1]["quantityList"][0]
    element["epcClass"] = "urn:epc:class:lgtin:4012345.012345.LOT%2077"  # "LOT 77"

    error = refused(fresh, document)

    assert (error.path, error.reason) == (
        f"{EVENT}.quantityList[0].epcClass",
        "a lot code may not hold ' ' (allowed: letters, digits and !\"%&'()*+,-./:;<=>?_)",
    )


@needs_examples
def test_a_bad_ilmd_date_is_refused_at_its_key(fresh: str) -> None:
    document = receiving()
    document["epcisBody"]["eventList"][1]["ilmd"] = {"cbvmda:itemExpirationDate": "2026-02-30"}

    error = refused(fresh, document)

    assert (error.path, error.reason) == (
        f"{EVENT}.ilmd.cbvmda:itemExpirationDate",
        'not a date: "2026-02-30"',
    )


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_time_that_leaves_the_calendar_at_its_offset_is_refused(fresh: str, time: str) -> None:
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": time,
                    "eventTimeZoneOffset": "-05:00" if time.startswith("0001") else "+05:00",
                    "action": "OBSERVE",
                    "epcList": [],
                }
            ]
        },
    }

    error = refused(fresh, document)

    assert error.path == "$.epcisBody.eventList[0].eventTime"
    assert error.reason.startswith("out of range at offset")


def test_a_bad_master_data_fact_is_named_at_its_element_on_each_database(database: str) -> None:
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "epcisHeader": {
            "epcisMasterData": {
                "vocabularyList": [
                    {
                        "type": "urn:epcglobal:epcis:vtype:EPCClass",
                        "vocabularyElementList": [
                            {
                                "id": "https://id.gs1.org/01/04012345123456",
                                "attributes": [
                                    {"id": "tracebot:sku", "attribute": "OATS"},
                                    {"id": "tracebot:shelfLifeDays", "attribute": "a year"},
                                ],
                            }
                        ],
                    }
                ]
            }
        },
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-11-20T09:00:00Z",
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "quantityList": [
                        {"epcClass": "urn:epc:class:lgtin:4012345.012345.L1", "quantity": 5}
                    ],
                }
            ]
        },
    }

    error = refused(database, document)

    assert (error.path, error.reason) == (
        "$.epcisHeader.epcisMasterData.vocabularyList[0].vocabularyElementList[0]",
        "bad whole number 'a year' in shelf_life_days",
    )


@pytest.mark.skipif(
    not CORPUS.exists(), reason="../shared/epcis-corpus is not beside the repository"
)
def test_a_transformation_with_an_ilmd_production_date_loads(fresh: str) -> None:
    # Raised TypeError: _lot() got multiple values for keyword argument 'produced_on'.
    path = CORPUS / "openepcis+openepcis-dpp-ready/extensions/eu/textile/epcis"
    document = read_epcis(path / "fjordline-aurora-lifecycle.jsonld")

    report = import_epcis(fresh, document)

    assert report.rejected == [] and report.events == len(document["epcisBody"]["eventList"])


def test_sensor_readings_of_a_transaction_event_name_lots_that_then_exist(fresh: str) -> None:
    # Was refused: "unknown lot '1' in lot_code" (a TransactionEvent creates no lot).
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "epcisBody": {
            "eventList": [
                {
                    "type": "TransactionEvent",
                    "eventTime": "2026-11-20T09:00:00Z",
                    "action": "ADD",
                    "bizTransactionList": [{"bizTransaction": "urn:epcglobal:cbv:bt:x:1"}],
                    "epcList": ["urn:epc:id:sgtin:4012345.011111.1"],
                    "sensorElementList": [
                        {"sensorReport": [{"type": "gs1:Temperature", "value": 4.5, "uom": "CEL"}]}
                    ],
                }
            ]
        },
    }

    import_epcis(fresh, document)

    assert row_counts(fresh)["sensor_reading"] == 1


@pytest.mark.parametrize(
    "uri",
    [
        "urn:epc:id:sscc:0614141.",  # IndexError before
        "urn:epc:id:sscc:061414\u00b2.1234567890",  # a superscript two: ValueError before
        "urn:epc:class:lgtin:401234\u0665.012345.1",  # an Arabic-Indic five: a GTIN of it
        "urn:epc:id:sgln:061414\u00b2.00777.0",
    ],
)
def test_an_epc_with_digits_that_are_not_ascii_or_missing_is_an_epc_error(uri: str) -> None:
    with pytest.raises(EpcError):
        parse_epc(uri)
