"""Row counts of the main tables, as `tracebot stats` prints them."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import make_engine, require_schema
from storage.tables import (
    ALERTS,
    HOLDS,
    ITEMS,
    LINKS,
    LOTS,
    PARTIES,
    QC_CHECKS,
    RECEIPTS,
    SHIPMENTS,
)

__all__ = ["STAT_TABLES", "count_rows"]

STAT_TABLES = {
    "items": ITEMS,
    "parties": PARTIES,
    "lots": LOTS,
    "links": LINKS,
    "receipts": RECEIPTS,
    "shipments": SHIPMENTS,
    "qc_checks": QC_CHECKS,
    "holds": HOLDS,
    "alerts": ALERTS,
}


def count_rows(url: str) -> dict[str, int]:
    """Counts of items, parties, lots, links, receipts, shipments, QC checks, holds, alerts.

    Example:
        >>> from storage.db import init_schema
        >>> _ = init_schema("sqlite://")
        >>> count_rows("sqlite://")["lots"]
        0
    """
    require_schema(url)
    with make_engine(url).connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in STAT_TABLES.items()
        }
