"""EPCIS documents written by other systems (../shared/epcis-corpus): JSON and XML,
valid ones loaded, invalid ones refused at their place, never a traceback."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from storage.db import init_schema
from storage.importers.epcis import EpcisError, import_epcis, read_epcis
from storage.stats import count_rows
from tests.conftest import SHARED

CORPUS = SHARED / "epcis-corpus"
ROWS = (
    list(csv.DictReader((CORPUS / "MANIFEST.tsv").open(), delimiter="\t"))
    if (CORPUS / "MANIFEST.tsv").exists()
    else []
)
needs_corpus = pytest.mark.skipif(not ROWS, reason="../shared/epcis-corpus is not beside the repo")


def _outcome(folder: Path, name: str, path: Path) -> str:
    url = f"sqlite:///{folder / name}.db"
    init_schema(url)
    try:
        import_epcis(url, read_epcis(path), source=path.name)
    except EpcisError:
        return "refused"
    return "loaded"  # anything else raised fails the test: a traceback a user would see


@needs_corpus
def test_the_corpus_loads_what_is_valid_and_refuses_what_is_not(tmp_path: Path) -> None:
    outcomes = {
        row["file"]: (row["expected"], _outcome(tmp_path, str(n), CORPUS / row["file"]))
        for n, row in enumerate(ROWS)
    }

    valid = [got for expected, got in outcomes.values() if expected == "valid"]
    invalid = [got for expected, got in outcomes.values() if expected == "invalid"]
    xml_valid = [got for f, (e, got) in outcomes.items() if f.startswith("xml/") and e == "valid"]
    assert valid.count("loaded") / len(valid) >= 0.98, [
        f for f, (e, got) in outcomes.items() if e == "valid" and got != "loaded"
    ]
    assert invalid.count("refused") / len(invalid) >= 0.90
    assert xml_valid and set(xml_valid) == {"loaded"}


def _pair(name: str) -> tuple[Path, Path]:
    folder = "openepcis+openepcis-document-converter/extensions/src/test/resources"
    return CORPUS / "json" / folder / f"{name}.json", CORPUS / "xml" / folder / f"{name}.xml"


@needs_corpus
@pytest.mark.parametrize("name", ["1. GS1_Eg_EPCIS_Document", "2. GS1_Eg_EPCIS_Document"])
def test_a_document_in_xml_loads_as_the_same_document_in_json(tmp_path: Path, name: str) -> None:
    as_json, as_xml = _pair(name)
    json_url, xml_url = f"sqlite:///{tmp_path}/j.db", f"sqlite:///{tmp_path}/x.db"
    init_schema(json_url)
    init_schema(xml_url)

    from_json = import_epcis(json_url, read_epcis(as_json))
    from_xml = import_epcis(xml_url, read_epcis(as_xml))

    assert count_rows(xml_url) == count_rows(json_url)
    assert from_xml.events == from_json.events > 0


def test_an_xml_refusal_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "event.xml"
    path.write_text(
        '<?xml version="1.0"?>\n'
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0">\n'
        "<EPCISBody><EventList>\n"
        "<ObjectEvent>\n"
        "  <eventTime>2026-11-20T09:00:00Z</eventTime>\n"
        "  <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>\n"
        "  <epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList>\n"
        "  <action>CREATE</action>\n"
        "</ObjectEvent>\n"
        "</EventList></EPCISBody></epcis:EPCISDocument>\n"
    )
    url = f"sqlite:///{tmp_path}/t.db"
    init_schema(url)

    with pytest.raises(EpcisError) as refused:
        import_epcis(url, read_epcis(path))

    assert refused.value.path == "line 8 ($.epcisBody.eventList[0].action)"
    assert count_rows(url)["lots"] == 0


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        ("<a><b></a>", "line 1", "not well-formed XML"),
        ('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "line 1", "expected EPCISDocument"),
        ("<EPCISDocument/>", "line 1", "no <EPCISBody>"),
    ],
)
def test_xml_that_is_no_epcis_document_is_refused_at_its_line(
    tmp_path: Path, text: str, path: str, reason: str
) -> None:
    file = tmp_path / "bad.xml"
    file.write_text(text)

    with pytest.raises(EpcisError) as refused:
        read_epcis(file)

    assert refused.value.path == path
    assert refused.value.reason.startswith(reason)
