"""Events recorded through the REST API (``POST /api/events``).

Each event is a JSON object with a ``type`` and the columns of the matching CSV
file; a list is loaded all or nothing, in one transaction, like a CSV import; a
repeated event changes nothing; every change is audited and the irregularity
rules run on the lots touched (a failed QC result raises an alert).

Every event that cannot be recorded is named by the JSON path of its bad value
and the reason, not only the first one; then nothing at all is written. A value
is text, a number, true, false or null (never an object or a list); lot codes
(``lot_code``, ``input_lot``, ``output_lot``) pass the one rule of
:mod:`trace_engine.codes`; one call takes at most ``MAX_EVENTS`` events.

Example:
    >>> print(check_event({"type": "receipt", "lot_code": "L 7", "quantity": 5}, "$[2]"))
    $[2].lot_code:0: a lot code may not hold ' ' (allowed: letters, digits and !"%&'()*+,-./:;<=>?_)
    >>> print(check_event({"type": "qc", "lot_code": "4471", "at": [2026]}, "$[0]"))
    $[0].at:0: expected text, a number, true, false or null, got a list
    >>> check_event({"type": "qc", "lot_code": "4471", "result": "pass"}, "$[0]") is None
    True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from storage.alerts import HORIZON_DAYS
from storage.importers.csv_import import (
    RowError,
    import_rows,
    parse_date,
    parse_datetime,
    parse_quantity,
)
from storage.importers.epcis import json_path
from storage.importers.report import FileReport, ImportReport, Rejection
from storage.tables import AUDIT, HOLDS, ITEMS, LOTS
from storage.versioning import read_data_version
from trace_engine.codes import lot_code_problem

__all__ = ["EVENT_FILES", "MAX_EVENTS", "check_event", "record_events"]

EVENT_FILES = {
    "receipt": "receipts.csv",
    "consumption": "consumption.csv",
    "shipment": "shipments.csv",
    "qc": "qc.csv",
    "hold": "holds.csv",
}
"""The CSV file whose columns each event type carries ("release" closes holds)."""

MAX_EVENTS = 10_000
"""Events one call may record; a longer list is refused whole (a CSV import takes more)."""

_LOT_CODES = ("lot_code", "input_lot", "output_lot")
_CHECKS = {
    **dict.fromkeys(_LOT_CODES, "lot"),
    "quantity": "quantity",
    **dict.fromkeys(("received_on", "shipped_on", "produced_on", "expires_on"), "date"),
    **dict.fromkeys(("at", "placed_at", "released_at"), "moment"),
}
"""The columns whose values are checked before loading, and as what."""


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any) -> str:
    """A JSON value as the text of a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        raise RowError(f"{json.dumps(value)} is not a number JSON allows")
    if isinstance(value, str | int | float):
        try:
            return str(value)
        except ValueError as err:  # an integer of more than 4,300 digits
            raise RowError("a number too long to read") from err
    raise RowError(f"expected text, a number, true, false or null, got {_shown(value)}")


def _check(column: str, text: str) -> None:
    """Refuse a lot code outside the rule, or a quantity or date that is none."""
    check = _CHECKS.get(column)
    if not text or check is None:
        return
    if check == "lot":
        problem = lot_code_problem(text)
        if problem is not None:
            raise RowError(problem)
    elif check == "quantity":
        parse_quantity(text, column)
    elif check == "date":
        parse_date(text, column)
    else:
        parse_datetime(text, column)


def _read(event: Any, where: str) -> tuple[str, dict[str, str], dict[str, str]] | Rejection:
    """An event's type, its row (columns in lower case) and each column's own key; or
    the first fault found, at its JSON path."""
    if not isinstance(event, dict):
        return Rejection(where, 0, f"an event is a JSON object, got {_shown(event)}")
    kind = event.get("type")
    if not isinstance(kind, str) or (kind not in EVENT_FILES and kind != "release"):
        known = ", ".join([*EVENT_FILES, "release"])
        got = "" if kind is None else f", got {_shown(kind)}"
        return Rejection(f"{where}.type", 0, f"type must be one of {known}{got}")
    row: dict[str, str] = {}
    keys: dict[str, str] = {}
    for key, value in event.items():
        if key == "type":
            continue
        column = str(key).lower()
        try:
            text = _text(value)
            _check(column, text.strip())
        except RowError as err:
            return Rejection(json_path(where, str(key)), 0, str(err))
        row[column] = text
        keys[column] = str(key)
    return kind, row, keys


