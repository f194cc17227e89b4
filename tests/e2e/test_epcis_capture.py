"""EPCIS capture over HTTP: `tracebot serve` under uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from storage.db import init_schema
from storage.stats import count_rows
from tests.conftest import SHARED
from tests.e2e.servers import tracebot_server

pytestmark = pytest.mark.e2e
KEY = "s3cret-capture-key"


@pytest.fixture
def server(sqlite_url: str) -> Iterator[tuple[str, str]]:
    init_schema(sqlite_url)
    with tracebot_server(sqlite_url, {"TRACEBOT_API_KEYS": f"lab:{KEY}"}) as base:
        yield base, sqlite_url


def example() -> bytes:
    return (SHARED / "epcis-examples" / "Example_9.6.2-ObjectEvent.jsonld").read_bytes()


def test_capture_without_a_key_is_refused(server: tuple[str, str]) -> None:
    base, url = server

    response = httpx.post(f"{base}/api/epcis/capture", content=example())

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "missing_api_key", "message": "Send an API key in the X-API-Key header."}
    }
    assert count_rows(url)["receipts"] == 0


def test_capture_with_a_wrong_key_is_refused(server: tuple[str, str]) -> None:
    base, _ = server

    response = httpx.post(
        f"{base}/api/epcis/capture", content=example(), headers={"X-API-Key": "guess"}
    )

    assert response.status_code == 403


def test_capture_loads_the_document_once(server: tuple[str, str]) -> None:
    base, url = server
    headers = {"X-API-Key": KEY, "Content-Type": "application/ld+json"}

    first = httpx.post(f"{base}/api/epcis/capture", content=example(), headers=headers)
    again = httpx.post(f"{base}/api/epcis/capture", content=example(), headers=headers)

    assert first.status_code == 201
    assert (first.json()["events"], again.json()["events"], again.json()["skipped_events"]) == (
        1,
        0,
        1,
    )
    assert count_rows(url)["receipts"] == 1


def test_capture_of_a_bad_document_names_the_field(server: tuple[str, str]) -> None:
    base, url = server
    document = json.loads(example())
    del document["epcisBody"]["eventList"][0]["eventTime"]

    response = httpx.post(f"{base}/api/epcis/capture", json=document, headers={"X-API-Key": KEY})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_epcis",
            "message": "missing",
            "path": "$.epcisBody.eventList[0].eventTime",
        }
    }
    assert count_rows(url)["lots"] == 0


def test_capture_takes_a_list_of_events_and_names_what_it_did_not_trace(
    server: tuple[str, str],
) -> None:
    base, url = server
    [event] = json.loads(example())["epcisBody"]["eventList"]
    asset = {**event, "eventID": "urn:uuid:6b9a4a1e-0000-4000-8000-00000000a55e"}
    asset["epcList"] = ["urn:epc:id:grai:4012345.66666.87"]
    asset.pop("quantityList", None)

    response = httpx.post(
        f"{base}/api/epcis/capture", json=[event, asset], headers={"X-API-Key": KEY}
    )

    assert response.status_code == 201, response.text
    assert response.json()["events"] == 2
    assert response.json()["warnings"] == [
        "$.epcisBody.eventList[1].epcList[0]: 'urn:epc:id:grai:4012345.66666.87' is a GRAI, "
        "which names no goods, pallet or place: recorded with its event, not traced"
    ]
    assert count_rows(url)["receipts"] == 1


def test_capture_takes_epcis_xml(server: tuple[str, str]) -> None:
    base, url = server
    document = (
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2">'
        "<EPCISBody><EventList><ObjectEvent>"
        "<eventTime>2026-11-20T09:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
        "<epcList/><action>OBSERVE</action><bizStep>urn:epcglobal:cbv:bizstep:receiving</bizStep>"
        "<bizLocation><id>urn:epc:id:sgln:0614141.00888.0</id></bizLocation>"
        "<extension><quantityList><quantityElement>"
        "<epcClass>urn:epc:class:lgtin:4012345.012345.998877</epcClass>"
        "<quantity>200</quantity><uom>KGM</uom></quantityElement></quantityList>"
        '<sourceList><source type="urn:epcglobal:cbv:sdt:possessing_party">'
        "urn:epc:id:sgln:4012345.00001.0</source></sourceList></extension>"
        "</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>"
    )

    response = httpx.post(
        f"{base}/api/epcis/capture",
        content=document,
        headers={"X-API-Key": KEY, "Content-Type": "application/xml"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["events"] == 1
    assert count_rows(url)["receipts"] == 1
