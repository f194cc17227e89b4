"""The engine's values: facts read from storage and the results it answers with.

Facts (``LotFacts``, ``ShipmentFacts``...) are what the store hands in, keyed by
integer ids. Results (``Downstream``, ``Recall``...) are what the engine hands
out: their field names are those of the answers' ``data`` in the contract, lot and
party names as people know them, and :func:`to_data` turns any of them into JSON
types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "AdjustmentFacts",
    "AlertLine",
    "Alerts",
    "Answer",
    "Candidate",
    "Check",
    "ChecklistStep",
    "CommonLot",
    "CommonSource",
    "Downstream",
    "Expiring",
    "ExpiringLot",
    "FailedCheck",
    "FormulaChange",
    "FormulaChanges",
    "FormulaFacts",
    "HeldLot",
    "HoldChange",
    "HoldFacts",
    "HoldView",
    "Holds",
    "InputLine",
    "ItemFacts",
    "LinkFacts",
    "LotFacts",
    "LotInfo",
    "LotSummary",
    "LotView",
    "MassBalance",
    "Movement",
    "OnHand",
    "PartyFacts",
    "PartyLots",
    "QcFacts",
    "QcFailures",
    "QcStatus",
    "Recall",
    "ReceiptFacts",
    "SensorFacts",
    "ShipmentFacts",
    "Status",
    "Upstream",
    "to_data",
]


class Status(StrEnum):
    """A lot's status."""

    RELEASED = "released"
    QUARANTINE = "quarantine"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    RECALLED = "recalled"


# --- facts -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemFacts:
    id: int
    sku: str
    name: str
    kind: str
    uom: str
    shelf_life_days: int | None = None
    gtin: str | None = None
    temperature_min: float | None = None
    temperature_max: float | None = None
    qc_release: bool | None = None
    """Its lots must pass QC before they ship (None: where a lot has a check on record)."""
    overdraw_tolerance: float | None = None
    """Per cent more than a lot held that may leave it (None: ``rules.TOLERANCE``)."""


@dataclass(frozen=True, slots=True)
class PartyFacts:
    id: int
    code: str
    name: str
    kind: str
    gln: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def contact(self) -> str:
        """E-mail and phone, as one line ("" when neither is known)."""
        return ", ".join(part for part in (self.email, self.phone) if part)


@dataclass(frozen=True, slots=True)
class LotFacts:
    id: int
    lot_code: str
    item_id: int
    quantity: float | None = None
    uom: str | None = None
    produced_on: date | None = None
    received_on: date | None = None
    expires_on: date | None = None
    status: str = Status.RELEASED
    site_id: int | None = None


@dataclass(frozen=True, slots=True)
class LinkFacts:
    input_id: int
    output_id: int
    quantity: float | None = None
    uom: str | None = None
    at: datetime | None = None
    work_order: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentFacts:
    lot_id: int
    party_id: int
    quantity: float | None = None
    uom: str | None = None
    shipped_on: date | None = None
    reference: str = ""
    from_site_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    lot_id: int
    supplier_id: int
    supplier_lot: str = ""
    quantity: float | None = None
    uom: str | None = None
    received_on: date | None = None
    reference: str = ""
    site_id: int | None = None


@dataclass(frozen=True, slots=True)
class QcFacts:
    lot_id: int
    test: str
    result: str
    at: datetime
    value: str | None = None
    spec: str | None = None
    performed_by: str | None = None
    signed_off_by: str | None = None


@dataclass(frozen=True, slots=True)
class HoldFacts:
    lot_id: int
    placed_at: datetime
    reason: str = ""
    placed_by: str = ""
    released_at: datetime | None = None
    released_by: str | None = None


@dataclass(frozen=True, slots=True)
class AdjustmentFacts:
    lot_id: int
    quantity: float
    at: datetime
    reason: str = ""
    by: str = ""


@dataclass(frozen=True, slots=True)
class SensorFacts:
    lot_id: int
    type: str
    at: datetime
    value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    uom: str = ""
    device: str = ""


@dataclass(frozen=True, slots=True)
class FormulaFacts:
    item_id: int
    version: str
    effective_from: date
    changed_by: str = ""
    summary: str = ""
    ingredients: str = ""


# --- results -----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One of several lots sharing a code."""

    lot: str
    item: str
    sku: str


@dataclass(frozen=True)
class Movement:
    """A shipment or receipt line: lot, party, quantity and unit, date."""

    lot: str
    party: str
    quantity: float | None
    uom: str | None
    date: date | None
    reference: str = ""


@dataclass(frozen=True)
class Downstream:
    """Where lots went: every lot made from them at any depth, shipments, customers."""

    downstream_lots: tuple[str, ...]
    shipments: tuple[Movement, ...]
    customers: tuple[str, ...]


@dataclass(frozen=True)
class InputLine:
    """A direct input of a lot and how much of it went in."""

    lot: str
    item: str
    quantity: float | None
    uom: str | None


@dataclass(frozen=True)
class Upstream:
    """What lots came from: every input at any depth, direct inputs, suppliers."""

    upstream_lots: tuple[str, ...]
    inputs: tuple[InputLine, ...]
    suppliers: tuple[str, ...]
    receipts: tuple[Movement, ...]


