"""EPCIS 2.0 import: the GS1 examples, idempotency, all-or-nothing, QC failures."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import text

import storage
from storage.db import init_schema, make_engine
from storage.importers.epcis import EpcisError, import_epcis, read_epcis
from storage.stats import count_rows
from tests.conftest import SHARED

EXAMPLES = sorted((SHARED / "epcis-examples").glob("*.jsonld"))


@pytest.fixture
def fresh(sqlite_url: str) -> str:
    init_schema(sqlite_url)
    return sqlite_url


@pytest.mark.skipif(not EXAMPLES, reason="../shared/epcis-examples is not beside the repository")
@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_every_gs1_example_loads(fresh: str, path: Path) -> None:
    report = import_epcis(fresh, read_epcis(path), source=path.name)

    assert report.rejected == []
    assert report.events >= 1
    with make_engine(fresh).connect() as connection:
        assert (
            connection.execute(text("select count(*) from epcis_event")).scalar_one()
            == report.events
        )


def test_receiving_becomes_a_receipt_from_the_source_party(fresh: str) -> None:
    import_epcis(fresh, read_epcis(SHARED / "epcis-examples" / "Example_9.6.2-ObjectEvent.jsonld"))

    upstream = storage.load_genealogy(fresh, preload=False).upstream("998877")

    assert upstream.suppliers == ("GLN 4012345000016",)
    receipt = upstream.receipts[0]
    assert (receipt.lot, receipt.quantity, receipt.uom, receipt.date.isoformat()) == (
        "998877",
        200.0,
        "kg",
        "2013-06-08",
    )


def test_transformation_links_inputs_to_outputs(fresh: str) -> None:
    import_epcis(
        fresh, read_epcis(SHARED / "epcis-examples" / "Example_9.6.4-TransformationEvent.jsonld")
    )
    genealogy = storage.load_genealogy(fresh)

    # input lgtin 4012345.011111.4444 (10 kg) went into each serialised output
    assert genealogy.downstream("4444").downstream_lots == ("25", "26", "27", "28")
    # serial 25 is both an input (of GTIN 04012345111224) and an output: pick the output
    assert "4444" in genealogy.upstream("25", sku="04012345778892").upstream_lots


def test_digital_link_and_urn_forms_load_the_same_lots(sqlite_url: str, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    for url, name in (
        (sqlite_url, "Example_9.6.4-TransformationEvent.jsonld"),
        (other, "Example_9.6.4-TransformationEventWithDigitalLink.jsonld"),
    ):
        init_schema(url)
        import_epcis(url, read_epcis(SHARED / "epcis-examples" / name))

    assert count_rows(sqlite_url) == count_rows(other)
    assert storage.load_genealogy(sqlite_url).downstream("4444") == storage.load_genealogy(
        other
    ).downstream("4444")


def test_importing_a_document_again_changes_nothing(fresh: str) -> None:
    document = read_epcis(SHARED / "epcis-examples" / "EPCISQueryDocument.jsonld")
    import_epcis(fresh, document)
    counts = count_rows(fresh)

    again = import_epcis(fresh, document)

    assert (again.events, again.skipped_events, again.changed) == (0, 2, 0)
    assert count_rows(fresh) == counts


def _inspection(disposition: str) -> dict[str, object]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T10:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-11-20T09:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "action": "OBSERVE",
                    "bizStep": "https://ref.gs1.org/cbv/BizStep-inspecting",
                    "disposition": disposition,
                    "quantityList": [
                        {
                            "epcClass": "urn:epc:class:lgtin:4012345.012345.LOT77",
                            "quantity": 50,
                            "uom": "KGM",
                        }
                    ],
                    "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"},
                }
            ]
        },
    }


def test_non_conformant_inspection_is_a_failed_qc_check_with_an_alert(fresh: str) -> None:
    report = import_epcis(fresh, _inspection("non_conformant"))

    checks = storage.load_genealogy(fresh, preload=False).qc_status("LOT77").checks
    assert [(c.test, c.result, c.value) for c in checks] == [
        ("inspection", "fail", "non_conformant")
    ]
    assert report.alerts == 1


def test_conformant_inspection_passes(fresh: str) -> None:
    import_epcis(fresh, _inspection("https://ref.gs1.org/cbv/Disp-conformant"))

    checks = storage.load_genealogy(fresh, preload=False).qc_status("LOT77").checks
    assert [c.result for c in checks] == ["pass"]


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (lambda e: e.pop("eventTime"), "$.epcisBody.eventList[1].eventTime", "missing"),
        (
            lambda e: e.update(eventTime="yesterday"),
            "$.epcisBody.eventList[1].eventTime",
            "not a date and time: 'yesterday'",
        ),
        (
            lambda e: e.update(type="TeleportEvent"),
            "$.epcisBody.eventList[1].type",
            "an event type this importer does not read: 'TeleportEvent'",
        ),
        (
            lambda e: e["quantityList"][0].update(quantity=-5),
            "$.epcisBody.eventList[1].quantityList[0].quantity",
            "expected a non-negative number, got -5",
        ),
        (
            lambda e: e.update(action="CREATE"),
            "$.epcisBody.eventList[1].action",
            'expected ADD, OBSERVE or DELETE, got "CREATE"',
        ),
        (lambda e: e.pop("action"), "$.epcisBody.eventList[1].action", "missing"),
        (
            lambda e: e.update(bizStep="transforming"),
            "$.epcisBody.eventList[1].bizStep",
            '"transforming" is no CBV bizStep (use CBV\'s word or a URI)',
        ),
        (
            lambda e: e.update(disposition="in_transport"),
            "$.epcisBody.eventList[1].disposition",
            '"in_transport" is no CBV disposition (use CBV\'s word or a URI)',
        ),
        (
            lambda e: e["quantityList"][0].update(quantity="twenty"),
            "$.epcisBody.eventList[1].quantityList[0].quantity",
            'expected a number, got "twenty"',
        ),
        (
            lambda e: e["quantityList"][0].update(weight=5),
            "$.epcisBody.eventList[1].quantityList[0].weight",
            "not a field of a quantity element",
        ),
        (
            lambda e: e.update(ilmd={"materialType": "soil"}),
            "$.epcisBody.eventList[1].ilmd.materialType",
            "an ilmd field needs a namespace prefix",
        ),
        (
            lambda e: e.pop("quantityList"),
            "$.epcisBody.eventList[1]",
            "an ObjectEvent names no epcList or quantityList",
        ),
    ],
)
def test_a_bad_event_refuses_the_whole_document(fresh: str, change, path: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    document = _inspection("conformant")
    events = document["epcisBody"]["eventList"]  # type: ignore[index]
    bad = copy.deepcopy(events[0])
    bad["eventID"] = "urn:uuid:bad"
    change(bad)
    events.append(bad)

    with pytest.raises(EpcisError) as refused:
        import_epcis(fresh, document)

    assert (refused.value.path, refused.value.reason) == (path, reason)
    assert count_rows(fresh)["lots"] == 0  # the good event did not load either


def _event(**fields: object) -> dict[str, object]:
    """One ObjectEvent of lot LOT77 at the demo site, with ``fields`` changed."""
    event = copy.deepcopy(_inspection("conformant")["epcisBody"]["eventList"][0])  # type: ignore[index]
    event.pop("disposition")
    event.update(fields)
    return event  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "text",
    [
        "\ufeff" + json.dumps(_inspection("conformant")),  # a byte-order mark
        json.dumps(_event(bizStep="inspecting")),  # a bare event
        json.dumps([_event(bizStep="inspecting"), _event(eventTime="2026-11-20T10:00:00Z")]),
    ],
    ids=["bom", "bare-event", "event-list"],
)
def test_a_bom_a_bare_event_or_a_list_of_events_loads(
    fresh: str, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "sent.json"
    path.write_text(text, encoding="utf-8")

    report = import_epcis(fresh, read_epcis(path))

    assert report.events >= 1
    assert count_rows(fresh)["lots"] == 1


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("urn:epc:id:grai:4012345.66666.87", "a GRAI, which names no goods, pallet or place"),
        ("https://id.gs1.org/8004/95212340BMS26001", "a Digital Link of GS1 key 8004"),
        ("https://id.example.com/8003/952012200000001004", "no GS1 Digital Link of goods"),
        ("urn:epc:class:lgtin:nonsense", "unreadable (an EPC this importer does not read"),
    ],
)
def test_an_identifier_that_names_no_goods_is_a_warning_and_the_rest_loads(
    fresh: str, uri: str, why: str
) -> None:
    event = _event(bizStep="inspecting", epcList=[uri])

    report = import_epcis(fresh, {**_inspection("conformant"), "epcisBody": {"eventList": [event]}})

    assert count_rows(fresh)["lots"] == 1  # LOT77 of the quantity list
    [warning] = report.warnings
    assert warning.startswith(f"$.epcisBody.eventList[0].epcList[0]: {uri!r} is ")
    assert why in warning and "not traced" in warning


def test_a_geo_location_is_a_warning_not_a_refusal(fresh: str) -> None:
    event = _event(bizStep="inspecting", bizLocation={"id": "geo:50.8,4.35"})

    report = import_epcis(fresh, {**_inspection("conformant"), "epcisBody": {"eventList": [event]}})

    assert count_rows(fresh)["lots"] == 1
    assert report.warnings == [
        "$.epcisBody.eventList[0].bizLocation.id: 'geo:50.8,4.35' is an identifier that names "
        "no goods, pallet or place here: no party or place recorded for it"
    ]


def test_an_extension_event_type_is_recorded_with_a_warning(fresh: str) -> None:
    event = _event(type="ext:TemperatureLogEvent")

    report = import_epcis(fresh, {**_inspection("conformant"), "epcisBody": {"eventList": [event]}})

    assert (report.events, count_rows(fresh)["lots"]) == (1, 0)
    assert report.warnings == [
        "$.epcisBody.eventList[0].type: 'ext:TemperatureLogEvent' is no EPCIS event type: "
        "recorded, not traced"
    ]


@pytest.mark.parametrize(
    ("kind", "step", "lists", "table", "warned"),
    [
        ("ObjectEvent", "receiving", ("epcList", "quantityList"), "receipts", "sourceList"),
        ("ObjectEvent", "shipping", ("epcList", "quantityList"), "shipments", "destinationList"),
        ("TransactionEvent", "receiving", ("epcList", "quantityList"), "receipts", "sourceList"),
        (
            "TransactionEvent",
            "shipping",
            ("epcList", "quantityList"),
            "shipments",
            "destinationList",
        ),
        (
            "AggregationEvent",
            "receiving",
            ("childEPCs", "childQuantityList"),
            "receipts",
            "sourceList",
        ),
    ],
)
def test_goods_moved_with_no_party_named_are_recorded_from_an_unknown_one(
    fresh: str, kind: str, step: str, lists: tuple[str, str], table: str, warned: str
) -> None:
    event = _event(type=kind, action="ADD", bizStep=step)
    event[lists[1]] = event.pop("quantityList")
    if kind == "AggregationEvent":
        event["parentID"] = "urn:epc:id:sscc:4012345.0000000001"
    elif kind == "TransactionEvent":
        event["bizTransactionList"] = [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:PO-1"}
        ]

    report = import_epcis(fresh, {**_inspection("conformant"), "epcisBody": {"eventList": [event]}})

    assert count_rows(fresh)[table] == 1
    assert report.warnings == [
        f"$.epcisBody.eventList[0].{warned}: no "
        f"{'supplier' if table == 'receipts' else 'customer'} in {warned}: recorded from an "
        f"unknown {'supplier' if table == 'receipts' else 'customer'}"
    ]


def test_a_document_without_its_context_is_refused(fresh: str) -> None:
    document = _inspection("conformant")
    document.pop("@context")

    with pytest.raises(EpcisError) as refused:
        import_epcis(fresh, document)

    assert refused.value.path == "$.@context"


def test_read_epcis_refuses_what_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonld"
    path.write_text('{"type": "EPCISDocument",')

    with pytest.raises(
        EpcisError,
        match=r"^Refused the EPCIS document: \$ \(line 1, column 26\): not JSON: Expecting property name",
    ):
        read_epcis(path)


def test_cli_import_epcis_reports_events(fresh: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "inspection.jsonld"
    path.write_text(json.dumps(_inspection("non_conformant")))

    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", fresh, "import", "epcis", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["events"], report["alerts"]) == (1, 1)


def test_export_and_import_into_a_fresh_database_keeps_every_answer(
    sqlite_url: str, db_url: str
) -> None:
    from datetime import date

    from bot.service import TraceService
    from storage.demo_plant import EXAMPLE_QUESTIONS, load_demo
    from storage.epcis_export import export_epcis

    load_demo(sqlite_url, anchor=date(2026, 11, 25))
    document = json.loads(
        json.dumps(export_epcis(sqlite_url))
    )  # through JSON text, as a file would
    init_schema(db_url)

    report = import_epcis(db_url, document)

    assert report.rejected == []
    copied_rows, original_rows = count_rows(db_url), count_rows(sqlite_url)
    # Alerts are not data: EPCIS carries no QC-release policy, and the copy's events
    # are older (history) by the day it is made.
    copied_rows.pop("alerts"), original_rows.pop("alerts")
    assert copied_rows == original_rows
    original = TraceService(storage.load_genealogy(sqlite_url), sqlite_url)
    copied = TraceService(storage.load_genealogy(db_url), db_url)
    questions = [
        *EXAMPLE_QUESTIONS,
        "mock recall on L-2024-0113",
        "reconcile lot L-2024-0113",
        "did 4471 pass QC?",
        "when does HN-0877 expire?",
        "what did Sysco get in the last 100 days?",
        "which recipe version made lot 5133?",
    ]
    for question in questions:
        assert (
            copied.ask(question, today=date(2026, 11, 25)).data
            == original.ask(question, today=date(2026, 11, 25)).data
        ), question


def test_export_of_a_trace_names_only_its_lots(sqlite_url: str) -> None:
    from datetime import date

    from storage.demo_plant import load_demo
    from storage.epcis_export import export_epcis

    load_demo(sqlite_url, anchor=date(2026, 11, 25))

    document = export_epcis(sqlite_url, ["5120"])

    classes = {
        event["quantityList"][0]["epcClass"]
        for event in document["epcisBody"]["eventList"]
        if event.get("bizStep") == "creating_class_instance"
    }
    assert len(classes) == 9  # 5120, its base 240115-03 and their seven inputs
    assert "https://id.gs1.org/01/00614141000432/10/5120" in classes


def _document(*events: dict[str, object]) -> dict[str, object]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "epcisBody": {"eventList": list(events)},
    }


PALLET = "urn:epc:id:sscc:0614141.1234567890"


def test_aggregation_packs_lots_into_an_sscc_that_a_shipment_then_names(fresh: str) -> None:
    packed = read_epcis(SHARED / "epcis-examples" / "Example_9.6.3-AggregationEvent.jsonld")
    shipped = _document(
        {
            "type": "ObjectEvent",
            "eventID": "urn:uuid:ship-pallet",
            "eventTime": "2013-06-09T08:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "epcList": [PALLET],
            "destinationList": [
                {"type": "owning_party", "destination": "urn:epc:id:pgln:4012345.00000"}
            ],
        }
    )

    import_epcis(fresh, packed)
    import_epcis(fresh, shipped)

    with make_engine(fresh).connect() as connection:
        packing = connection.execute(
            text("select sscc, quantity, uom from packing order by id")
        ).all()
    assert [tuple(row) for row in packing] == [
        ("106141412345678908", 1.0, "ea"),
        ("106141412345678908", 1.0, "ea"),
        ("106141412345678908", 200.5, "kg"),
    ]
    genealogy = storage.load_genealogy(fresh, preload=False)
    assert genealogy.downstream("998877").customers == ("GLN 4012345000009",)
    assert [line.quantity for line in genealogy.downstream("998877").shipments] == [200.5]


def test_packing_csv_loads_units_and_nested_units(database: str, tmp_path: Path) -> None:
    from storage.importers.csv_import import import_csv_dir
    from tests.conftest import write_csv
    from tests.storage.test_csv_import import write_plant

    plant = write_plant(tmp_path / "plant")
    write_csv(
        plant,
        "packing.csv",
        [
            [
                "sscc",
                "lot_code",
                "sku",
                "child_sscc",
                "quantity",
                "uom",
                "packed_at",
                "unpacked_at",
            ],
            ["106141412345678908", "4471", "", "", "40", "ea", "2026-11-04T08:00:00", ""],
            ["106141412345678915", "", "", "106141412345678908", "", "", "2026-11-04T09:00:00", ""],
            ["106141412345678900", "4471", "", "", "1", "ea", "2026-11-04T08:00:00", ""],
        ],
    )

    first = import_csv_dir(database, plant)
    again = import_csv_dir(database, plant)

    assert [str(r) for r in first.rejected] == [
        "packing.csv:4: bad SSCC in sscc: Invalid SSCC check digit for '106141412345678900': Expected 8, got 0."
    ]
    with make_engine(database).connect() as connection:
        assert connection.execute(text("select count(*) from packing")).scalar_one() == 2
    assert next(f for f in again.files if f.file == "packing.csv").inserted == 0


def test_error_declaration_undoes_the_event_it_retracts(fresh: str) -> None:
    document = read_epcis(SHARED / "epcis-examples" / "ErrorDeclarationAndCorrectiveEvent.jsonld")
    declaration, corrective = document["epcisBody"]["eventList"]
    original = {k: v for k, v in declaration.items() if k != "errorDeclaration"}
    import_epcis(fresh, _document(original))
    links_before = count_rows(fresh)["links"]

    report = import_epcis(fresh, _document(declaration, corrective))

    assert links_before == 2  # the original linked its two input lots to its output
    assert report.events == 2
    with make_engine(fresh).connect() as connection:
        links = connection.execute(text("select count(*), min(at) from link")).one()
        audit = connection.execute(
            text("select action, reason from audit_log where action = 'retract'")
        ).all()
    assert links[0] == 2  # the corrective event's links, dated 2021, replace the original's
    assert str(links[1]).startswith("2021-01-28")
    assert [tuple(row) for row in audit] == [("retract", "EPCIS error declaration")]


def test_an_event_declared_erroneous_first_is_never_loaded(fresh: str) -> None:
    document = read_epcis(SHARED / "epcis-examples" / "ErrorDeclarationAndCorrectiveEvent.jsonld")
    declaration = document["epcisBody"]["eventList"][0]
    original = {k: v for k, v in declaration.items() if k != "errorDeclaration"}

    import_epcis(fresh, _document(declaration))
    late = import_epcis(fresh, _document(original))

    assert (late.events, late.skipped_events) == (0, 1)
    assert count_rows(fresh)["links"] == 0


def test_sensor_readings_are_kept_and_excursions_raise_alerts(fresh: str, tmp_path: Path) -> None:
    from storage.importers.csv_import import import_csv_dir
    from storage.importers.epc import parse_epc
    from tests.conftest import write_csv

    gtin = parse_epc("urn:epc:id:sgtin:4012345.011111.9876").gtin
    write_csv(
        tmp_path / "items",
        "items.csv",
        [
            ["sku", "name", "kind", "uom", "shelf_life_days", "gtin", "temperature_max"],
            ["CHILLED-1", "Chilled dessert", "finished", "ea", "21", gtin, "25"],
        ],
    )
    import_csv_dir(fresh, tmp_path / "items")

    report = import_epcis(
        fresh, read_epcis(SHARED / "epcis-examples" / "SensorDataExample1.jsonld")
    )

    with make_engine(fresh).connect() as connection:
        kinds = connection.execute(
            text("select type, count(*) from sensor_reading group by type order by type")
        ).all()
        messages = (
            connection.execute(
                text("select message from alert where kind = 'sensor_excursion' order by id")
            )
            .scalars()
            .all()
        )
    assert [tuple(row) for row in kinds] == [
        ("AbsoluteHumidity", 3),
        ("Illuminance", 3),
        ("Speed", 3),
        ("Temperature", 3),
    ]
    assert report.alerts == 3
    assert (
        messages[0]
        == "Temperature excursion on lot 9876 (Chilled dessert): 26.0 °C on 2019-04-02 14:05, outside 25.0 °C at most."
    )


@pytest.mark.parametrize(("unit", "code"), [("cs", "CS"), ("box", "BX"), ("kg", "KGM")])
def test_a_lots_unit_travels_as_its_un_cefact_code_and_comes_back(
    fresh: str, tmp_path: Path, unit: str, code: str
) -> None:
    from storage.epcis_export import export_epcis
    from tests.storage.test_csv_import import write_plant

    plant = write_plant(tmp_path / "plant")
    lots = (plant / "lots.csv").read_text().replace(",800,kg,", f",800,{unit},", 1)
    (plant / "lots.csv").write_text(lots)
    from storage.importers.csv_import import import_csv_dir

    import_csv_dir(fresh, plant)
    document = export_epcis(fresh, ["B-1"])
    again = f"sqlite:///{tmp_path / 'again.db'}"
    init_schema(again)

    import_epcis(again, document)

    units = {
        element.get("uom")
        for event in document["epcisBody"]["eventList"]
        for key in ("quantityList", "inputQuantityList", "outputQuantityList")
        for element in event.get(key) or []
        if "B-1" in element["epcClass"] or "B-1".replace("-", "%2D") in element["epcClass"]
    }
    assert code in units
    with make_engine(again).connect() as connection:
        stored = connection.execute(text("select uom from lot where lot_code = 'B-1'")).scalar_one()
    assert stored == unit
