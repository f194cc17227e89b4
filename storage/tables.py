"""The SQLAlchemy Core tables behind the SQLModel classes, for bulk reads and writes.

Core statements on these skip the ORM's per-row objects: importers, the engine's
store and the rules read and write through them.
"""

from __future__ import annotations

from sqlalchemy import Table

from storage.models import (
    Adjustment,
    Alert,
    AuditLog,
    EpcisEvent,
    FormulaVersion,
    HandledEvent,
    Hold,
    Item,
    Link,
    Lot,
    Meta,
    Packing,
    Party,
    PendingAction,
    QcCheck,
    Receipt,
    SensorReading,
    Shipment,
)

__all__ = [
    "ADJUSTMENTS",
    "ALERTS",
    "AUDIT",
    "EPCIS_EVENTS",
    "FORMULAS",
    "HANDLED_EVENTS",
    "HOLDS",
    "ITEMS",
    "LINKS",
    "LOTS",
    "META",
    "PACKING",
    "PARTIES",
    "PENDING",
    "QC_CHECKS",
    "RECEIPTS",
    "SENSOR_READINGS",
    "SHIPMENTS",
]


def _table(model: type) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


ADJUSTMENTS = _table(Adjustment)
ALERTS = _table(Alert)
AUDIT = _table(AuditLog)
EPCIS_EVENTS = _table(EpcisEvent)
FORMULAS = _table(FormulaVersion)
HANDLED_EVENTS = _table(HandledEvent)
HOLDS = _table(Hold)
ITEMS = _table(Item)
LINKS = _table(Link)
LOTS = _table(Lot)
META = _table(Meta)
PACKING = _table(Packing)
PARTIES = _table(Party)
PENDING = _table(PendingAction)
QC_CHECKS = _table(QcCheck)
RECEIPTS = _table(Receipt)
SENSOR_READINGS = _table(SensorReading)
SHIPMENTS = _table(Shipment)
