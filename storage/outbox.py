"""Alerts on their way to Slack, and outside events already handled.

An alert is stored when it is raised (storage.alerts) and delivered after: a
sender takes the due ones, posts each and records where it landed. A failed post
is retried later with a growing pause; a delivered alert is never due again, so
each is posted once however often the sender runs or restarts. Acknowledging an
alert is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.alerts import record_alerts
from storage.db import make_engine
from storage.tables import ALERTS, HANDLED_EVENTS, LOTS, PARTIES
from trace_engine.rules import AlertDraft

__all__ = [
    "RETRY_PAUSES",
    "OutgoingAlert",
    "claim_event",
    "digest_key",
    "due_alerts",
    "get_alert",
    "lease_alert",
    "raise_alert",
    "record_attempt",
    "record_delivery",
]

RETRY_PAUSES = (1.0, 2.5, 7.5, 30.0, 150.0)
"""Pauses before the next try after the 1st, 2nd… failure, in units of the sender's
base pause (2 s by default); the last repeats."""
LEASE = timedelta(seconds=60)
"""How long a sender holds an alert it is posting before another may try."""


@dataclass(frozen=True)
class OutgoingAlert:
    id: int
    kind: str
    lot: str | None
    lot_id: int | None
    message: str
    detail: dict[str, Any]
    created_at: datetime
    status: str
    attempts: int
    channel: str | None
    message_ts: str | None
    acknowledged_by: str | None
    parent_id: int | None = None
    """The problem this alert is a consequence of; it is posted into that post's thread."""
    thread_channel: str | None = None
    thread_ts: str | None = None
    state_by: str | None = None
    """Who last acknowledged, snoozed or resolved it; when; until when; the note."""
    state_at: datetime | None = None
    snoozed_until: datetime | None = None
    note: str | None = None
    site: str | None = None
    """The name of the lot's site (where it was made or is stored), for routing."""


_PARENT = ALERTS.alias("parent")
_SITE = PARTIES.alias("site")
_COLUMNS = (
    ALERTS.c.id,
    ALERTS.c.kind,
    LOTS.c.lot_code,
    ALERTS.c.lot_id,
    ALERTS.c.message,
    ALERTS.c.detail,
    ALERTS.c.created_at,
    ALERTS.c.status,
    ALERTS.c.delivery_attempts,
    ALERTS.c.channel,
    ALERTS.c.message_ts,
    ALERTS.c.acknowledged_by,
    ALERTS.c.parent_id,
    _PARENT.c.channel,
    _PARENT.c.message_ts,
    ALERTS.c.state_by,
    ALERTS.c.state_at,
    ALERTS.c.snoozed_until,
    ALERTS.c.note,
    _SITE.c.name,
)


def _alert(row: Any) -> OutgoingAlert:
    return OutgoingAlert(
        id=row[0],
        kind=row[1],
        lot=row[2],
        lot_id=row[3],
        message=row[4],
        detail=json.loads(row[5] or "{}"),
        created_at=row[6],
        status=row[7],
        attempts=row[8] or 0,
        channel=row[9],
        message_ts=row[10],
        acknowledged_by=row[11],
        parent_id=row[12],
        thread_channel=row[13],
        thread_ts=row[14],
        state_by=row[15],
        state_at=row[16],
        snoozed_until=row[17],
        note=row[18],
        site=row[19],
    )


def _select() -> Any:
    return (
        select(*_COLUMNS)
        .join_from(ALERTS, LOTS, LOTS.c.id == ALERTS.c.lot_id, isouter=True)
        .join(_PARENT, _PARENT.c.id == ALERTS.c.parent_id, isouter=True)
        .join(_SITE, _SITE.c.id == LOTS.c.site_id, isouter=True)
    )


