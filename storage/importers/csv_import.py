"""Import a directory of CSV files in the contract's format.

Files load in dependency order (items and parties, then lots, then the events that
name them), each in one transaction. A row that cannot be loaded is reported with
its file, line and reason and the rest of the file still loads. Re-importing the
same files changes nothing: master data is compared with what is stored and only
real differences are written; events carry natural keys that unique indexes
enforce, so a repeated event is skipped.

The hot path uses SQLAlchemy Core executemany with plain tuples of values, never
one ORM object per row: a million consumption rows load in seconds.

Besides the contract's files, three optional files carry what a plant also keeps:
``holds.csv`` (lot_code, sku?, reason, placed_by, placed_at, released_by,
released_at), ``formulas.csv`` (sku, version, effective_from, changed_by, summary,
ingredients) and ``adjustments.csv`` (lot_code, sku?, quantity, reason, at, by).
``lots.csv`` may carry a ``status`` column; ``consumption.csv`` may name
``output_sku`` and ``input_sku`` where a lot code is shared by two items.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import networkx as nx
from biip import ParseError as BiipParseError
from biip.gln import Gln
from biip.gtin import Gtin
from biip.sscc import Sscc
from sqlalchemy import Connection, Date, DateTime, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from storage.alerts import (
    HORIZON_DAYS,
    check_rules,
    checked_up_to,
    mark_unchecked,
    missed_checks,
)
from storage.db import make_engine, require_schema
from storage.importers.report import FileReport, ImportReport, Rejection
from storage.models import ITEM_KINDS, LOT_STATUSES, PARTY_KINDS, QC_RESULTS
from storage.tables import (
    ADJUSTMENTS,
    AUDIT,
    FORMULAS,
    HOLDS,
    ITEMS,
    LINKS,
    LOTS,
    PACKING,
    PARTIES,
    QC_CHECKS,
    RECEIPTS,
    SENSOR_READINGS,
    SHIPMENTS,
)
from storage.versioning import bump_data_version
from trace_engine.codes import lot_code_problem

__all__ = ["CSV_FILES", "Progress", "import_csv_dir"]

Progress = Callable[[str, int, int], None]
"""Called with (file name, rows done, rows in the file) while a file loads."""

BATCH = 20_000

log = logging.getLogger(__name__)


class RowError(Exception):
    """A row cannot be loaded; the message is the reason shown to the user."""


# --- reading values -----------------------------------------------------------


class Row:
    """One data row: its line number and a getter by column name.

    The reader pads ``values`` past the header's width with one empty string, so
    a column the file lacks (index -1) reads as empty without a branch.
    """

    __slots__ = ("columns", "line", "values")

    def __init__(self, line: int, values: Sequence[str], columns: dict[str, int]) -> None:
        self.line = line
        self.values = values
        self.columns = columns

    def get(self, column: str) -> str:
        return self.values[self.columns.get(column, -1)].strip()

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise RowError(f"missing {column}")
        return value


def parse_date(value: str, column: str) -> date | None:
    """An ISO date, or the date part of an ISO datetime; empty is None.

    Example:
        >>> parse_date("2024-01-15", "produced_on")
        datetime.date(2024, 1, 15)
        >>> parse_date("2024-13-01", "on")
        Traceback (most recent call last):
        ...
        storage.importers.csv_import.RowError: bad date '2024-13-01' in on (expected YYYY-MM-DD)
    """
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value).date()
    except ValueError as err:
        raise RowError(f"bad date {value!r} in {column} (expected YYYY-MM-DD)") from err


def parse_datetime(value: str, column: str) -> datetime | None:
    """An ISO datetime (or date, at midnight) as naive plant-local time; empty is None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise RowError(
            f"bad date {value!r} in {column} (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
        ) from err
    return moment.replace(tzinfo=None)


def parse_quantity(value: str, column: str, *, signed: bool = False) -> float | None:
    """A finite number; negative only where ``signed``; empty is None.

    Example:
        >>> parse_quantity("12.5", "quantity")
        12.5
        >>> parse_quantity("-3", "quantity")
        Traceback (most recent call last):
        ...
        storage.importers.csv_import.RowError: negative quantity -3 in quantity
    """
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as err:
        raise RowError(f"bad number {value!r} in {column}") from err
    if not math.isfinite(number):
        raise RowError(f"bad number {value!r} in {column}")
    if number < 0 and not signed:
        raise RowError(f"negative quantity {value} in {column}")
    return number


def _parse_int(value: str, column: str) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError as err:
        raise RowError(f"bad whole number {value!r} in {column}") from err
    if number < 0:
        raise RowError(f"negative number {value} in {column}")
    return number


def _choice(value: str, column: str, allowed: Sequence[str]) -> str:
    normalised = value.lower()
    if normalised not in allowed:
        raise RowError(f"bad {column} {value!r} (expected one of {', '.join(allowed)})")
    return normalised


def _gtin(value: str) -> str | None:
    if not value:
        return None
    try:
        return Gtin.parse(value).as_gtin_14()
    except BiipParseError as err:
        raise RowError(f"bad GTIN: {err}") from err


def _gln(value: str) -> str | None:
    if not value:
        return None
    try:
        return Gln.parse(value).value
    except BiipParseError as err:
        raise RowError(f"bad GLN: {err}") from err


# --- what is already stored -----------------------------------------------------


@dataclass(frozen=True)
class ItemRef:
    id: int
    sku: str
    uom: str
    shelf_life_days: int | None


