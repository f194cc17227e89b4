"""Files for people: the FSMA 204 spreadsheet (CSV or XLSX) and the lineage diagram."""

from __future__ import annotations

import csv
from pathlib import Path

import graphviz
import xlsxwriter

from bot.render.markup import cell
from trace_engine.diagram import lineage_dot
from trace_engine.fsma import FSMA_COLUMNS, as_table, fsma_rows
from trace_engine.genealogy import Genealogy, LotRef

__all__ = ["DiagramError", "render_diagram", "write_fsma"]


class DiagramError(Exception):
    """The diagram could not be drawn (Graphviz is missing or failed)."""


def write_fsma(genealogy: Genealogy, lots: LotRef, path: Path) -> int:
    """Write the FSMA 204 sortable spreadsheet as .csv or .xlsx; return its row count."""
    rows = fsma_rows(genealogy, lots)
    table = as_table(rows)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([cell(value) for value in row] for row in table)
    elif suffix == ".xlsx":
        _write_xlsx(table, path)
    else:
        raise ValueError(f"Cannot write {path.name}: use a .csv or .xlsx file name.")
    return len(rows)


def _write_xlsx(table: list[list[object]], path: Path) -> None:
    # Text is written as text: a name such as '=HYPERLINK(…)' is no formula or link.
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        sheet = workbook.add_worksheet("FSMA 204 trace")
        header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top", "border": 1}
        )
        for column, title in enumerate(FSMA_COLUMNS):
            sheet.write(0, column, title, header)
            width = max(len(title) * 0.6, *(len(str(row[column])) for row in table[1:]), 10)
            sheet.set_column(column, column, min(width + 2, 48))
        for number, row in enumerate(table[1:], start=1):
            sheet.write_row(number, 0, ["" if value is None else value for value in row])
        sheet.set_row(0, 32)
        sheet.freeze_panes(1, 0)
        # An autofilter makes every column sortable and filterable in Excel.
        sheet.autofilter(0, 0, max(len(table) - 1, 1), len(FSMA_COLUMNS) - 1)
    finally:
        workbook.close()


def render_diagram(genealogy: Genealogy, lots: LotRef, fmt: str = "png") -> bytes:
    """The lineage diagram of ``lots`` as PNG or SVG bytes."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"Cannot draw a diagram as {fmt}: use png or svg.")
    # Twice the default resolution keeps the PNG sharp on phones and in Slack.
    source = lineage_dot(genealogy, lots, dpi=144 if fmt == "png" else None)
    try:
        return graphviz.Source(source).pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound as err:
        raise DiagramError("Graphviz is not installed (Debian package graphviz).") from err
    except graphviz.CalledProcessError as err:
        raise DiagramError(f"Graphviz could not draw the diagram: {err}") from err
