"""Changes of state people ask for, confirmed once: holds, releases, recalls, acknowledgements.

A change is first *requested*: a pending action is stored with a random token,
the conversation that asked and an expiry. It happens only when the token comes
back (a Confirm button, a spoken or typed "yes", ``--yes``): ``apply_action``
marks the pending action used and makes the change, with its one audit-log row,
in one transaction. A token comes back once: a replay, or a confirmation after
the expiry, changes nothing and says why.

Times here are naive UTC (``utc_now``), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from storage.db import make_engine
from storage.tables import ALERTS, AUDIT, HOLDS, LOTS, PENDING
from storage.versioning import bump_data_version

__all__ = [
    "ACTIONS",
    "Applied",
    "Pending",
    "apply_action",
    "cancel_action",
    "detach",
    "find_pending",
    "get_pending",
    "request_action",
    "utc_now",
]

KEEP_EXPIRED = timedelta(days=7)
"""How long a request is kept after its expiry, so a late click still hears "expired"."""
ACTIONS = ("hold", "release", "recall", "acknowledge", "snooze", "resolve")
"""What a pending action may do: hold or release lots, start a recall, acknowledge,
snooze (``detail["until"]``, ISO naive UTC) or resolve (``detail["note"]``) an alert."""
ALERT_ACTIONS = ("acknowledge", "snooze", "resolve")
ALERT_STATE = {"acknowledge": "acknowledged", "snooze": "snoozed", "resolve": "resolved"}
"""The state each alert action leaves; a resolved alert changes no more."""


def utc_now() -> datetime:
    """Now, as the naive UTC datetime stored in ``pending_action``."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Pending:
    """A requested change and what became of it."""

    token: str
    action: str
    lots: tuple[str, ...]
    lot_ids: tuple[int, ...]
    detail: dict[str, Any]
    requested_by: str
    conversation: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Applied:
    """The result of confirming (or cancelling) a pending action.

    ``state`` is ``done`` (the change was made now), ``cancelled`` (cancelled now),
    ``used`` (confirmed or cancelled before: nothing changed), ``expired`` or
    ``unknown``. ``changed`` names the lots whose state changed; ``unchanged`` the
    lots that already were as asked.
    """

    state: str
    pending: Pending | None = None
    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    audit_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _pending(row: Any) -> Pending:
    return Pending(
        token=row.token,
        action=row.action,
        lots=tuple(json.loads(row.lots)),
        lot_ids=tuple(json.loads(row.lot_ids)),
        detail=json.loads(row.detail or "{}"),
        requested_by=row.requested_by,
        conversation=row.conversation,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        used_by=row.used_by,
        outcome=row.outcome,
    )