class Catalog:
    """Look-ups from the codes a file uses to stored ids, refreshed per file."""

    def __init__(self, connection: Connection) -> None:
        self.version = 0  # the data version the current file's transaction writes
        self.items: dict[str, ItemRef] = {}
        self.item_sku: dict[int, str] = {}
        self.parties: dict[str, int] = {}
        self.lots: dict[str, dict[int, int]] = {}
        self.lots_stale = True  # lots are many: reload them only after a file wrote some
        self.refresh(connection)

    def refresh(self, connection: Connection) -> None:
        self.items = {
            sku: ItemRef(item_id, sku, uom, shelf_life)
            for item_id, sku, uom, shelf_life in connection.execute(
                select(ITEMS.c.id, ITEMS.c.sku, ITEMS.c.uom, ITEMS.c.shelf_life_days)
            )
        }
        self.item_sku = {ref.id: sku for sku, ref in self.items.items()}
        self.parties = dict(connection.execute(select(PARTIES.c.code, PARTIES.c.id)).all())
        if not self.lots_stale:
            return
        self.lots_stale = False
        lots: dict[str, dict[int, int]] = defaultdict(dict)
        for lot_id, code, item_id in connection.execute(
            select(LOTS.c.id, LOTS.c.lot_code, LOTS.c.item_id)
        ):
            lots[code][item_id] = lot_id
        self.lots = dict(lots)

    def item(self, sku: str) -> ItemRef:
        ref = self.items.get(sku)
        if ref is None:
            raise RowError(f"unknown item {sku!r}")
        return ref

    def party(self, code: str, column: str) -> int:
        party_id = self.parties.get(code)
        if party_id is None:
            raise RowError(f"unknown party {code!r} in {column}")
        return party_id

    def optional_party(self, code: str, column: str) -> int | None:
        return self.party(code, column) if code else None

    def lot(self, code: str, sku: str = "", *, column: str = "lot_code") -> int:
        """The id of lot ``code``, using ``sku`` where the code is shared."""
        by_item = self.lots.get(code)
        if not by_item:
            raise RowError(f"unknown lot {code!r} in {column}")
        if sku:
            lot_id = by_item.get(self.item(sku).id)
            if lot_id is None:
                raise RowError(f"unknown lot {code!r} of item {sku!r} in {column}")
            return lot_id
        if len(by_item) > 1:
            skus = " and ".join(sorted(self.item_sku[item_id] for item_id in by_item))
            raise RowError(f"lot code {code!r} is shared by items {skus}; add a sku column")
        return next(iter(by_item.values()))


# --- writing ----------------------------------------------------------------------


def _insert_ignoring_duplicates(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> int:
    """Insert rows given as dicts; see :func:`_insert_tuples`.

    A column some rows leave out, or all of them, takes its model default, as an
    ORM insert would.
    """
    if not rows:
        return 0
    given = set().union(*rows)
    columns = [
        column.name
        for column in table.c
        if column.name in given or (column.default is not None and column.default.is_scalar)
    ]
    fill = {name: _default(table, name) for name in columns}
    pick = itemgetter(*columns)
    values = [pick({**fill, **row}) if len(row) < len(columns) else pick(row) for row in rows]
    if len(columns) == 1:
        values = [(value,) for value in values]
    return _insert_tuples(connection, table, columns, values)


def _default(table: Table, name: str) -> Any:
    """A column's model default (None where it has none)."""
    default = table.c[name].default
    return default.arg if default is not None and default.is_scalar else None  # type: ignore[attr-defined]


def _insert_tuples(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> int:
    """Insert rows, skipping any that meets a unique index; return rows inserted.

    The statement is built once and the rows go to the driver's executemany as
    tuples, each value through its column type's own bind processor: SQLAlchemy
    stores them exactly as it would, without its per-row bookkeeping.
    """
    if not rows:
        return 0
    dialect = connection.dialect
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))}) ON CONFLICT DO NOTHING"
    )
    processors = [
        (index, processor)
        for index, name in enumerate(columns)
        if (processor := _bind_processor(table.c[name].type, dialect)) is not None
    ]
    before = _count(connection, table)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        if len(processors) == 1:
            index, processor = processors[0]
            batch = [(*v[:index], processor(v[index]), *v[index + 1 :]) for v in batch]
        elif processors:
            batch = [_processed(values, processors) for values in batch]
        connection.exec_driver_sql(statement, batch)
    return _count(connection, table) - before


