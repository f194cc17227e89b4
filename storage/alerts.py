"""Running the irregularity rules over stored data and recording their alerts.

SQL narrows the facts to candidates (failed checks, shipments, links whose input
had expired or was held, per-lot totals); the engine's pure rules decide and word
the alerts; each is inserted under its unique key, so it is recorded once however
often the rules run.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import make_engine
from storage.repository import QC_COLUMNS, SHIPMENT_COLUMNS, SqlStore
from storage.tables import (
    ADJUSTMENTS,
    ALERTS,
    HOLDS,
    ITEMS,
    LINKS,
    LOTS,
    META,
    QC_CHECKS,
    SENSOR_READINGS,
    SHIPMENTS,
)
from storage.versioning import bump_data_version
from trace_engine.model import HoldFacts, LinkFacts, QcFacts, SensorFacts, ShipmentFacts
from trace_engine.rules import (
    TOLERANCE,
    AlertDraft,
    Names,
    consumption_irregularities,
    overdrawn_lots,
    qc_failures,
    sensor_excursions,
    shipment_irregularities,
)
from trace_engine.units import convert

__all__ = ["STATES", "check_rules", "history_of", "open_alerts", "wake_snoozed"]

CHUNK = 5_000
WHOLE_TABLE = 20_000


def _scoped(statement: Any, column: Any, lot_ids: Collection[int] | None) -> Iterator[Any]:
    """The statement as is (every lot), or once per chunk of ``lot_ids``."""
    if lot_ids is None:
        yield statement
        return
    ordered = sorted(lot_ids)
    for start in range(0, len(ordered), CHUNK):
        yield statement.where(column.in_(ordered[start : start + CHUNK]))


def _rows(
    connection: Connection, statement: Any, column: Any, lot_ids: Collection[int] | None
) -> list[Any]:
    return [
        row for scoped in _scoped(statement, column, lot_ids) for row in connection.execute(scoped)
    ]


def find_irregularities(url: str, lot_ids: Collection[int] | None = None) -> list[AlertDraft]:
    """Every irregularity touching ``lot_ids`` (every lot when None)."""
    if lot_ids is not None and len(lot_ids) > WHOLE_TABLE:
        lot_ids = None  # scanning whole tables beats thousands of IN lists
    store = SqlStore(url)
    with make_engine(url).connect() as connection:
        checks = [
            QcFacts(*row)
            for row in _rows(
                connection,
                select(*QC_COLUMNS).where(QC_CHECKS.c.result == "fail"),
                QC_CHECKS.c.lot_id,
                lot_ids,
            )
        ]
        held_lots = select(HOLDS.c.lot_id)
        # Candidates only: shipped past expiry, of a lot ever held, or of a finished
        # lot without a signed-off pass by the shipping day. The rules decide.
        released_by_then = (
            select(QC_CHECKS.c.id)
            .where(
                QC_CHECKS.c.lot_id == SHIPMENTS.c.lot_id,
                QC_CHECKS.c.result == "pass",
                QC_CHECKS.c.signed_off_by.is_not(None),
                func.date(QC_CHECKS.c.at) <= SHIPMENTS.c.shipped_on,
            )
            .exists()
        )
        checked = select(QC_CHECKS.c.id).where(QC_CHECKS.c.lot_id == SHIPMENTS.c.lot_id).exists()
        failed_by_then = (
            select(QC_CHECKS.c.id)
            .where(
                QC_CHECKS.c.lot_id == SHIPMENTS.c.lot_id,
                QC_CHECKS.c.result == "fail",
                func.date(QC_CHECKS.c.at) < SHIPMENTS.c.shipped_on,
            )
            .exists()
        )
        must_release = or_(
            ITEMS.c.qc_release.is_(True), and_(ITEMS.c.qc_release.is_(None), checked)
        )
        suspect = (
            select(*SHIPMENT_COLUMNS)
            .join(LOTS, LOTS.c.id == SHIPMENTS.c.lot_id)
            .join(ITEMS, ITEMS.c.id == LOTS.c.item_id)
            .where(
                or_(
                    SHIPMENTS.c.shipped_on > LOTS.c.expires_on,
                    SHIPMENTS.c.lot_id.in_(held_lots),
                    and_(must_release, ~released_by_then),
                    failed_by_then,
                )
            )
        )
        shipments = [
            ShipmentFacts(*row) for row in _rows(connection, suspect, SHIPMENTS.c.lot_id, lot_ids)
        ]
        inputs = LOTS.alias("input_lot")
        risky = (
            select(
                LINKS.c.input_lot_id,
                LINKS.c.output_lot_id,
                LINKS.c.quantity,
                LINKS.c.uom,
                LINKS.c.at,
                LINKS.c.work_order,
            )
            .join(inputs, inputs.c.id == LINKS.c.input_lot_id)
            .where(
                or_(
                    inputs.c.expires_on < func.date(LINKS.c.at), LINKS.c.input_lot_id.in_(held_lots)
                )
            )
        )
        links = [LinkFacts(*row) for row in _rows(connection, risky, LINKS.c.input_lot_id, lot_ids)]
        hold_ids = {s.lot_id for s in shipments} | {link.input_id for link in links}
        holds: dict[int, list[HoldFacts]] = defaultdict(list)
        for hold in store.holds(hold_ids):
            holds[hold.lot_id].append(hold)
        released: dict[int, date] = {}
        release_rows = _rows(
            connection,
            select(QC_CHECKS.c.lot_id, func.min(QC_CHECKS.c.at))
            .where(QC_CHECKS.c.result == "pass", QC_CHECKS.c.signed_off_by.is_not(None))
            .group_by(QC_CHECKS.c.lot_id),
            QC_CHECKS.c.lot_id,
            {s.lot_id for s in shipments},
        )
        with_checks = set(
            _rows(
                connection,
                select(QC_CHECKS.c.lot_id).distinct(),
                QC_CHECKS.c.lot_id,
                {s.lot_id for s in shipments},
            )
        )
        checked_lots = {row[0] for row in with_checks}
        failed_lots = {c.lot_id for c in checks}
        checks_of: dict[int, list[QcFacts]] = defaultdict(list)
        for row in _rows(
            connection,
            select(*QC_COLUMNS),
            QC_CHECKS.c.lot_id,
            {s.lot_id for s in shipments if s.lot_id in failed_lots},
        ):
            checks_of[row[0]].append(QcFacts(*row))
        for lot_id, first in release_rows:
            released[lot_id] = (
                first.date() if isinstance(first, datetime) else date.fromisoformat(str(first)[:10])
            )
        totals = _totals(connection, _overdrawn_candidates(connection, lot_ids))
        limited = (
            select(
                SENSOR_READINGS.c.lot_id,
                SENSOR_READINGS.c.type,
                SENSOR_READINGS.c.at,
                SENSOR_READINGS.c.value,
                SENSOR_READINGS.c.min_value,
                SENSOR_READINGS.c.max_value,
                SENSOR_READINGS.c.uom,
                SENSOR_READINGS.c.device,
            )
            .join(LOTS, LOTS.c.id == SENSOR_READINGS.c.lot_id)
            .join(ITEMS, ITEMS.c.id == LOTS.c.item_id)
            .where(or_(ITEMS.c.temperature_min.is_not(None), ITEMS.c.temperature_max.is_not(None)))
        )
        readings = [
            SensorFacts(*row)
            for row in _rows(connection, limited, SENSOR_READINGS.c.lot_id, lot_ids)
        ]
    referenced = (
        {c.lot_id for c in checks}
        | {s.lot_id for s in shipments}
        | {link.input_id for link in links}
        | {link.output_id for link in links}
        | set(totals)
        | {reading.lot_id for reading in readings}
    )
    lots = (
        store.lots(referenced) if len(referenced) <= WHOLE_TABLE else store.lots_changed_since(-1)
    )
    names = Names(
        lots={lot.id: lot for lot in lots},
        items={item.id: item for item in store.items()},
        parties={party.id: party for party in store.parties()},
    )
    in_lot_unit = {
        lot_id: tuple(
            sum(_to_unit(amount, uom, names.lots[lot_id].uom) for uom, amount in kind.items())
            for kind in totals[lot_id]
        )
        for lot_id in totals
    }
    return [
        *qc_failures(checks, names),
        *shipment_irregularities(
            shipments,
            names,
            holds=holds,
            released_on=released,
            checked=checked_lots,
            checks=checks_of,
        ),
        *consumption_irregularities(links, names, holds=holds),
        *overdrawn_lots(in_lot_unit, names),  # type: ignore[arg-type]
        *sensor_excursions(readings, names),
    ]


def _to_unit(amount: float, uom: str | None, lot_uom: str | None) -> float:
    converted = convert(amount, uom, lot_uom)
    return amount if converted is None else converted


def _overdrawn_candidates(connection: Connection, lot_ids: Collection[int] | None) -> set[int]:
    """Lots that may have had more taken out than they held.

    Summing quantities whatever their unit over-counts only where units differ, so
    a lot is a candidate when its raw sum is over its quantity or any movement is
    in another unit; the exact check, with conversions, follows in Python.
    """
    movements = union_all(
        select(
            LINKS.c.input_lot_id.label("lot_id"),
            LINKS.c.quantity.label("q"),
            LINKS.c.uom.label("uom"),
        ),
        select(SHIPMENTS.c.lot_id, SHIPMENTS.c.quantity, SHIPMENTS.c.uom),
        select(ADJUSTMENTS.c.lot_id, -ADJUSTMENTS.c.quantity, literal(None, String)),
    ).subquery("movement")
    other_unit = case(
        (and_(movements.c.uom.is_not(None), movements.c.uom != LOTS.c.uom), 1), else_=0
    )
    allowed = func.coalesce(ITEMS.c.overdraw_tolerance / 100.0, TOLERANCE)
    statement = (
        select(movements.c.lot_id)
        .join(LOTS, LOTS.c.id == movements.c.lot_id)
        .join(ITEMS, ITEMS.c.id == LOTS.c.item_id)
        .group_by(movements.c.lot_id)
        .having(
            or_(
                func.sum(movements.c.q) > func.max(LOTS.c.quantity) * (1 + func.max(allowed)),
                func.sum(other_unit) > 0,
            )
        )
    )
    return {row[0] for row in _rows(connection, statement, movements.c.lot_id, lot_ids)}


def _totals(
    connection: Connection, lot_ids: Collection[int]
) -> dict[int, tuple[dict[str | None, float], ...]]:
    """Per lot: consumed, shipped and adjusted quantities by unit."""
    totals: dict[int, tuple[dict[str | None, float], ...]] = defaultdict(lambda: ({}, {}, {}))
    queries = (
        (
            0,
            select(LINKS.c.input_lot_id, LINKS.c.uom, func.sum(LINKS.c.quantity)).group_by(
                LINKS.c.input_lot_id, LINKS.c.uom
            ),
            LINKS.c.input_lot_id,
        ),
        (
            1,
            select(SHIPMENTS.c.lot_id, SHIPMENTS.c.uom, func.sum(SHIPMENTS.c.quantity)).group_by(
                SHIPMENTS.c.lot_id, SHIPMENTS.c.uom
            ),
            SHIPMENTS.c.lot_id,
        ),
    )
    for index, statement, column in queries:
        for lot_id, uom, amount in _rows(connection, statement, column, lot_ids):
            if amount is not None:
                totals[lot_id][index][uom] = float(amount)
    adjusted = select(ADJUSTMENTS.c.lot_id, func.sum(ADJUSTMENTS.c.quantity)).group_by(
        ADJUSTMENTS.c.lot_id
    )
    for lot_id, amount in _rows(connection, adjusted, ADJUSTMENTS.c.lot_id, lot_ids):
        totals[lot_id][2][None] = float(amount)
    return dict(totals)


HORIZON_DAYS = 7
"""Events older than this many days are history: recorded and summed up, not posted."""

RANK = {
    "qc_failed": 0,
    "shipped_failed": 1,
    "shipped_on_hold": 1,
    "shipped_expired": 2,
    "held_input": 3,
    "expired_input": 4,
    "shipped_before_release": 5,
    "sensor_excursion": 6,
    "overdrawn": 7,
}
"""Which irregularity of a lot is the problem the others are consequences of."""

FAMILY = {
    "qc_failed": "quality",
    "shipped_failed": "quality",
    "shipped_on_hold": "quality",
    "shipped_expired": "quality",
    "shipped_before_release": "quality",
    "held_input": "inputs",
    "expired_input": "inputs",
    "overdrawn": "balance",
    "sensor_excursion": "cold chain",
}
"""Irregularities of one lot and family are one problem: a failed check and the
shipments of that lot; the inputs a lot was made of; its mass balance; its cold chain."""

HISTORY_WORDS = {
    "qc_failed": "failed QC checks",
    "shipped_failed": "shipments after a failed QC check",
    "shipped_on_hold": "shipments while on hold",
    "shipped_expired": "shipments after expiry",
    "held_input": "held inputs used",
    "expired_input": "expired inputs used",
    "shipped_before_release": "shipments before QC release",
    "sensor_excursion": "temperature excursions",
    "overdrawn": "overdrawn lots",
}


def history_summary(kinds: Counter[str]) -> str:
    """The one post a history check gives.

    Example:
        >>> history_summary(Counter({"overdrawn": 140, "qc_failed": 23, "shipped_expired": 1}))
        'History check: 164 irregularities in past data (23 failed QC checks, 1 shipment after expiry, 140 overdrawn lots), recorded without a post each; `tracebot alerts --history` lists them.'
    """
    parts = []
    for kind in sorted(kinds, key=lambda k: (RANK.get(k, 99), k)):
        words = HISTORY_WORDS.get(kind, kind.replace("_", " "))
        if kinds[kind] == 1:
            words = words.replace("checks", "check").replace("shipments", "shipment")
            words = words.replace("inputs", "input").replace("lots", "lot")
            words = words.replace("excursions", "excursion")
        parts.append(f"{kinds[kind]} {words}")
    total = sum(kinds.values())
    noun = "irregularity" if total == 1 else "irregularities"
    return (
        f"History check: {total} {noun} in past data ({', '.join(parts)}), recorded "
        "without a post each; `tracebot alerts --history` lists them."
    )


def record_alerts(
    url: str,
    drafts: list[AlertDraft],
    *,
    history: bool = False,
    horizon: int = HORIZON_DAYS,
    today: date | None = None,
) -> int:
    """Store drafts not stored before (by key); return how many are new.

    One alert per problem: the first irregularity of a lot (by ``RANK``) is the
    problem; the lot's other irregularities are its consequences (``parent_id``).
    A consequence found while its problem waits to be posted is folded into that
    post (whose scope shows it); one found after goes into the post's thread.
    Drafts of events older than ``horizon`` days, or all with ``history``, are
    recorded as history and summed up in one post.
    """
    if not drafts:
        return 0
    now = datetime.now(UTC)
    cutoff = (today or now.date()) - timedelta(days=horizon)
    unique = {draft.key: draft for draft in drafts}
    with make_engine(url).connect() as connection, connection.begin() as transaction:
        existing = set()
        keys = list(unique)
        for start in range(0, len(keys), CHUNK):
            existing |= set(
                connection.execute(
                    select(ALERTS.c.key).where(ALERTS.c.key.in_(keys[start : start + CHUNK]))
                ).scalars()
            )
        new = sorted(
            (draft for key, draft in unique.items() if key not in existing),
            key=lambda d: (RANK.get(d.kind, 99), d.on or date.min, d.key),
        )
        if not new:
            transaction.rollback()
            return 0
        bump_data_version(connection)
        upsert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
        past = [d for d in new if history or (d.on is not None and d.on < cutoff)]
        current = [d for d in new if d not in past]
        if past:
            connection.execute(
                upsert(ALERTS).on_conflict_do_nothing(),
                [_row(d, now, status="history") for d in past],
            )
            summary = history_summary(Counter(d.kind for d in past))
            key = f"history:{now.isoformat()}:{len(past)}"
            connection.execute(
                upsert(ALERTS).on_conflict_do_nothing(),
                [_row(AlertDraft(key, "history", None, summary), now, status="open")],
            )
        problems = _open_problems(connection, {d.lot_id for d in current if d.lot_id})
        for draft in current:
            row = _row(draft, now, status="open")
            family = FAMILY.get(draft.kind, draft.kind)
            problem = problems.get((draft.lot_id, family)) if draft.lot_id is not None else None
            if problem is not None:
                row["parent_id"] = problem[0]
                if not problem[1]:  # its problem is not posted yet: its post shows this
                    row["delivered_at"] = now
            result = connection.execute(
                upsert(ALERTS).on_conflict_do_nothing().returning(ALERTS.c.id), [row]
            ).first()
            if problem is None and result is not None and draft.lot_id is not None:
                problems[(draft.lot_id, family)] = (int(result[0]), False)
        return len(new)


def _row(draft: AlertDraft, now: datetime, *, status: str) -> dict[str, Any]:
    return {
        "key": draft.key,
        "kind": draft.kind,
        "lot_id": draft.lot_id,
        "message": draft.message,
        "detail": json.dumps(draft.detail),
        "created_at": now,
        "status": status,
        "delivery_attempts": 0,
        "event_on": draft.on,
        "parent_id": None,
        "delivered_at": None,
    }


LIVE = ("open", "acknowledged", "snoozed")
"""States of a problem still being dealt with: its new consequences go into its thread.
A resolved problem is closed; what happens to its lot after is a new problem."""
REOPENED = "reopened"
"""The kind of the note a snoozed problem gets in its thread when its time is up."""


def _open_problems(
    connection: Connection, lot_ids: set[int]
) -> dict[tuple[int, str], tuple[int, bool]]:
    """The open problem of each lot and family: its alert id, and whether it was posted."""
    found: dict[tuple[int, str], tuple[int, bool]] = {}
    ordered = sorted(lot_ids)
    for start in range(0, len(ordered), CHUNK):
        rows = connection.execute(
            select(ALERTS.c.lot_id, ALERTS.c.id, ALERTS.c.delivered_at, ALERTS.c.kind)
            .where(
                ALERTS.c.lot_id.in_(ordered[start : start + CHUNK]),
                ALERTS.c.parent_id.is_(None),
                ALERTS.c.status.in_(LIVE),
            )
            .order_by(ALERTS.c.id)
        )
        for lot_id, alert_id, delivered, kind in rows:
            found.setdefault((lot_id, FAMILY.get(kind, kind)), (alert_id, delivered is not None))
    return found


RULES_MARKED = "rules_marked"
RULES_CHECKED = "rules_checked"
"""Two counters in ``meta``: every write the rules must see raises the first in its
own transaction; a finished rule run sets the second to what the first was when it
began. While they differ, a rule run was missed (a process killed after its write)."""


def _counter(connection: Connection, key: str) -> int:
    value = connection.execute(select(META.c.value).where(META.c.key == key)).scalar()
    return int(value) if value is not None else 0


def _set_counter(connection: Connection, key: str, value: int) -> None:
    if connection.execute(update(META).where(META.c.key == key).values(value=str(value))).rowcount:
        return
    connection.execute(insert(META).values(key=key, value=str(value)))


def mark_unchecked(connection: Connection) -> None:
    """Inside a write's transaction: what it wrote is not yet checked by the rules."""
    _set_counter(connection, RULES_MARKED, _counter(connection, RULES_MARKED) + 1)


