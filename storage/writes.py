"""The plant's lists: the holds in place, the failed QC checks, the lots recently made.

The changes themselves (holds, releases, recalls, acknowledgements) are in
``storage.actions``: requested, then confirmed once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from storage.db import make_engine
from storage.tables import HOLDS, ITEMS, LOTS, QC_CHECKS

__all__ = ["failed_checks", "holds_in_place", "lot_codes", "recent_lot_codes"]


def holds_in_place(url: str) -> list[dict[str, object]]:
    """Open holds, newest first: lot, item (and SKU), since, by whom, why."""
    with make_engine(url).connect() as connection:
        rows = connection.execute(
            select(
                LOTS.c.lot_code,
                ITEMS.c.name,
                HOLDS.c.placed_at,
                HOLDS.c.placed_by,
                HOLDS.c.reason,
                ITEMS.c.sku,
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
            "sku": row[5],
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


def lot_codes(url: str, *, after_id: int = 0) -> list[tuple[int, str, str]]:
    """(id, code, item name) of the lots after ``after_id``, oldest first: by the day
    made or received at the first call (``after_id`` 0), then as they were added."""
    when = func.coalesce(LOTS.c.produced_on, LOTS.c.received_on)
    statement = select(LOTS.c.id, LOTS.c.lot_code, ITEMS.c.name).join(
        ITEMS, ITEMS.c.id == LOTS.c.item_id
    )
    if after_id:
        statement = statement.where(LOTS.c.id > after_id).order_by(LOTS.c.id)
    else:
        statement = statement.order_by(when.is_(None).desc(), when, LOTS.c.id)
    with make_engine(url).connect() as connection:
        return [(int(row[0]), str(row[1]), str(row[2])) for row in connection.execute(statement)]


def failed_checks(
    url: str, since: date | None = None, until: date | None = None, *, limit: int = 500
) -> list[dict[str, object]]:
    """Failed QC checks, newest first, within the window (both ends inclusive):
    lot, item, test, value, spec, who performed and who signed off, when."""
    statement = (
        select(
            LOTS.c.lot_code,
            ITEMS.c.name,
            QC_CHECKS.c.test,
            QC_CHECKS.c.result,
            QC_CHECKS.c.value,
            QC_CHECKS.c.spec,
            QC_CHECKS.c.performed_by,
            QC_CHECKS.c.signed_off_by,
            QC_CHECKS.c.at,
        )
        .join_from(QC_CHECKS, LOTS, LOTS.c.id == QC_CHECKS.c.lot_id)
        .join(ITEMS, ITEMS.c.id == LOTS.c.item_id)
        .where(QC_CHECKS.c.result == "fail")
        .order_by(QC_CHECKS.c.at.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(QC_CHECKS.c.at >= datetime.combine(since, time.min))
    if until is not None:
        statement = statement.where(
            QC_CHECKS.c.at < datetime.combine(until + timedelta(days=1), time.min)
        )
    with make_engine(url).connect() as connection:
        rows = connection.execute(statement).all()
    return [
        {
            "lot": row[0],
            "item": row[1],
            "test": row[2],
            "result": row[3],
            "value": row[4],
            "spec": row[5],
            "performed_by": row[6],
            "signed_off_by": row[7],
            "at": row[8],
        }
        for row in rows
    ]