def _bind_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's bind processor; on SQLite, C-speed twins of the date ones.

    SQLAlchemy stores SQLite dates as ``YYYY-MM-DD`` and naive datetimes as
    ``YYYY-MM-DD HH:MM:SS.ffffff``: exactly what ``isoformat`` writes.
    """
    if dialect.name == "sqlite" and type(column_type) is DateTime and not column_type.timezone:
        return lambda value: None if value is None else value.isoformat(" ", "microseconds")
    if dialect.name == "sqlite" and type(column_type) is Date:
        return lambda value: None if value is None else value.isoformat()
    processor: Callable[[Any], Any] | None = column_type.bind_processor(dialect)
    return processor


def _processed(values: tuple[Any, ...], processors: list[tuple[int, Any]]) -> tuple[Any, ...]:
    converted = list(values)
    for index, processor in processors:
        converted[index] = processor(converted[index])
    return tuple(converted)


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _sync(
    connection: Connection,
    table: Table,
    rows: list[dict],
    key: tuple[str, ...],
    report: FileReport,
    *,
    stamp: dict[str, Any] | None = None,
) -> None:
    """Write master data: insert new keys, update only the fields that differ.

    Each row's dict holds its ``key`` columns and the columns the file gives; a
    column the file does not have is left as stored. ``stamp`` is written with
    every inserted or updated row and not compared.
    """
    stamp = stamp or {}
    if not rows:
        return
    fields = sorted({name for row in rows for name in row} - set(key))
    stored = {
        tuple(record[: len(key)]): record
        for record in connection.execute(
            select(*(table.c[name] for name in key), table.c.id, *(table.c[f] for f in fields))
        )
    }
    new: dict[tuple, dict] = {}
    changed: list[dict] = []
    for row in rows:
        row_key = tuple(row[name] for name in key)
        record = stored.get(row_key)
        if record is None:
            new[row_key] = row  # a later row for the same key wins
            continue
        current = dict(zip(fields, record[len(key) + 1 :], strict=True))
        differences = {f: row[f] for f in fields if f in row and row[f] != current[f]}
        if differences:
            changed.append({"_id": record[len(key)], **differences, **stamp})
        else:
            report.unchanged += 1
    if new:
        _insert_ignoring_duplicates(connection, table, [{**row, **stamp} for row in new.values()])
        report.inserted += len(new)
    by_fields: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for change in changed:
        by_fields[tuple(sorted(set(change) - {"_id"}))].append(change)
    for changed_fields, group in by_fields.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in changed_fields})
        )
        connection.execute(statement, group)
    report.updated += len(changed)


# --- one loader per file ------------------------------------------------------------


def _item(row: Row) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sku": row.required("sku"),
        "name": row.required("name"),
        "kind": _choice(row.required("kind"), "kind", ITEM_KINDS),
        "uom": row.required("uom"),
        "shelf_life_days": _parse_int(row.get("shelf_life_days"), "shelf_life_days"),
        "gtin": _gtin(row.get("gtin")),
    }
    for limit in ("temperature_min", "temperature_max"):
        value = parse_quantity(row.get(limit), limit, signed=True)
        if value is not None:
            item[limit] = value
    release = row.get("qc_release").lower()
    if release:
        if release not in _BOOLEANS:
            raise RowError(f"bad qc_release {release!r} (expected true or false)")
        item["qc_release"] = _BOOLEANS[release]
    tolerance = row.get("overdraw_tolerance").rstrip("% ")
    if tolerance:
        value = parse_quantity(tolerance, "overdraw_tolerance")
        if value is None or value > 100:
            raise RowError(
                f"bad overdraw_tolerance {tolerance!r} (expected per cent, 0 to 100, as 2 or 2%)"
            )
        item["overdraw_tolerance"] = value
    return item


_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _load_items(connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport):
    records = _last_per_key(_records(rows, report, _item), ("sku",), report)
    _sync(connection, ITEMS, records, ("sku",), report)
    report.touched = None


def _party(row: Row) -> dict[str, Any]:
    return {
        "code": row.required("id"),
        "name": row.required("name"),
        "kind": _choice(row.required("kind"), "kind", PARTY_KINDS),
        "gln": _gln(row.get("gln")),
        "email": _email(row.get("email")),
        "phone": row.get("phone") or None,
    }


def _load_parties(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    records = _last_per_key(_records(rows, report, _party), ("code",), report)
    _sync(connection, PARTIES, records, ("code",), report)


def _email(value: str) -> str | None:
    if not value:
        return None
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value:
        raise RowError(f"bad e-mail address {value!r}")
    return value


def _lot_code(code: str) -> str:
    """A new lot's code, as the one rule for lot codes allows it."""
    problem = lot_code_problem(code)
    if problem is not None:
        raise RowError(problem)
    return code


def _lot_record(row: Row, catalog: Catalog) -> dict[str, Any]:
    item = catalog.item(row.required("sku"))
    produced_on = parse_date(row.get("produced_on"), "produced_on")
    received_on = parse_date(row.get("received_on"), "received_on")
    expires_on = parse_date(row.get("expires_on"), "expires_on")
    start = produced_on or received_on
    if expires_on is None and start is not None and item.shelf_life_days is not None:
        # Derived from the item's shelf life when the file does not say.
        expires_on = start + timedelta(days=item.shelf_life_days)
    record: dict[str, Any] = {
        "lot_code": _lot_code(row.required("lot_code")),
        "item_id": item.id,
        "uom": row.get("uom") or item.uom,
    }
    optional = {
        "quantity": parse_quantity(row.get("quantity"), "quantity"),
        "produced_on": produced_on,
        "received_on": received_on,
        "expires_on": expires_on,
        "site_id": catalog.optional_party(row.get("site"), "site"),
    }
    # An empty cell says nothing: it never clears what is stored.
    record.update((name, value) for name, value in optional.items() if value is not None)
    status = row.get("status")
    if status:
        record["status"] = _choice(status, "status", LOT_STATUSES)
    return record


def _load_lots(connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport):
    key = ("lot_code", "item_id")
    records = _records(rows, report, lambda row: _lot_record(row, catalog))
    records = _last_per_key(records, key, report)
    _sync(connection, LOTS, records, key, report, stamp={"revision": catalog.version})
    catalog.lots_stale = True
    report.touched = None