def missed_checks(url: str) -> int | None:
    """The marks a rule run must still cover, or None when every write was checked."""
    with make_engine(url).connect() as connection:
        marked = _counter(connection, RULES_MARKED)
        checked = _counter(connection, RULES_CHECKED)
    return marked if marked > checked else None


def checked_up_to(url: str, marked: int) -> None:
    """A rule run that began when the marks stood at ``marked`` has finished."""
    with make_engine(url).begin() as connection:
        if _counter(connection, RULES_CHECKED) < marked:
            _set_counter(connection, RULES_CHECKED, marked)


def check_missed(url: str, *, horizon: int = HORIZON_DAYS) -> int:
    """Run the rules over every lot when a run was missed (at start, on a timer);
    return the new alerts."""
    marked = missed_checks(url)
    if marked is None:
        return 0
    found = check_rules(url, None, horizon=horizon)
    checked_up_to(url, marked)
    return found


def check_rules(
    url: str,
    lot_ids: Collection[int] | None = None,
    *,
    history: bool = False,
    horizon: int = HORIZON_DAYS,
    today: date | None = None,
) -> int:
    """Run every rule over ``lot_ids`` (all lots when None); return new alerts recorded
    (with ``history``, all as history: a first import, ``import csv --history``)."""
    drafts = find_irregularities(url, lot_ids)
    return record_alerts(url, drafts, history=history, horizon=horizon, today=today)