@dataclass(frozen=True)
class HoldView:
    """The hold a lot is under: why, by whom, since when."""

    reason: str
    placed_by: str
    placed_at: datetime


@dataclass(frozen=True)
class LotView:
    """A lot's facts as people read them."""

    lot: str
    item: str
    sku: str
    quantity: float | None
    uom: str | None
    produced_on: date | None
    received_on: date | None
    expires_on: date | None
    status: str
    on_hand: float | None
    location: str | None
    hold: HoldView | None = None


@dataclass(frozen=True)
class LotInfo:
    lot: LotView


@dataclass(frozen=True)
class Check:
    test: str
    result: str
    value: str | None
    spec: str | None
    performed_by: str | None
    signed_off_by: str | None
    at: datetime


@dataclass(frozen=True)
class QcStatus:
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class ExpiringLot:
    lot: str
    item: str
    expires_on: date
    on_hand: float | None
    location: str | None
    uom: str | None = None
    shipped_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expiring:
    lots: tuple[ExpiringLot, ...]
    since: date
    until: date


@dataclass(frozen=True)
class OnHand:
    lot: str
    location: str | None
    quantity: float
    uom: str | None


@dataclass(frozen=True)
class ChecklistStep:
    step: str
    detail: str


@dataclass(frozen=True)
class Recall:
    """The scope of a recall and what to do about it."""

    affected_lots: tuple[str, ...]
    on_hand: tuple[OnHand, ...]
    customers: tuple[str, ...]
    shipments: tuple[Movement, ...]
    checklist: tuple[ChecklistStep, ...]


@dataclass(frozen=True)
class HoldChange:
    lots: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class LotSummary:
    lot: str
    item: str
    quantity: float | None
    uom: str | None
    date: date | None


@dataclass(frozen=True)
class PartyLots:
    """Lots received from a supplier or shipped to a customer in a window."""

    party: str
    lots: tuple[LotSummary, ...]
    since: date | None
    until: date | None


@dataclass(frozen=True)
class CommonLot:
    lot: str
    item: str
    supplier: str | None


@dataclass(frozen=True)
class CommonSource:
    common_lots: tuple[str, ...]
    details: tuple[CommonLot, ...]


@dataclass(frozen=True)
class MassBalance:
    """Made (or received) against what went out; ``unaccounted`` is what is missing.

    ``on_hand`` is the book stock, never negative; a negative ``unaccounted``
    means more was consumed, shipped or written off than was made.
    """

    lot: str
    produced: float
    consumed: float
    shipped: float
    on_hand: float
    adjusted: float
    unaccounted: float
    uom: str | None
    inputs_consumed: float | None = None


@dataclass(frozen=True)
class FormulaChange:
    item: str
    version: str
    at: date
    by: str
    summary: str


@dataclass(frozen=True)
class FormulaChanges:
    changes: tuple[FormulaChange, ...]
    lot_version: str | None = None


@dataclass(frozen=True)
class HeldLot:
    lot: str
    item: str
    reason: str
    placed_by: str
    placed_at: str
    on_hand: float | None
    location: str | None
    uom: str | None = None


@dataclass(frozen=True)
class Holds:
    """The lots on hold (placed in the window, where one was given)."""

    lots: tuple[HeldLot, ...]
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class AlertLine:
    id: int
    kind: str
    severity: str
    state: str
    lot: str | None
    summary: str
    raised_at: str


@dataclass(frozen=True)
class Alerts:
    """The alerts not yet acknowledged, newest first."""

    alerts: tuple[AlertLine, ...]


@dataclass(frozen=True)
class FailedCheck(Check):
    """A failed check, with the lot and item it failed on."""

    lot: str
    item: str


@dataclass(frozen=True)
class QcFailures:
    """Failed QC checks in a window, newest first."""

    checks: tuple[FailedCheck, ...]
    since: date | None
    until: date | None


@dataclass(frozen=True)
class Answer:
    """The one answer every adapter renders: Slack, speech, JSON or terminal."""

    intent: str
    query: dict[str, Any]
    ok: bool
    text: str
    speech: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "query": self.query,
            "ok": self.ok,
            "text": self.text,
            "speech": self.speech,
            "data": self.data,
        }


_PLAIN = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_data(value: Any) -> Any:
    """A result as JSON types: dataclasses as dicts, dates as ISO strings.

    Example:
        >>> to_data(Movement("4471", "Sysco", 400.0, "ea", date(2026, 11, 5)))
        {'lot': '4471', 'party': 'Sysco', 'quantity': 400.0, 'uom': 'ea', 'date': '2026-11-05', 'reference': ''}
    """
    kind = type(value)
    if kind in _PLAIN or isinstance(value, str):
        return value
    if kind is datetime:
        return value.isoformat(timespec="minutes") if value.second == 0 else value.isoformat()
    if kind is date:
        return value.isoformat()
    if kind is tuple or kind is list:
        return [to_data(item) for item in value]
    if kind is dict:
        return {key: to_data(item) for key, item in value.items()}
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(value):
            return value
        names = _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(value))
    return {name: to_data(getattr(value, name)) for name in names}
