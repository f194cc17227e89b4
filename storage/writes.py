"""Reads behind what people change: the holds in place, the lots recently made.

The changes themselves (holds, releases, recalls, acknowledgements) are in
``storage.actions``: requested, then confirmed once.
"""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import make_engine
from storage.tables import HOLDS, ITEMS, LOTS

__all__ = ["holds_in_place", "recent_lot_codes"]


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