def wake_snoozed(url: str, *, now: datetime | None = None) -> int:
    """Open again every snoozed problem whose time is up, each with a note for its
    thread (a consequence, delivered once like any alert); return how many woke."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with make_engine(url).begin() as connection:
        woken = connection.execute(
            update(ALERTS)
            .where(ALERTS.c.status == "snoozed", ALERTS.c.snoozed_until <= moment)
            .values(status="open")
            .returning(ALERTS.c.id, ALERTS.c.lot_id, ALERTS.c.snoozed_until, ALERTS.c.state_by)
        ).all()
        if not woken:
            return 0
        bump_data_version(connection)
        upsert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
        for alert_id, lot_id, until, by in woken:
            stamp = until.strftime("%Y-%m-%d %H:%M")
            message = f"Snooze ended ({stamp} UTC, set by {by}): alert #{alert_id} is open again."
            draft = AlertDraft(
                f"{REOPENED}:{alert_id}:{until.isoformat()}", REOPENED, lot_id, message
            )
            row = _row(draft, moment, status="open") | {"parent_id": alert_id}
            connection.execute(upsert(ALERTS).on_conflict_do_nothing(), [row])
    return len(woken)


STATES = ("open", "acknowledged", "snoozed", "resolved", "history")


def open_alerts(
    url: str,
    *,
    history: bool = False,
    states: Collection[str] | None = None,
    lot: str | None = None,
) -> list[dict[str, Any]]:
    """Problems to deal with (open ones), newest first, each with its state, who last
    changed it and when, and how many consequences it has; with ``history``, the
    irregularities recorded as history; with ``states``, the problems in those states
    (``STATES``)."""
    consequence = ALERTS.alias("consequence")
    count = (
        select(func.count())
        .where(consequence.c.parent_id == ALERTS.c.id, consequence.c.kind != REOPENED)
        .correlate(ALERTS)
        .scalar_subquery()
    )
    wanted = list(states) if states is not None else ["history" if history else "open"]
    statement = (
        select(
            ALERTS.c.id,
            ALERTS.c.kind,
            ALERTS.c.message,
            ALERTS.c.created_at,
            LOTS.c.lot_code,
            count,
            ALERTS.c.detail,
            ALERTS.c.status,
            ALERTS.c.state_by,
            ALERTS.c.state_at,
            ALERTS.c.snoozed_until,
            ALERTS.c.note,
        )
        .join_from(ALERTS, LOTS, LOTS.c.id == ALERTS.c.lot_id, isouter=True)
        .where(ALERTS.c.status.in_(wanted), ALERTS.c.parent_id.is_(None))
        .order_by(ALERTS.c.id.desc())
    )
    if lot is not None:
        statement = statement.where(LOTS.c.lot_code == lot)
    with make_engine(url).connect() as connection:
        rows = connection.execute(statement).all()
    return [
        {
            "id": row[0],
            "kind": row[1],
            "message": row[2],
            "created_at": row[3].isoformat(),
            "lot": row[4],
            "consequences": int(row[5] or 0),
            "detail": json.loads(row[6] or "{}"),
            "state": row[7],
            "state_by": row[8],
            "state_at": row[9].isoformat() if row[9] else None,
            "snoozed_until": row[10].isoformat() if row[10] else None,
            "note": row[11],
        }
        for row in rows
    ]


def history_of(url: str, summary_id: int) -> list[dict[str, Any]]:
    """The irregularities a history check's summary post stands for (recorded in the
    same transaction as it), oldest first; none when ``summary_id`` is no summary."""
    summary = ALERTS.alias("summary")
    statement = (
        select(
            ALERTS.c.id,
            ALERTS.c.kind,
            LOTS.c.lot_code,
            ALERTS.c.message,
            ALERTS.c.detail,
            ALERTS.c.created_at,
        )
        .join(summary, summary.c.created_at == ALERTS.c.created_at)
        .join_from(ALERTS, LOTS, LOTS.c.id == ALERTS.c.lot_id, isouter=True)
        .where(summary.c.id == summary_id, summary.c.kind == "history")
        .where(ALERTS.c.status == "history")
        .order_by(ALERTS.c.id)
    )
    with make_engine(url).connect() as connection:
        rows = connection.execute(statement).all()
    return [
        {
            "id": row[0],
            "kind": row[1],
            "lot": row[2],
            "message": row[3],
            "detail": json.loads(row[4] or "{}"),
            "recorded_at": row[5].isoformat(),
        }
        for row in rows
    ]