def request_action(
    url: str,
    *,
    action: str,
    lots: Sequence[str],
    lot_ids: Sequence[int],
    requested_by: str,
    conversation: str | None,
    ttl: timedelta,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Pending:
    """Store a change waiting for its confirmation; return it with its new token.

    An earlier request of the same person in the conversation leaves it
    (``detach``): a "yes" there confirms only the last question they asked, while
    the earlier one's own button or token still works.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    moment = now or utc_now()
    pending = Pending(
        token=secrets.token_urlsafe(18),
        action=action,
        lots=tuple(lots),
        lot_ids=tuple(lot_ids),
        detail=dict(detail or {}),
        requested_by=requested_by,
        conversation=conversation,
        created_at=moment,
        expires_at=moment + ttl,
    )
    with make_engine(url).begin() as connection:
        if conversation is not None:
            _detach(connection, conversation, requested_by)
        # Requests long past their expiry are of no more use (the audit log keeps what
        # was done): the table stays small however many questions are asked.
        connection.execute(delete(PENDING).where(PENDING.c.expires_at < moment - KEEP_EXPIRED))
        connection.execute(
            insert(PENDING),
            {
                "token": pending.token,
                "action": action,
                "lots": json.dumps(list(pending.lots)),
                "lot_ids": json.dumps(list(pending.lot_ids)),
                "detail": json.dumps(pending.detail),
                "requested_by": requested_by,
                "conversation": conversation,
                "created_at": moment,
                "expires_at": pending.expires_at,
            },
        )
    return pending


def detach(url: str, *, conversation: str, requested_by: str) -> int:
    """Let no later "yes" of ``requested_by`` in ``conversation`` confirm what they
    asked before; the tokens still work. Returns how many pending actions left it."""
    with make_engine(url).begin() as connection:
        return _detach(connection, conversation, requested_by)


def _detach(connection: Connection, conversation: str, requested_by: str) -> int:
    result = connection.execute(
        update(PENDING)
        .where(
            PENDING.c.conversation == conversation,
            PENDING.c.requested_by == requested_by,
            PENDING.c.used_at.is_(None),
        )
        .values(conversation=None)
    )
    return int(result.rowcount or 0)


def get_pending(url: str, token: str) -> Pending | None:
    """The pending action ``token`` names, used or not."""
    with make_engine(url).connect() as connection:
        row = connection.execute(select(PENDING).where(PENDING.c.token == token)).first()
    return _pending(row) if row else None


def find_pending(url: str, *, conversation: str, requested_by: str) -> Pending | None:
    """The change ``requested_by`` asked last in this conversation and has not
    confirmed, cancelled or left; expired or not (confirming says so)."""
    with make_engine(url).connect() as connection:
        row = connection.execute(
            select(PENDING)
            .where(
                PENDING.c.conversation == conversation,
                PENDING.c.requested_by == requested_by,
                PENDING.c.used_at.is_(None),
            )
            .order_by(PENDING.c.created_at.desc())
            .limit(1)
        ).first()
    return _pending(row) if row else None


def _take(
    connection: Connection, token: str, actor: str, outcome: str, moment: datetime
) -> Applied:
    """Mark the pending action used; an Applied with state ``taken`` if this call did."""
    row = connection.execute(
        select(PENDING).where(PENDING.c.token == token).with_for_update()
    ).first()
    if row is None:
        return Applied("unknown")
    pending = _pending(row)
    if pending.used_at is not None:
        return Applied("used", pending)
    if pending.expires_at <= moment:
        return Applied("expired", pending)
    taken = connection.execute(
        update(PENDING)
        .where(PENDING.c.token == token, PENDING.c.used_at.is_(None))
        .values(used_at=moment, used_by=actor, outcome=outcome)
    ).rowcount
    if not taken:  # another confirmation won the race: say what it did
        row = connection.execute(select(PENDING).where(PENDING.c.token == token)).first()
        return Applied("used", _pending(row) if row else pending)
    return Applied("taken", pending)


def apply_action(url: str, token: str, *, actor: str, now: datetime | None = None) -> Applied:
    """Make the change ``token`` stands for, once; the change, the token's use and
    the audit-log row land in one transaction."""
    moment = now or utc_now()
    with make_engine(url).begin() as connection:
        taken = _take(connection, token, actor, "done", moment)
        if taken.state != "taken" or taken.pending is None:
            return taken
        pending = taken.pending
        if pending.action in ("hold", "release"):
            return _apply_hold(connection, pending, actor, moment)
        if pending.action == "recall":
            audit_id = _audit(
                connection,
                actor=actor,
                action="recall_started",
                entity="lot",
                key=",".join(pending.lots),
                detail={"lots": list(pending.lots), "token": token, **pending.detail},
                reason=str(pending.detail.get("reason", "")),
            )
            return Applied("done", pending, changed=pending.lots, audit_id=audit_id)
        return _apply_alert_state(connection, pending, actor, moment)


def cancel_action(url: str, token: str, *, actor: str, now: datetime | None = None) -> Applied:
    """Drop a pending change: nothing is written but the token's use."""
    with make_engine(url).begin() as connection:
        taken = _take(connection, token, actor, "cancelled", now or utc_now())
    if taken.state == "taken":
        return Applied("cancelled", taken.pending)
    return taken


def _apply_hold(connection: Connection, pending: Pending, actor: str, moment: datetime) -> Applied:
    hold = pending.action == "hold"
    ids = list(pending.lot_ids)
    version = bump_data_version(connection)
    open_holds = set(
        connection.execute(
            select(HOLDS.c.lot_id).where(HOLDS.c.lot_id.in_(ids), HOLDS.c.released_at.is_(None))
        ).scalars()
    )
    status = "on_hold" if hold else "released"
    wrong_state = set(
        connection.execute(
            select(LOTS.c.id).where(LOTS.c.id.in_(ids), LOTS.c.status != status)
        ).scalars()
    )
    reason = str(pending.detail.get("reason") or f"asked: {pending.action}")
    local = moment  # hold times are naive UTC, as the events API records them
    if hold:
        placing = [lot_id for lot_id in ids if lot_id not in open_holds]
        if placing:
            connection.execute(
                insert(HOLDS),
                [
                    {"lot_id": lot_id, "placed_at": local, "placed_by": actor, "reason": reason}
                    for lot_id in placing
                ],
            )
        changed_ids = set(placing) | wrong_state
    else:
        lifting = [lot_id for lot_id in ids if lot_id in open_holds]
        if lifting:
            connection.execute(
                update(HOLDS)
                .where(HOLDS.c.lot_id.in_(lifting), HOLDS.c.released_at.is_(None))
                .values(released_at=local, released_by=actor)
            )
        changed_ids = set(lifting) | wrong_state
    if wrong_state:
        connection.execute(
            update(LOTS)
            .where(LOTS.c.id.in_(sorted(wrong_state)))
            .values(status=status, revision=version)
        )
    codes = dict(zip(pending.lot_ids, pending.lots, strict=False))
    changed = tuple(codes[i] for i in ids if i in changed_ids)
    unchanged = tuple(codes[i] for i in ids if i not in changed_ids)
    audit_id = None
    if changed:
        audit_id = _audit(
            connection,
            actor=actor,
            action=pending.action,
            entity="lot",
            key=",".join(str(lot_id) for lot_id in ids if lot_id in changed_ids),
            detail={
                "lots": list(changed),
                "lot_ids": [lot_id for lot_id in ids if lot_id in changed_ids],
                "status": status,
                "requested_by": pending.requested_by,
                "token": pending.token,
            },
            reason=reason,
            at=moment,
        )
    return Applied("done", pending, changed=changed, unchanged=unchanged, audit_id=audit_id)


def _apply_alert_state(
    connection: Connection, pending: Pending, actor: str, moment: datetime
) -> Applied:
    """Acknowledge, snooze or resolve an alert (not one resolved before), audited."""
    alert_id = int(pending.detail.get("alert") or 0)
    state = ALERT_STATE[pending.action]
    stamp = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    values: dict[str, Any] = {"status": state, "state_by": actor, "state_at": stamp}
    if pending.action == "acknowledge":
        values["acknowledged_by"] = actor
    until = pending.detail.get("until")
    values["snoozed_until"] = _aware(datetime.fromisoformat(until)) if until else None
    note = str(pending.detail.get("note") or "").strip()
    if pending.action == "resolve":
        values["note"] = note
    before = connection.execute(
        select(ALERTS.c.status).where(ALERTS.c.id == alert_id)
    ).scalar_one_or_none()
    changed = before not in (None, "resolved") and not (
        state == "acknowledged" and before == "acknowledged"
    )
    if changed:
        connection.execute(update(ALERTS).where(ALERTS.c.id == alert_id).values(**values))
        bump_data_version(connection)
    extra: dict[str, Any] = {"alert": alert_id, "state": state, "changed": changed}
    if before is not None:
        extra["was"] = before
    if not changed:
        return Applied("done", pending, extra=extra)
    audit_id = _audit(
        connection,
        actor=actor,
        action=pending.action,
        entity="alert",
        key=str(alert_id),
        detail={
            "alert_id": alert_id,
            "token": pending.token,
            "from": before,
            "to": state,
            **({"until": until} if until else {}),
        },
        reason=note,
        at=moment,
    )
    return Applied("done", pending, audit_id=audit_id, extra=extra)


def _aware(moment: datetime) -> datetime:
    """A naive UTC time as the aware one the alert table stores."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _audit(
    connection: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    key: str,
    detail: dict[str, Any],
    reason: str = "",
    at: datetime | None = None,
) -> int:
    result = connection.execute(
        insert(AUDIT).returning(AUDIT.c.id),
        {
            "at": (at or utc_now()).replace(tzinfo=UTC),
            "actor": actor[:100],
            "action": action,
            "entity": entity,
            "entity_key": key[:200],
            "detail": json.dumps(detail),
            "reason": reason,
        },
    )
    audit_id: int = result.scalar_one()
    return audit_id
