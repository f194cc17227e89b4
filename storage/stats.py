"""Row counts of the main tables, as `tracebot stats` prints them."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import make_engine, require_schema
from storage.models import (
    Alert,
    Hold,
    Item,
    Link,
    Lot,
    Party,
    QcCheck,
    Receipt,
    Shipment,
)

__all__ = ["STAT_TABLES", "count_rows"]

STAT_TABLES = {
    "items": Item,
    "parties": Party,
    "lots": Lot,
    "links": Link,
    "receipts": Receipt,
    "shipments": Shipment,
    "qc_checks": QcCheck,
    "holds": Hold,
    "alerts": Alert,
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
            name: int(
                connection.execute(
                    select(func.count()).select_from(model.__table__)  # type: ignore[attr-defined]
                ).scalar_one()
            )
            for name, model in STAT_TABLES.items()
        }
