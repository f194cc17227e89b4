"""Writes people make through TraceBot: holds and releases, each audited."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update

from storage.db import make_engine
from storage.tables import AUDIT, HOLDS, ITEMS, LOTS
from storage.versioning import bump_data_version

__all__ = ["holds_in_place", "recent_lot_codes", "record_audit", "set_hold"]


def set_hold(
    url: str, lot_ids: Sequence[int], *, hold: bool, actor: str, reason: str = ""
) -> list[int]:
    """Place (``hold=True``) or lift holds on lots; return the ids that changed.

    A lot already in the wanted state is left alone. One transaction: the holds,
    the lots' status and an audit-log entry naming ``actor`` land together.
    """
    now = datetime.now(UTC)
    local = now.replace(tzinfo=None)
    with make_engine(url).connect() as connection, connection.begin() as transaction:
        version = bump_data_version(connection)
        open_holds = set(
            connection.execute(
                select(HOLDS.c.lot_id).where(
                    HOLDS.c.lot_id.in_(list(lot_ids)), HOLDS.c.released_at.is_(None)
                )
            ).scalars()
        )
        if hold:
            changed = [lot_id for lot_id in lot_ids if lot_id not in open_holds]
            if changed:
                connection.execute(
                    insert(HOLDS),
                    [
                        {"lot_id": lot_id, "placed_at": local, "placed_by": actor, "reason": reason}
                        for lot_id in changed
                    ],
                )
        else:
            changed = [lot_id for lot_id in lot_ids if lot_id in open_holds]
            if changed:
                connection.execute(
                    update(HOLDS)
                    .where(HOLDS.c.lot_id.in_(changed), HOLDS.c.released_at.is_(None))
                    .values(released_at=local, released_by=actor)
                )
        status = "on_hold" if hold else "released"
        statement = update(LOTS).where(LOTS.c.id.in_(list(lot_ids)), LOTS.c.status != status)
        touched = connection.execute(statement.values(status=status, revision=version)).rowcount
        if not changed and not touched:
            transaction.rollback()
            return []
        connection.execute(
            insert(AUDIT),
            {
                "at": now,
                "actor": actor,
                "action": "hold" if hold else "release",
                "entity": "lot",
                "entity_key": ",".join(str(lot_id) for lot_id in lot_ids),
                "detail": json.dumps({"lot_ids": list(lot_ids), "status": status}),
                "reason": reason,
            },
        )
        return list(lot_ids) if touched else changed


def record_audit(
    url: str, *, actor: str, action: str, entity: str, key: str, detail: dict[str, object]
) -> None:
    """One audit-log entry for an act that changes no table (a recall started)."""
    with make_engine(url).begin() as connection:
        connection.execute(
            insert(AUDIT),
            {
                "at": datetime.now(UTC),
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_key": key,
                "detail": json.dumps(detail),
                "reason": "",
            },
        )


def holds_in_place(url: str) -> list[dict[str, object]]:
    """Open holds, newest first: lot, item, since, by whom, why."""
    with make_engine(url).connect() as connection:
        rows = connection.execute(
            select(
                LOTS.c.lot_code, ITEMS.c.name, HOLDS.c.placed_at, HOLDS.c.placed_by, HOLDS.c.reason
            )
            .join_from(HOLDS, LOTS, LOTS.c.id == HOLDS.c.lot_id)
            .join(ITEMS, ITEMS.c.id == LOTS.c.item_id)
            .where(HOLDS.c.released_at.is_(None))
            .order_by(HOLDS.c.placed_at.desc())
        ).all()
    return [
        {
            "lot": row[0],
            "item": row[1],
            "placed_at": row[2].isoformat(sep=" ", timespec="minutes"),
            "placed_by": row[3],
            "reason": row[4],
        }
        for row in rows
    ]


def recent_lot_codes(url: str, limit: int = 3000) -> list[str]:
    """The codes of the most recently made or received lots, newest first."""
    when = func.coalesce(LOTS.c.produced_on, LOTS.c.received_on)
    with make_engine(url).connect() as connection:
        codes = connection.execute(
            select(LOTS.c.lot_code).order_by(when.desc(), LOTS.c.id.desc()).limit(limit)
        ).scalars()
        return list(dict.fromkeys(codes))