def due_alerts(url: str, *, now: datetime | None = None, limit: int = 50) -> list[OutgoingAlert]:
    """Alerts not delivered yet whose next try is due, oldest first."""
    moment = now or datetime.now(UTC)
    with make_engine(url).connect() as connection:
        rows = connection.execute(
            _select()
            .where(
                ALERTS.c.delivered_at.is_(None),
                ALERTS.c.status == "open",
                or_(ALERTS.c.next_attempt_at.is_(None), ALERTS.c.next_attempt_at <= moment),
            )
            .order_by(ALERTS.c.id)
            .limit(limit)
        ).all()
    return [_alert(row) for row in rows]


def get_alert(url: str, alert_id: int) -> OutgoingAlert | None:
    with make_engine(url).connect() as connection:
        row = connection.execute(_select().where(ALERTS.c.id == alert_id)).first()
    return _alert(row) if row else None


def lease_alert(url: str, alert_id: int, *, now: datetime | None = None) -> tuple[bool, bool]:
    """Take an alert for posting: (taken, tried before).

    Only one sender (one process among several) takes a due alert; "tried before"
    says a post may have reached Slack already, so the sender looks for it first.
    """
    moment = now or datetime.now(UTC)
    with make_engine(url).begin() as connection:
        before = connection.execute(
            select(ALERTS.c.next_attempt_at, ALERTS.c.delivery_attempts).where(
                ALERTS.c.id == alert_id
            )
        ).first()
        taken = connection.execute(
            update(ALERTS)
            .where(
                ALERTS.c.id == alert_id,
                ALERTS.c.delivered_at.is_(None),
                or_(ALERTS.c.next_attempt_at.is_(None), ALERTS.c.next_attempt_at <= moment),
            )
            .values(next_attempt_at=moment + LEASE)
        ).rowcount
    tried = before is not None and (before[0] is not None or bool(before[1]))
    return bool(taken), tried


def record_attempt(
    url: str, alert_id: int, error: str, *, now: datetime | None = None, base: float = 2.0
) -> datetime:
    """A failed try: count it and set when to try again; return that moment."""
    moment = now or datetime.now(UTC)
    with make_engine(url).begin() as connection:
        attempts = connection.execute(
            select(ALERTS.c.delivery_attempts).where(ALERTS.c.id == alert_id)
        ).scalar_one()
        pause = base * RETRY_PAUSES[min(attempts or 0, len(RETRY_PAUSES) - 1)]
        retry_at = moment + timedelta(seconds=pause)
        connection.execute(
            update(ALERTS)
            .where(ALERTS.c.id == alert_id)
            .values(
                delivery_attempts=(attempts or 0) + 1,
                next_attempt_at=retry_at,
                last_error=error[:2000],
            )
        )
    return retry_at


def record_delivery(
    url: str, alert_id: int, *, channel: str, ts: str, now: datetime | None = None
) -> bool:
    """The alert is posted: remember where. False if it had been recorded already."""
    moment = now or datetime.now(UTC)
    with make_engine(url).begin() as connection:
        changed = connection.execute(
            update(ALERTS)
            .where(ALERTS.c.id == alert_id, ALERTS.c.delivered_at.is_(None))
            .values(
                delivered_at=moment,
                channel=channel,
                message_ts=ts,
                delivery_attempts=ALERTS.c.delivery_attempts + 1,
                last_error=None,
            )
        ).rowcount
    return bool(changed)


def raise_alert(url: str, draft: AlertDraft) -> int | None:
    """Store one alert (a digest, say) under its key; the new id, or None if it existed."""
    if not record_alerts(url, [draft]):
        return None
    with make_engine(url).connect() as connection:
        found: int = connection.execute(
            select(ALERTS.c.id).where(ALERTS.c.key == draft.key)
        ).scalar_one()
    return found


def claim_event(url: str, key: str, *, now: datetime | None = None) -> bool:
    """True the first time ``key`` is claimed, False ever after (across processes)."""
    try:
        with make_engine(url).begin() as connection:
            connection.execute(
                insert(HANDLED_EVENTS).values(key=key[:200], at=now or datetime.now(UTC))
            )
    except IntegrityError:
        return False
    return True


def digest_key(day: date) -> str:
    return f"digest:{day.isoformat()}"