def check_event(event: Any, where: str = "$") -> Rejection | None:
    """Why ``event`` (decoded JSON) cannot be recorded, by the JSON path of the bad
    value (``where`` is the event's own); None when nothing short of the database
    refuses it (an unknown lot, party or item is found while loading)."""
    read = _read(event, where)
    return read if isinstance(read, Rejection) else None


_NAMED = (
    re.compile(r"^missing (\w+)$"),
    re.compile(r" in (\w+)(?: \(.*\))?$"),
    re.compile(r"^bad (\w+) '"),
    re.compile(r"^(\w+) has \d+ characters"),
)
"""Where a loader's reason names the column at fault ("bad number 'x' in quantity")."""


def _at_field(rejection: Rejection, keys: dict[str, dict[str, str]]) -> Rejection:
    """A loader's rejection (named by event) named by the event's field where it can be."""
    own = keys.get(rejection.file, {})
    if rejection.reason.startswith("unknown item "):
        columns = ["sku"]
    else:
        columns = [found[1] for pattern in _NAMED if (found := pattern.search(rejection.reason))]
    for column in columns:
        if column in own or rejection.reason == f"missing {column}":
            key = own.get(column, column)
            return Rejection(json_path(rejection.file, key), 0, rejection.reason)
    return rejection


def _order(rejection: Rejection) -> int:
    found = re.match(r"\$\[(\d+)\]", rejection.file)
    return int(found[1]) if found else -1


def record_events(
    url: str, events: Sequence[Any], *, actor: str, horizon: int = HORIZON_DAYS
) -> ImportReport:
    """Load ``events`` (decoded JSON) all or nothing.

    Returns:
        The import's report; when any event is refused, ``report.rejected`` names
        every one refused (by the JSON path of its bad value, in event order) and
        nothing was written.
    """
    if len(events) > MAX_EVENTS:
        reason = f"at most {MAX_EVENTS:,} events at a time, got {len(events):,}"
        return _refused([Rejection("$", 0, reason)])
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    tables: dict[str, list[dict[str, str]]] = {}
    paths: dict[str, list[str]] = {}
    keys: dict[str, dict[str, str]] = {}
    releases: list[tuple[str, dict[str, str]]] = []
    problems: list[Rejection] = []
    for index, event in enumerate(events):
        where = f"$[{index}]"
        read = _read(event, where)
        if isinstance(read, Rejection):
            problems.append(read)
            continue
        kind, row, keys[where] = read
        if kind == "release":
            row.setdefault("released_at", now)
            releases.append((where, row))
            continue
        if kind == "hold":
            row.setdefault("placed_at", now)
        tables.setdefault(EVENT_FILES[kind], []).append(row)
        paths.setdefault(EVENT_FILES[kind], []).append(where)
    # With a fault already found the rest still loads, to name every fault, and is
    # then rolled back.
    release = _Releases(releases, actor, refuse=bool(problems))
    try:
        report = import_rows(
            url,
            tables,
            paths=paths,
            source="events",
            actor=actor,
            reason="recorded through POST /api/events",
            also=release,
            horizon=horizon,
        )
    except _Rejected:  # the transaction rolled back: nothing was written
        report = ImportReport()
    rejected = [*problems, *(_at_field(r, keys) for r in report.rejected), *release.rejected]
    if rejected:
        return _refused(sorted(rejected, key=_order))
    if release.changed:
        report.files.append(
            FileReport(file="events", table="hold", updated=release.changed, touched=set())
        )
    return report


def _refused(rejected: list[Rejection]) -> ImportReport:
    report = ImportReport()
    report.files.append(FileReport(file="events", table="", rejected=rejected))
    return report


class _Releases:
    """Closes the open holds of the released lots inside the events' transaction;
    with ``refuse`` (another event was refused) it rolls the transaction back."""

    def __init__(
        self, releases: list[tuple[str, dict[str, str]]], actor: str, *, refuse: bool
    ) -> None:
        self.releases = releases
        self.actor = actor
        self.refuse = refuse
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
        if self.rejected or self.refuse:
            raise _Rejected


class _Rejected(Exception):
    """An event was refused: the whole request is rolled back."""