def _load_receipts(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    """Receipts; a received lot not yet in lots.csv is created from its receipt."""

    def parse(row: Row) -> dict[str, Any]:
        lot = _lot_record(row, catalog)
        if lot.get("received_on") is None:
            raise RowError("missing received_on")
        return {
            "lot": lot,
            "supplier_id": catalog.party(row.required("supplier"), "supplier"),
            "supplier_lot": row.get("supplier_lot"),
            "quantity": lot.get("quantity"),
            "uom": lot["uom"],
            "received_on": lot.get("received_on"),
            "site_id": lot.get("site_id"),
            "reference": row.get("reference"),
        }

    receipts = _records(rows, report, parse)
    lots = [receipt.pop("lot") for receipt in receipts]
    new_lots = {
        (lot["lot_code"], lot["item_id"]): lot
        for lot in lots
        if lot["item_id"] not in catalog.lots.get(lot["lot_code"], {})
    }
    if new_lots:
        # One shape for every row of the insert: a cell left empty takes the default.
        names = {name for lot in new_lots.values() for name in lot}
        connection.execute(
            insert(LOTS),
            [
                {name: lot.get(name, _default(LOTS, name)) for name in names}
                | {"revision": catalog.version}
                for lot in new_lots.values()
            ],
        )
        catalog.lots_stale = True
        catalog.refresh(connection)
    for receipt, lot in zip(receipts, lots, strict=True):
        receipt["lot_id"] = catalog.lots[lot["lot_code"]][lot["item_id"]]
    _count_inserted(connection, RECEIPTS, receipts, report)


LINK_COLUMNS = ("input_lot_id", "output_lot_id", "quantity", "uom", "at", "work_order")


def _load_consumption(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    # The largest file by far (millions of rows): values are read by index into
    # plain tuples, the common case inline; anything unusual takes the general path.
    records: list[tuple[Any, ...]] = []
    lines: list[int] = []
    lots = catalog.lots
    columns: dict[str, int] | None = None
    for row in rows:
        report.rows += 1
        if columns is None:
            columns = row.columns
            out_at, in_at, quantity_at, uom_at, time_at, order_at, out_sku_at, in_sku_at = (
                columns.get(name, -1)
                for name in (
                    "output_lot",
                    "input_lot",
                    "quantity",
                    "uom",
                    "at",
                    "work_order",
                    "output_sku",
                    "input_sku",
                )
            )
        values = row.values
        try:
            output_code = values[out_at].strip()
            input_code = values[in_at].strip()
            output_items = lots.get(output_code)
            input_items = lots.get(input_code)
            if (
                output_items is not None
                and input_items is not None
                and len(output_items) == 1
                and len(input_items) == 1
                and not values[out_sku_at]
                and not values[in_sku_at]
            ):
                output_id = next(iter(output_items.values()))
                input_id = next(iter(input_items.values()))
            else:
                output_id = catalog.lot(
                    row.required("output_lot"), row.get("output_sku"), column="output_lot"
                )
                input_id = catalog.lot(
                    row.required("input_lot"), row.get("input_sku"), column="input_lot"
                )
            if output_id == input_id:
                raise RowError(f"lot {input_code!r} cannot be an input of itself")
            amount = values[quantity_at].strip()
            moment = values[time_at].strip()
            records.append(
                (
                    input_id,
                    output_id,
                    parse_quantity(amount, "quantity") if amount else None,
                    values[uom_at].strip() or None,
                    parse_datetime(moment, "at") if moment else None,
                    values[order_at].strip(),
                )
            )
            lines.append(row.line)
        except RowError as err:
            report.rejected.append(Rejection(report.file, row.line, str(err)))
    existing = connection.execute(select(LINKS.c.input_lot_id, LINKS.c.output_lot_id)).all()
    cyclic = links_closing_cycles(
        [(input_id, output_id) for input_id, output_id in existing],
        [(record[0], record[1]) for record in records],
    )
    if cyclic:
        codes = {lot_id: code for code, by_item in lots.items() for lot_id in by_item.values()}
        for index in sorted(cyclic):
            source, target = codes[records[index][0]], codes[records[index][1]]
            report.rejected.append(
                Rejection(
                    report.file,
                    lines[index],
                    f"link {source} -> {target} would make lot {source!r} its own ancestor",
                )
            )
        records = [record for index, record in enumerate(records) if index not in cyclic]
    if report.touched is not None:
        report.touched.update(lot_id for record in records for lot_id in record[:2])
    inserted = _insert_tuples(connection, LINKS, LINK_COLUMNS, records)
    report.inserted += inserted
    report.unchanged += len(records) - inserted


def _load_shipments(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    def parse(row: Row) -> dict[str, Any]:
        return {
            "lot_id": catalog.lot(row.required("lot_code"), row.get("sku")),
            "party_id": catalog.party(row.required("to"), "to"),
            "from_site_id": catalog.optional_party(row.get("from_site"), "from_site"),
            "quantity": parse_quantity(row.get("quantity"), "quantity"),
            "uom": row.get("uom") or None,
            "shipped_on": parse_date(row.required("shipped_on"), "shipped_on"),
            "reference": row.get("reference"),
        }

    _count_inserted(connection, SHIPMENTS, _records(rows, report, parse), report)


def _load_qc(connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport):
    def parse(row: Row) -> dict[str, Any]:
        result = row.required("result").lower()
        result = {"passed": "pass", "failed": "fail"}.get(result, result)
        return {
            "lot_id": catalog.lot(row.required("lot_code"), row.get("sku")),
            "test": row.required("test"),
            "result": _choice(result, "result", QC_RESULTS),
            "value": row.get("value") or None,
            "spec": row.get("spec") or None,
            "performed_by": row.get("performed_by") or None,
            "signed_off_by": row.get("signed_off_by") or None,
            "at": parse_datetime(row.required("at"), "at"),
        }

    _count_inserted(connection, QC_CHECKS, _records(rows, report, parse), report)


def _load_holds(connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport):
    def parse(row: Row) -> dict[str, Any]:
        placed_at = parse_datetime(row.required("placed_at"), "placed_at")
        released_at = parse_datetime(row.get("released_at"), "released_at")
        if released_at is not None and placed_at is not None and released_at < placed_at:
            raise RowError("released_at is before placed_at")
        return {
            "lot_id": catalog.lot(row.required("lot_code"), row.get("sku")),
            "placed_at": placed_at,
            "reason": row.get("reason"),
            "placed_by": row.get("placed_by"),
            "released_by": row.get("released_by") or None,
            "released_at": released_at,
        }

    key = ("lot_id", "placed_at")
    records = _last_per_key(_records(rows, report, parse), key, report)
    if report.touched is not None:
        report.touched.update(record["lot_id"] for record in records)
    _sync(connection, HOLDS, records, key, report)
    # A lot's status follows its holds: on hold while one is open.
    open_holds = select(HOLDS.c.lot_id).where(HOLDS.c.released_at.is_(None))
    released = select(HOLDS.c.lot_id).where(HOLDS.c.released_at.is_not(None))
    connection.execute(
        update(LOTS)
        .where(LOTS.c.id.in_(open_holds), LOTS.c.status != "on_hold")
        .values(status="on_hold", revision=catalog.version)
    )
    connection.execute(
        update(LOTS)
        .where(LOTS.c.status == "on_hold", LOTS.c.id.in_(released), LOTS.c.id.not_in(open_holds))
        .values(status="released", revision=catalog.version)
    )


def _load_formulas(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    def parse(row: Row) -> dict[str, Any]:
        return {
            "item_id": catalog.item(row.required("sku")).id,
            "version": row.required("version"),
            "effective_from": parse_date(row.required("effective_from"), "effective_from"),
            "changed_by": row.get("changed_by"),
            "summary": row.get("summary"),
            "ingredients": row.get("ingredients"),
        }

    key = ("item_id", "version")
    records = _last_per_key(_records(rows, report, parse), key, report)
    _sync(connection, FORMULAS, records, key, report)


def _load_adjustments(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    def parse(row: Row) -> dict[str, Any]:
        return {
            "lot_id": catalog.lot(row.required("lot_code"), row.get("sku")),
            "quantity": parse_quantity(row.required("quantity"), "quantity", signed=True),
            "reason": row.get("reason"),
            "at": parse_datetime(row.required("at"), "at"),
            "by": row.get("by"),
        }

    _count_inserted(connection, ADJUSTMENTS, _records(rows, report, parse), report)


def _sscc(value: str, column: str) -> str:
    if not value:
        return ""
    try:
        return Sscc.parse(value.removeprefix("(00)")).value
    except BiipParseError as err:
        raise RowError(f"bad SSCC in {column}: {err}") from err


def _load_packing(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    def parse(row: Row) -> dict[str, Any]:
        code = row.get("lot_code")
        child = _sscc(row.get("child_sscc"), "child_sscc")
        if bool(code) == bool(child):
            raise RowError("name either a lot_code or a child_sscc")
        return {
            "sscc": _sscc(row.required("sscc"), "sscc"),
            "lot_id": catalog.lot(code, row.get("sku")) if code else None,
            "child_sscc": child,
            "quantity": parse_quantity(row.get("quantity"), "quantity"),
            "uom": row.get("uom") or None,
            "packed_at": parse_datetime(row.required("packed_at"), "packed_at"),
            "unpacked_at": parse_datetime(row.get("unpacked_at"), "unpacked_at"),
        }

    _count_inserted(connection, PACKING, _records(rows, report, parse), report)


def _load_sensor_readings(
    connection: Connection, rows: Iterable[Row], catalog: Catalog, report: FileReport
):
    def parse(row: Row) -> dict[str, Any]:
        code = row.get("lot_code")
        return {
            "lot_id": catalog.lot(code, row.get("sku")) if code else None,
            "type": row.required("type"),
            "value": parse_quantity(row.get("value"), "value", signed=True),
            "min_value": parse_quantity(row.get("min_value"), "min_value", signed=True),
            "max_value": parse_quantity(row.get("max_value"), "max_value", signed=True),
            "uom": row.get("uom"),
            "at": parse_datetime(row.required("at"), "at"),
            "device": row.get("device"),
        }

    _count_inserted(connection, SENSOR_READINGS, _records(rows, report, parse), report)


def _count_inserted(
    connection: Connection, table: Table, records: list[dict], report: FileReport
) -> None:
    if report.touched is not None:
        for key in ("lot_id", "input_lot_id", "output_lot_id"):
            report.touched.update(record[key] for record in records if key in record)
    inserted = _insert_ignoring_duplicates(connection, table, records)
    report.inserted += inserted
    report.unchanged += len(records) - inserted


def _parse_rows(
    rows: Iterable[Row], report: FileReport, parse: Callable[[Row], dict[str, Any]]
) -> list[tuple[Row, dict[str, Any]]]:
    """Parse every row; a row whose parse raises RowError, or holds a value wider than
    its column, is rejected with its reason (the same on SQLite and PostgreSQL)."""
    parsed = []
    widths = _widths(report.table)
    for row in rows:
        report.rows += 1
        try:
            record = parse(row)
            _check_widths(record, widths)
        except RowError as err:
            report.rejected.append(Rejection(report.file, row.line, str(err)))
            continue
        except (KeyError, ValueError, TypeError, ArithmeticError) as err:
            # A row no rule foresaw is still one row: the others load.
            log.warning("%s line %s: %r", report.file, row.line, err)
            reason = f"cannot read this row ({type(err).__name__}: {err})"
            report.rejected.append(Rejection(report.file, row.line, reason))
            continue
        parsed.append((row, record))
    return parsed


@cache
def _widths(table: str) -> dict[str, int]:
    """The widest text each column of ``table`` holds, by column name."""
    found = SQLModel.metadata.tables.get(table)
    if found is None:
        return {}
    widths = {}
    for column in found.columns:
        length = getattr(column.type, "length", None)
        if isinstance(length, int):
            widths[column.name] = length
    return widths


def _check_widths(record: dict[str, Any], widths: dict[str, int]) -> None:
    for name, value in record.items():
        width = widths.get(name)
        if width is not None and isinstance(value, str) and len(value) > width:
            raise RowError(f"{name} has {len(value)} characters; at most {width} fit")
        if isinstance(value, dict):  # a lot created with a receipt
            _check_widths(value, _widths("lot"))


def _records(
    rows: Iterable[Row], report: FileReport, parse: Callable[[Row], dict[str, Any]]
) -> list[dict[str, Any]]:
    return [record for _, record in _parse_rows(rows, report, parse)]


def _last_per_key(records: list[dict], key: tuple[str, ...], report: FileReport) -> list[dict]:
    """Keep one record per natural key (the last), counting the others unchanged."""
    unique = {tuple(record[name] for name in key): record for record in records}
    report.unchanged += len(records) - len(unique)
    return list(unique.values())


# --- cycles ---------------------------------------------------------------------------


def links_closing_cycles(
    existing: Sequence[tuple[int, int]], new: Sequence[tuple[int, int]]
) -> set[int]:
    """Indexes of the new (input, output) links that would close a cycle.

    New links are taken in order: a link is refused when its output already
    reaches its input through the stored links and the new links accepted before
    it. The whole graph is checked once in linear time; only the strongly
    connected parts that hold a cycle are examined link by link.

    Example:
        >>> links_closing_cycles([(1, 2)], [(2, 3), (3, 1), (1, 3)])
        {1}
    """
    if not new:
        return set()
    candidates = _nodes_on_cycles(existing, new)
    if not candidates:
        return set()
    graph = nx.DiGraph()
    graph.add_edges_from(
        edge for edge in (*existing, *new) if edge[0] in candidates and edge[1] in candidates
    )
    refused: set[int] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        accepted: dict[int, list[int]] = defaultdict(list)
        for source, target in existing:
            if source in component and target in component:
                accepted[source].append(target)
        for index, (source, target) in enumerate(new):
            if source not in component or target not in component:
                continue
            if _reaches(accepted, target, source):
                refused.add(index)
            else:
                accepted[source].append(target)
    return refused


def _nodes_on_cycles(
    existing: Sequence[tuple[int, int]], new: Sequence[tuple[int, int]]
) -> set[int]:
    """Nodes left after peeling away sources, then sinks (Kahn's algorithm both ways).

    Empty when the graph is acyclic; otherwise a superset of the nodes on cycles.
    """
    successors: dict[int, list[int]] = defaultdict(list)
    predecessors: dict[int, list[int]] = defaultdict(list)
    for source, target in (*existing, *new):
        successors[source].append(target)
        predecessors[target].append(source)
    nodes = set(successors) | set(predecessors)
    _peel(nodes, successors)
    if nodes:
        _peel(nodes, predecessors)
    return nodes


def _peel(nodes: set[int], successors: dict[int, list[int]]) -> None:
    """Remove from ``nodes`` every node no cycle can reach, following ``successors``."""
    degree = dict.fromkeys(nodes, 0)
    for node in nodes:
        for neighbour in successors.get(node, ()):
            if neighbour in degree:
                degree[neighbour] += 1
    queue = deque(node for node, count in degree.items() if count == 0)
    while queue:
        node = queue.popleft()
        nodes.discard(node)
        for neighbour in successors.get(node, ()):
            if neighbour in nodes:
                degree[neighbour] -= 1
                if degree[neighbour] == 0:
                    queue.append(neighbour)


def _reaches(successors: dict[int, list[int]], start: int, goal: int) -> bool:
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for neighbour in successors.get(node, ()):
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return False


# --- the directory ----------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    name: str
    table: str
    required: tuple[str, ...]
    load: Callable[[Connection, Iterable[Row], Catalog, FileReport], None]


CSV_FILES: tuple[FileSpec, ...] = (
    FileSpec("items.csv", "item", ("sku", "name", "kind", "uom"), _load_items),
    FileSpec("parties.csv", "party", ("id", "name", "kind"), _load_parties),
    FileSpec("lots.csv", "lot", ("lot_code", "sku"), _load_lots),
    FileSpec(
        "receipts.csv", "receipt", ("lot_code", "sku", "supplier", "received_on"), _load_receipts
    ),
    FileSpec(
        "formulas.csv", "formula_version", ("sku", "version", "effective_from"), _load_formulas
    ),
    FileSpec("consumption.csv", "link", ("output_lot", "input_lot"), _load_consumption),
    FileSpec("shipments.csv", "shipment", ("lot_code", "to", "shipped_on"), _load_shipments),
    FileSpec("qc.csv", "qc_check", ("lot_code", "test", "result", "at"), _load_qc),
    FileSpec("holds.csv", "hold", ("lot_code", "placed_at"), _load_holds),
    FileSpec("adjustments.csv", "adjustment", ("lot_code", "quantity", "at"), _load_adjustments),
    FileSpec("packing.csv", "packing", ("sscc", "packed_at"), _load_packing),
    FileSpec("sensor_readings.csv", "sensor_reading", ("type", "at"), _load_sensor_readings),
)


def import_csv_dir(
    url: str,
    directory: Path,
    *,
    actor: str = "cli",
    reason: str = "",
    progress: Progress | None = None,
    history: bool | None = None,
    horizon: int | None = HORIZON_DAYS,
    today: date | None = None,
) -> ImportReport:
    """Load every known CSV file in ``directory`` into the database at ``url``.

    Args:
        url: the database URL; its schema must be current (``tracebot init``).
        directory: a folder holding any subset of the contract's CSV files.
        actor: who is importing, for the audit log.
        reason: why, for the audit log.
        progress: called as rows are read.
        history: the files are past data: their irregularities are recorded and
            summed up in one post, not posted one by one. None: only when the
            database held no lot before (a plant's first import).
        horizon: events older than this many days before ``today`` are history
            too (None: no horizon).

    Returns:
        The report: counts per file and every rejected row.

    Raises:
        FileNotFoundError: the directory does not exist or holds no known file.
        storage.errors.SchemaOutdated: the database needs ``tracebot init``.
    """
    if not directory.is_dir():
        raise FileNotFoundError(f"No such directory: {directory}")
    present = [spec for spec in CSV_FILES if (directory / spec.name).is_file()]
    if not present:
        names = ", ".join(spec.name for spec in CSV_FILES)
        raise FileNotFoundError(f"No CSV file to import in {directory} (looked for {names})")
    require_schema(url)
    engine = make_engine(url)
    report = ImportReport()
    with engine.connect() as connection:
        catalog = Catalog(connection)
        if history is None:
            history = connection.execute(select(LOTS.c.id).limit(1)).first() is None
        connection.rollback()
    missed = missed_checks(url)  # a run an earlier import never made: all lots this time
    for spec in present:
        audit = _Audit(actor=actor, reason=reason or f"CSV import from {directory}")
        report.files.append(
            _import_file(engine, directory / spec.name, spec, catalog, progress, audit)
        )
    touched = None if missed is not None else report.touched
    marked = missed_checks(url)
    if touched is None or touched:
        report.alerts = check_rules(
            url,
            touched,
            history=history,
            horizon=horizon if horizon is not None else 36_500,
            today=today,
        )
    if marked is not None:
        checked_up_to(url, marked)
    return report


def _import_file(
    engine: Any,
    path: Path,
    spec: FileSpec,
    catalog: Catalog,
    progress: Progress | None,
    audit: _Audit,
) -> FileReport:
    report = FileReport(file=path.name, table=spec.table)
    started = time.perf_counter()
    total = _count_lines(path) if progress else 0
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            # Raising the version first takes the write lock: writers queue here.
            catalog.version = bump_data_version(connection)
            catalog.refresh(connection)
            rows = _read_rows(path, spec, report, progress, total)
            spec.load(connection, rows, catalog, report)
            if report.inserted or report.updated:
                audit.record(connection, report)
                mark_unchecked(connection)  # with the rows: a run missed is seen later
            else:
                transaction.rollback()  # nothing changed, not even the version
    except _BadFile as err:
        report.rejected.append(Rejection(path.name, err.line, str(err)))
    except SQLAlchemyError as err:
        # The file's transaction rolled back: nothing of it was loaded.
        catalog.lots_stale = True
        report.inserted = report.updated = report.unchanged = 0
        report.rejected.append(
            Rejection(path.name, 0, f"file not loaded, the database refused it: {_first_line(err)}")
        )
    report.rejected.sort(key=lambda rejection: rejection.line)
    report.seconds = time.perf_counter() - started
    return report


def import_rows(
    url: str,
    tables: dict[str, list[dict[str, str]]],
    *,
    paths: dict[str, list[str]],
    source: str,
    actor: str,
    reason: str,
    also: Callable[[Connection], None] | None = None,
    horizon: int = HORIZON_DAYS,
) -> ImportReport:
    """Load rows shaped like the CSV files' (by file name) in ONE transaction.

    All or nothing: when any row is rejected, nothing is written and the report
    names each rejected row by ``paths`` (where it came from, such as a JSON
    path) instead of a line. ``also`` runs inside the transaction before it
    commits. Used by the EPCIS importer.
    """
    require_schema(url)
    engine = make_engine(url)
    report = ImportReport()
    audit = _Audit(actor=actor, reason=reason)
    with engine.connect() as connection, connection.begin() as transaction:
        catalog = Catalog(connection)
        catalog.version = bump_data_version(connection)
        for spec in CSV_FILES:
            rows = tables.get(spec.name)
            if not rows:
                continue
            file_report = FileReport(file=source, table=spec.table)
            catalog.refresh(connection)
            names = sorted({name for row in rows for name in row})
            columns = {name: index for index, name in enumerate(names)}
            spec.load(
                connection,
                (
                    Row(index, [*(row.get(name, "") for name in names), ""], columns)
                    for index, row in enumerate(rows)
                ),
                catalog,
                file_report,
            )
            where = paths.get(spec.name, [])
            file_report.rejected = [
                Rejection(where[r.line] if r.line < len(where) else source, 0, r.reason)
                for r in file_report.rejected
            ]
            report.files.append(file_report)
        if report.rejected:
            transaction.rollback()
            for file_report in report.files:
                file_report.inserted = file_report.updated = file_report.unchanged = 0
            return report
        if also is not None:
            also(connection)
        for file_report in report.files:
            if file_report.inserted or file_report.updated:
                audit.record(connection, file_report)
                mark_unchecked(connection)
    missed = missed_checks(url)
    touched = report.touched
    if touched is None or touched:
        report.alerts = check_rules(url, touched, horizon=horizon)
    if missed is not None:
        checked_up_to(url, missed)
    return report


class _BadFile(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def _first_line(err: SQLAlchemyError) -> str:
    original = getattr(err, "orig", None) or err
    return str(original).strip().splitlines()[0]


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return max(
            sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1, 0
        )


class _Lines:
    """The file's physical lines as the CSV reader takes them, with those of the row
    being read kept: a row is judged by its own lines."""

    __slots__ = ("handle", "taken")

    def __init__(self, handle: Iterator[str]) -> None:
        self.handle = handle
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        self.taken.append(line)
        return line


_UNREADABLE = re.compile("[\udc80-\udcff\x00]")
"""A byte that is no UTF-8 (read as a lone surrogate) or a NUL."""


def _unreadable(lines: Sequence[str]) -> str | None:
    """Why these lines cannot be read as text, or None."""
    for line in lines:
        found = _UNREADABLE.search(line)
        if found is None:
            continue
        if found[0] == "\x00":
            return "holds a NUL character"
        byte = ord(found[0]) - 0xDC00
        return f"is not UTF-8 text (byte 0x{byte:02X}); save the file as UTF-8"
    return None


def _swallowed(values: Sequence[str], lines: Sequence[str], width: int) -> bool:
    """Whether a row spanning several lines is a quote left open that ran on over
    whole rows (a value holding line breaks that look like rows of this file)."""
    if len(lines) < 2 or not any("\n" in value for value in values):
        return False
    return any(line.count(",") >= max(width - 1, 1) for line in lines[1:])


def _read_rows(
    path: Path, spec: FileSpec, report: FileReport, progress: Progress | None, total: int
) -> Iterator[Row]:
    """The file's data rows, each judged on its own: a row that is not UTF-8, holds a
    NUL or opens a quote it never closes is rejected at its own first line, and the
    rows around it are read as usual."""
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise _BadFile(1, f"unreadable header: {err}") from err
        problem = _unreadable(lines.taken)
        if problem:
            raise _BadFile(1, f"the header {problem}")
        names = [name.strip().lower() for name in header]
        twice = sorted({name for name in names if name and names.count(name) > 1})
        if twice:
            raise _BadFile(1, f"column {', '.join(twice)} appears twice in the header")
        columns = {name: index for index, name in enumerate(names)}
        missing = [name for name in spec.required if name not in columns]
        if missing:
            raise _BadFile(1, f"missing column {', '.join(missing)} in the header")
        width = len(header)
        done = 0

        def reject(line: int, reason: str) -> None:
            report.rows += 1
            report.rejected.append(Rejection(path.name, line, reason))

        def judged(line: int, values: list[str], taken: Sequence[str]) -> Row | None:
            problem = _unreadable(taken)
            if problem:
                reject(line, f"this row {problem}")
                return None
            if not any(values):
                return None  # a blank line
            if len(values) < width:
                values.extend([""] * (width - len(values)))
            values.append("")
            return Row(line, values, columns)

        while True:
            first = reader.line_num + 1
            lines.taken = []
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as err:
                reject(first, f"unreadable row: {err}")
                continue
            taken = lines.taken
            if _swallowed(values, taken, width):
                # The quote opened here runs on over the rows below: this row is
                # rejected, and the lines it took are read again, each on its own.
                reject(first, "a quote opened in this row is never closed on its line")
                for offset, raw in enumerate(taken[1:], start=1):
                    if raw.count('"') % 2:
                        reject(first + offset, "a quote in this row is not closed")
                        continue
                    row = judged(first + offset, next(csv.reader([raw]), []), [raw])
                    if row is not None:
                        yield row
                continue
            row = judged(first, values, taken)
            if row is None:
                continue
            done += 1
            if progress and done % 10_000 == 0:
                progress(path.name, done, total)
            yield row
        if progress:
            progress(path.name, total, total)


@dataclass(frozen=True)
class _Audit:
    """Who imports and why; one audit-log entry per file that changed something."""

    actor: str
    reason: str

    def record(self, connection: Connection, report: FileReport) -> None:
        connection.execute(
            insert(AUDIT),
            {
                "at": datetime.now(UTC),
                "actor": self.actor,
                "action": "import",
                "entity": report.table,
                "entity_key": report.file,
                "detail": json.dumps(report.as_dict()),
                "reason": self.reason,
            },
        )
