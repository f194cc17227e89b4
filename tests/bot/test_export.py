"""FSMA 204 spreadsheet and lineage diagram files, from a real database."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest

import storage
from bot.export import render_diagram, write_fsma
from storage.importers.csv_import import import_csv_dir
from tests.storage.test_csv_import import write_plant
from trace_engine import Genealogy
from trace_engine.diagram import lineage_dot
from trace_engine.fsma import FSMA_COLUMNS


@pytest.fixture
def genealogy(sqlite_url: str, tmp_path: Path) -> Genealogy:
    from storage.db import init_schema

    init_schema(sqlite_url)
    import_csv_dir(sqlite_url, write_plant(tmp_path / "plant"))
    return storage.load_genealogy(sqlite_url, preload=False)


def test_write_fsma_csv_has_one_row_per_critical_tracking_event(
    genealogy: Genealogy, tmp_path: Path
) -> None:
    path = tmp_path / "trace.csv"

    count = write_fsma(genealogy, ["B-1"], path)

    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert count == len(rows) == 8
    assert list(rows[0]) == list(FSMA_COLUMNS)
    events = [
        (r["Critical Tracking Event"], r["Traceability Lot Code"], r["Reference Document Number"])
        for r in rows
    ]
    assert events == [
        ("Receiving", "AC-778", "PO-1"),
        ("Receiving", "BB-12", "PO-2"),
        ("Transformation", "B-1", "WO-1"),
        ("Transformation", "B-1", "WO-1"),
        ("Transformation", "4471", "WO-2"),
        ("Transformation", "4471", "WO-2"),
        ("Shipping", "4471", "BOL-1"),
        ("Shipping", "4471", "BOL-7"),
    ]
    receiving = rows[0]
    assert receiving["Traceability Lot Code Source"] == "Acme Grain Co. (GLN 0614141000005)"
    assert receiving["Internal Lot Code"] == "R-OAT-1"
    assert {rows[2]["Input Traceability Lot Code"], rows[3]["Input Traceability Lot Code"]} == {
        "AC-778",
        "BB-12",
    }
    assert rows[-1]["Ship-To / Receiving Location"] == "Sysco"


def test_write_fsma_xlsx_is_a_sortable_workbook(genealogy: Genealogy, tmp_path: Path) -> None:
    path = tmp_path / "trace.xlsx"

    write_fsma(genealogy, ["4471"], path)

    with zipfile.ZipFile(path) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        strings = workbook.read("xl/sharedStrings.xml").decode()
    assert "<autoFilter" in sheet
    assert "Traceability Lot Code Source" in strings
    assert "BOL-7" in strings


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz is installed by scripts/system-packages.sh"
)
@pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_render_diagram_draws_png_and_svg(genealogy: Genealogy, fmt: str, magic: bytes) -> None:
    drawing = render_diagram(genealogy, ["B-1"], fmt)

    assert drawing.startswith(magic)
    if fmt == "svg":
        assert b"Acme Grain Co." in drawing and b"Sysco" in drawing


def test_lineage_dot_puts_suppliers_left_and_customers_right(genealogy: Genealogy) -> None:
    dot = lineage_dot(genealogy, ["B-1"])

    assert "rankdir=LR" in dot
    assert "{ rank=source;" in dot and "{ rank=sink;" in dot
    assert "penwidth=2.2" in dot  # the named lot stands out


def test_lineage_dot_keeps_large_traces_legible(tmp_path: Path) -> None:
    from trace_engine.memory import MemoryStore

    codes = [f"L{n:03d}" for n in range(120)]
    store = MemoryStore.build(
        lots=dict.fromkeys(codes, "FIN"), links=[(codes[0], code) for code in codes[1:]]
    )

    dot = lineage_dot(Genealogy(store), codes[0], limit=50)

    assert dot.count('[label="L') == 50
    assert "and 70 more lots" in dot
