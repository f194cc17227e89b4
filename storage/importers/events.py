"""Events recorded through the REST API (``POST /api/events``).

Each event is a JSON object with a ``type`` and the columns of the matching CSV
file; a list is loaded all or nothing, in one transaction, like a CSV import; a
repeated event changes nothing; every change is audited and the irregularity
rules run on the lots touched (a failed QC result raises an alert).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from storage.importers.csv_import import RowError, import_rows, parse_datetime
from storage.importers.report import FileReport, ImportReport, Rejection
from storage.tables import AUDIT, HOLDS, ITEMS, LOTS
from storage.versioning import read_data_version

__all__ = ["EVENT_FILES", "record_events"]

EVENT_FILES = {
    "receipt": "receipts.csv",
    "consumption": "consumption.csv",
    "shipment": "shipments.csv",
    "qc": "qc.csv",
    "hold": "holds.csv",
}
"""The CSV file whose columns each event type carries ("release" closes holds)."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def record_events(url: str, events: Sequence[Any], *, actor: str) -> ImportReport:
    """Load ``events`` (decoded JSON) all or nothing; the report names rejects by JSON path."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    tables: dict[str, list[dict[str, str]]] = {}
    paths: dict[str, list[str]] = {}
    releases: list[tuple[str, dict[str, str]]] = []
    problems: list[Rejection] = []
    for index, event in enumerate(events):
        where = f"$[{index}]"
        if not isinstance(event, dict):
            problems.append(Rejection(where, 0, "an event is a JSON object"))
            continue
        kind = event.get("type")
        row = {str(key).lower(): _text(value) for key, value in event.items() if key != "type"}
        if kind == "release":
            row.setdefault("released_at", now)
            releases.append((where, row))
        elif kind in EVENT_FILES:
            if kind == "hold":
                row.setdefault("placed_at", now)
            tables.setdefault(EVENT_FILES[kind], []).append(row)
            paths.setdefault(EVENT_FILES[kind], []).append(where)
        else:
            known = ", ".join([*EVENT_FILES, "release"])
            problems.append(Rejection(f"{where}.type", 0, f"type must be one of {known}"))
    if problems:
        report = ImportReport()
        report.files.append(FileReport(file="events", table="", rejected=problems))
        return report
    release = _Releases(releases, actor)
    try:
        report = import_rows(
            url,
            tables,
            paths=paths,
            source="events",
            actor=actor,
            reason="recorded through POST /api/events",
            also=release,
        )
    except _Rejected:  # the transaction rolled back: nothing was written
        report = ImportReport()
        report.files.append(FileReport(file="events", table="hold", rejected=release.rejected))
        return report
    if release.changed:
        report.files.append(
            FileReport(file="events", table="hold", updated=release.changed, touched=set())
        )
    return report


class _Releases:
    """Closes the open holds of the released lots inside the events' transaction."""

    def __init__(self, releases: list[tuple[str, dict[str, str]]], actor: str) -> None:
        self.releases = releases
        self.actor = actor
        self.rejected: list[Rejection] = []
        self.changed = 0

    def __call__(self, connection: Connection) -> None:
        for where, row in self.releases:
            code, sku = row.get("lot_code", ""), row.get("sku", "")
            if not code:
                self.rejected.append(Rejection(f"{where}.lot_code", 0, "lot_code is required"))
                continue
            query = select(LOTS.c.id).join(ITEMS, ITEMS.c.id == LOTS.c.item_id)
            query = query.where(LOTS.c.lot_code == code)
            if sku:
                query = query.where(ITEMS.c.sku == sku)
            ids = list(connection.execute(query).scalars())
            if len(ids) != 1:
                reason = f"no lot {code}" if not ids else f"lot {code} is shared; add its sku"
                self.rejected.append(Rejection(f"{where}.lot_code", 0, reason))
                continue
            try:
                at = parse_datetime(row["released_at"], "released_at")
            except RowError as err:
                self.rejected.append(Rejection(f"{where}.released_at", 0, str(err)))
                continue
            by = row.get("released_by") or self.actor
            closed = connection.execute(
                update(HOLDS)
                .where(HOLDS.c.lot_id == ids[0], HOLDS.c.released_at.is_(None))
                .values(released_at=at, released_by=by)
            ).rowcount
            if not closed:
                continue  # not on hold: a repeated release changes nothing
            connection.execute(
                update(LOTS)
                .where(LOTS.c.id == ids[0])
                .values(status="released", revision=read_data_version(connection))
            )
            connection.execute(
                insert(AUDIT),
                {
                    "at": datetime.now(UTC),
                    "actor": self.actor,
                    "action": "release",
                    "entity": "lot",
                    "entity_key": code,
                    "detail": json.dumps({"lot_id": ids[0], "released_by": by}),
                    "reason": row.get("reason", ""),
                },
            )
            self.changed += closed
        if self.rejected:
            raise _Rejected


class _Rejected(Exception):
    """A release named no single lot: the whole request is refused."""
