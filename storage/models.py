"""The tables TraceBot keeps.

Everything a plant must be able to show an auditor lives here: what it makes and
buys (items), who it deals with (parties), every lot with its dates, how lots were
made from other lots (links), what came in (receipts) and went out (shipments),
QC checks, holds, formula versions, adjustments, the alerts raised and an
append-only audit log of every change.

Times of plant events (consumption, QC, holds, adjustments) are naive plant-local
datetimes, as plants record them; times the system stamps itself (audit log,
alerts) are UTC and timezone-aware.

Natural keys make writes idempotent: a re-imported row meets a unique index and
changes nothing. Optional text that is part of a natural key (a work order, a
reference) is stored as ``""`` rather than NULL, because SQL unique indexes treat
NULLs as distinct.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, Text, text
from sqlmodel import Field, SQLModel

__all__ = [
    "ITEM_KINDS",
    "LOT_STATUSES",
    "PARTY_KINDS",
    "QC_RESULTS",
    "Adjustment",
    "Alert",
    "AuditLog",
    "EpcisEvent",
    "FormulaVersion",
    "Hold",
    "Item",
    "Link",
    "Lot",
    "Meta",
    "Packing",
    "Party",
    "PendingAction",
    "QcCheck",
    "Receipt",
    "SensorReading",
    "Shipment",
]

ITEM_KINDS = ("raw", "packaging", "wip", "finished")
PARTY_KINDS = ("supplier", "customer", "distributor", "site", "carrier")
LOT_STATUSES = ("released", "quarantine", "on_hold", "rejected", "recalled")
QC_RESULTS = ("pass", "fail")


class Item(SQLModel, table=True):
    """Something the plant buys, makes or packs, by its SKU."""

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    uom: str = Field(max_length=16)
    shelf_life_days: int | None = None
    gtin: str | None = Field(default=None, max_length=14, index=True)
    # Storage temperature limits in °C, where known: sensor readings outside raise alerts.
    temperature_min: float | None = None
    temperature_max: float | None = None
    qc_release: bool | None = None
    """Whether its lots must pass QC before they ship; unset: only lots with a QC check
    on record."""
    overdraw_tolerance: float | None = None
    """Per cent more than a lot held that may leave it before it is overdrawn (unset:
    the plant's 2 %)."""


class Party(SQLModel, table=True):
    """A supplier, customer, distributor, site or carrier; ``code`` is its CSV id."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    gln: str | None = Field(default=None, max_length=13)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=64)


class Lot(SQLModel, table=True):
    """One lot (batch) of an item; a lot code is unique per item."""

    __table_args__ = (Index("uq_lot_code_item", "lot_code", "item_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    lot_code: str = Field(max_length=64)
    item_id: int = Field(foreign_key="item.id", index=True)
    quantity: float | None = None
    uom: str | None = Field(default=None, max_length=16)
    produced_on: date | None = None
    received_on: date | None = None
    expires_on: date | None = Field(default=None, index=True)
    status: str = Field(default="released", max_length=16)
    site_id: int | None = Field(default=None, foreign_key="party.id")
    # The data version that last wrote this row, so a cached genealogy can fetch
    # just the lots that changed since it loaded.
    revision: int = Field(default=0, index=True)


class Link(SQLModel, table=True):
    """Genealogy: ``quantity`` of the input lot went into the output lot."""

    # The natural key includes the time, which may be unknown; coalescing makes
    # a re-imported link without a time still collide with itself.
    __table_args__ = (
        Index(
            "uq_link",
            "output_lot_id",
            "input_lot_id",
            "work_order",
            text("coalesce(at, '1970-01-01 00:00:00')"),
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    input_lot_id: int = Field(foreign_key="lot.id", index=True)
    output_lot_id: int = Field(foreign_key="lot.id", index=True)
    quantity: float | None = None
    uom: str | None = Field(default=None, max_length=16)
    at: datetime | None = Field(default=None, sa_type=DateTime)
    work_order: str = Field(default="", max_length=64)


class Receipt(SQLModel, table=True):
    """A lot received from a supplier, with the supplier's own lot code."""

    __table_args__ = (
        Index("uq_receipt", "lot_id", "supplier_id", "received_on", "reference", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    supplier_id: int = Field(foreign_key="party.id", index=True)
    supplier_lot: str = Field(default="", max_length=64)
    quantity: float | None = None
    uom: str | None = Field(default=None, max_length=16)
    received_on: date
    site_id: int | None = Field(default=None, foreign_key="party.id")
    reference: str = Field(default="", max_length=64)


class Shipment(SQLModel, table=True):
    """Part or all of a lot shipped to a party, under a bill of lading."""

    __table_args__ = (
        Index("uq_shipment", "lot_id", "party_id", "shipped_on", "reference", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    party_id: int = Field(foreign_key="party.id", index=True)
    from_site_id: int | None = Field(default=None, foreign_key="party.id")
    quantity: float | None = None
    uom: str | None = Field(default=None, max_length=16)
    shipped_on: date
    reference: str = Field(default="", max_length=64)


class QcCheck(SQLModel, table=True):
    """A quality check on a lot and who performed and signed it off."""

    __tablename__ = "qc_check"
    __table_args__ = (Index("uq_qc_check", "lot_id", "test", "at", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    test: str = Field(max_length=100)
    result: str = Field(max_length=8)
    value: str | None = Field(default=None, max_length=100)
    spec: str | None = Field(default=None, max_length=100)
    performed_by: str | None = Field(default=None, max_length=100)
    signed_off_by: str | None = Field(default=None, max_length=100)
    at: datetime = Field(sa_type=DateTime)


class Hold(SQLModel, table=True):
    """A hold placed on a lot; open while ``released_at`` is empty."""

    __table_args__ = (Index("uq_hold", "lot_id", "placed_at", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    reason: str = Field(default="", max_length=500)
    placed_by: str = Field(default="", max_length=100)
    placed_at: datetime = Field(sa_type=DateTime)
    released_by: str | None = Field(default=None, max_length=100)
    released_at: datetime | None = Field(default=None, sa_type=DateTime)


class FormulaVersion(SQLModel, table=True):
    """One version of an item's formula or process, with who changed what."""

    __tablename__ = "formula_version"
    __table_args__ = (Index("uq_formula_version", "item_id", "version", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id")
    version: str = Field(max_length=32)
    effective_from: date
    changed_by: str = Field(default="", max_length=100)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    ingredients: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Adjustment(SQLModel, table=True):
    """An inventory adjustment of a lot: negative for loss, scrap or samples."""

    __table_args__ = (Index("uq_adjustment", "lot_id", "at", "reason", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    quantity: float
    reason: str = Field(default="", max_length=200)
    at: datetime = Field(sa_type=DateTime)
    by: str = Field(default="", max_length=100)


class Alert(SQLModel, table=True):
    """An irregularity worth telling people about; ``key`` makes it raise once."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=48)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True)
    message: str = Field(sa_column=Column(Text, nullable=False))
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    created_at: datetime
    status: str = Field(default="open", max_length=16)
    delivered_at: datetime | None = None
    delivery_attempts: int = 0
    channel: str | None = Field(default=None, max_length=64)
    """Where it was posted (a Slack channel id) and the message's ``ts``, once it was."""
    message_ts: str | None = Field(default=None, max_length=32)
    next_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    acknowledged_by: str | None = Field(default=None, max_length=100)
    parent_id: int | None = Field(default=None, index=True)
    """The problem this alert is a consequence of (another shipment of a failed lot);
    None for a problem of its own."""
    event_on: date | None = None
    """The day of the event it reports, where it has one."""
    state_by: str | None = Field(default=None, max_length=100)
    """Who last acknowledged, snoozed or resolved it, and when (naive UTC)."""
    state_at: datetime | None = None
    snoozed_until: datetime | None = None
    """A snoozed alert is open again from this time (naive UTC)."""
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """What the person who resolved it wrote."""


class HandledEvent(SQLModel, table=True):
    """An outside event already acted on (a Slack event id): retries change nothing."""

    __tablename__ = "handled_event"

    key: str = Field(primary_key=True, max_length=200)
    at: datetime


class AuditLog(SQLModel, table=True):
    """Append-only record of every change: who, when, what and why.

    The migration adds triggers that refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=48)
    entity: str = Field(max_length=48)
    entity_key: str = Field(default="", max_length=200)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Packing(SQLModel, table=True):
    """What a logistic unit (pallet or case, by SSCC) holds: a quantity of a lot,
    or another unit; ``unpacked_at`` is set when it is taken apart."""

    __table_args__ = (
        Index(
            "uq_packing",
            "sscc",
            text("coalesce(lot_id, 0)"),
            "child_sscc",
            "packed_at",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    sscc: str = Field(max_length=18, index=True)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True)
    child_sscc: str = Field(default="", max_length=18)
    quantity: float | None = None
    uom: str | None = Field(default=None, max_length=16)
    packed_at: datetime = Field(sa_type=DateTime)
    unpacked_at: datetime | None = Field(default=None, sa_type=DateTime)


class SensorReading(SQLModel, table=True):
    """A sensor reading taken with a lot (from EPCIS ``sensorElementList``)."""

    __tablename__ = "sensor_reading"
    __table_args__ = (
        Index(
            "uq_sensor_reading",
            text("coalesce(lot_id, 0)"),
            "type",
            "at",
            "device",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True)
    type: str = Field(max_length=100)
    value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    uom: str = Field(default="", max_length=16)
    at: datetime = Field(sa_type=DateTime)
    device: str = Field(default="", max_length=200)


class EpcisEvent(SQLModel, table=True):
    """An EPCIS event imported, kept whole: ``event_key`` (its eventID or hash) makes
    a repeated event change nothing; the body keeps what has no table of its own
    (sensor readings, error declarations, aggregations)."""

    __tablename__ = "epcis_event"

    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(unique=True, max_length=300)
    event_type: str = Field(max_length=48)
    event_time: datetime
    biz_step: str = Field(default="", max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))


class PendingAction(SQLModel, table=True):
    """A change of state someone asked for, waiting for their confirmation.

    ``token`` is what a button, a spoken "yes" or ``--yes`` hands back; it is used
    once (``used_at``) and only before ``expires_at``. ``conversation`` names the
    thread, call or chat that asked, so a plain "yes" there finds it.
    """

    __tablename__ = "pending_action"

    token: str = Field(primary_key=True, max_length=64)
    action: str = Field(max_length=32)
    lots: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    """The lot codes, as JSON; ``lot_ids`` the lots they resolved to."""
    lot_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    requested_by: str = Field(max_length=100)
    conversation: str | None = Field(default=None, max_length=200, index=True)
    created_at: datetime = Field(sa_type=DateTime)
    expires_at: datetime = Field(sa_type=DateTime)
    used_at: datetime | None = Field(default=None, sa_type=DateTime)
    used_by: str | None = Field(default=None, max_length=100)
    outcome: str | None = Field(default=None, max_length=16)
    """``done`` or ``cancelled`` once used."""


class Meta(SQLModel, table=True):
    """Small facts about the database itself: the data version, the demo's anchor date."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
