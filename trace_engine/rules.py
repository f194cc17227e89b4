"""Irregularity rules: what should raise an alert when data changes.

Each rule is a plain function from facts to :class:`AlertDraft` values; a draft's
``key`` names the one event it is about, so storing drafts under a unique key
raises each alert exactly once however often the rules run.

* a failed QC check;
* a lot shipped before its QC release, while on hold, or after it expired;
* an expired or held input consumed;
* more consumed, shipped or written off than a lot held.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from trace_engine.checklist import quantity
from trace_engine.model import (
    HoldFacts,
    ItemFacts,
    LinkFacts,
    LotFacts,
    PartyFacts,
    QcFacts,
    SensorFacts,
    ShipmentFacts,
)

__all__ = [
    "TOLERANCE",
    "AlertDraft",
    "Names",
    "consumption_irregularities",
    "overdrawn_lots",
    "qc_failures",
    "sensor_excursions",
    "severity",
    "shipment_irregularities",
]

TOLERANCE = 0.02
"""What a mass balance may miss by before it is an alert: 2 % over a lot's quantity
(scales, moisture, samples), as audit schemes' mass-balance checks allow."""


@dataclass(frozen=True)
class AlertDraft:
    """An alert to raise: ``key`` is unique per irregular event."""

    key: str
    kind: str
    lot_id: int | None
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    on: date | None = None
    """The day of the event it reports (a check, a shipment), where it has one."""


@dataclass(frozen=True)
class Names:
    """The facts rules need to word their messages."""

    lots: Mapping[int, LotFacts]
    items: Mapping[int, ItemFacts]
    parties: Mapping[int, PartyFacts]

    def lot(self, lot_id: int) -> str:
        lot = self.lots[lot_id]
        return f"lot {lot.lot_code} ({self.items[lot.item_id].name})"

    def party(self, party_id: int) -> str:
        return self.parties[party_id].name if party_id in self.parties else f"party {party_id}"


def _day(moment: datetime | date | None) -> date | None:
    return moment.date() if isinstance(moment, datetime) else moment


def _held_on(holds: Sequence[HoldFacts], day: date) -> HoldFacts | None:
    for hold in holds:
        released = _day(hold.released_at)
        if hold.placed_at.date() <= day and (released is None or day < released):
            return hold
    return None


def qc_failures(checks: Iterable[QcFacts], names: Names) -> list[AlertDraft]:
    """One alert per failed QC check.

    Example:
        >>> lot = LotFacts(1, "4471", 1)
        >>> names = Names({1: lot}, {1: ItemFacts(1, "G", "Granola", "finished", "ea")}, {})
        >>> check = QcFacts(1, "aflatoxin", "fail", datetime(2026, 11, 3, 9), "22 ppb", "<= 20 ppb", "Ana", "Tom")
        >>> qc_failures([check], names)[0].message
        'QC failed on lot 4471 (Granola): aflatoxin 22 ppb, spec <= 20 ppb; performed by Ana, signed off by Tom.'
    """
    drafts = []
    for check in checks:
        if check.result != "fail":
            continue
        value = f" {check.value}" if check.value else ""
        spec = f", spec {check.spec}" if check.spec else ""
        drafts.append(
            AlertDraft(
                key=f"qc_failed:{check.lot_id}:{check.test}:{check.at.isoformat()}",
                kind="qc_failed",
                lot_id=check.lot_id,
                message=(
                    f"QC failed on {names.lot(check.lot_id)}: {check.test}{value}{spec}; "
                    f"performed by {check.performed_by or 'unknown'}, "
                    f"signed off by {check.signed_off_by or 'nobody yet'}."
                ),
                detail={
                    "test": check.test,
                    "value": check.value,
                    "spec": check.spec,
                    "performed_by": check.performed_by,
                    "signed_off_by": check.signed_off_by,
                    "at": check.at.isoformat(),
                },
                on=check.at.date(),
            )
        )
    return drafts


def shipment_irregularities(
    shipments: Iterable[ShipmentFacts],
    names: Names,
    *,
    holds: Mapping[int, Sequence[HoldFacts]],
    released_on: Mapping[int, date],
    checked: Collection[int] = (),
    checks: Mapping[int, Sequence[QcFacts]] = {},
) -> list[AlertDraft]:
    """Shipments of a lot before its QC release, of a held lot, past expiry, or while
    a QC check of it stood failed (``checks``: the lot's checks; a later result of
    the same test clears a failure).

    ``released_on`` holds the day of each lot's first passing, signed-off QC check. A
    lot must be released when its item says so (``qc_release``), or, where the item
    does not say, when the lot has a QC check on record (``checked``); a lot we
    received (a partner's goods) never is ours to release.
    """
    drafts = []
    for shipment in shipments:
        day = shipment.shipped_on
        if day is None:
            continue
        lot = names.lots[shipment.lot_id]
        what = (
            f"{names.lot(lot.id)} shipped to {names.party(shipment.party_id)} on {day.isoformat()}"
            + (f" ({shipment.reference})" if shipment.reference else "")
        )
        base = f"{lot.id}:{shipment.party_id}:{day.isoformat()}:{shipment.reference}"
        detail = {
            "party": names.party(shipment.party_id),
            "shipped_on": day.isoformat(),
            "reference": shipment.reference,
        }
        release = released_on.get(lot.id)
        failed = _failed_on(checks.get(lot.id, ()), day)
        if (
            failed is None  # a shipment after a failure says more than "before release"
            and _must_release(lot, names.items[lot.item_id], checked)
            and (release is None or release > day)
        ):
            state = f"released only on {release.isoformat()}" if release else "not released by QC"
            drafts.append(
                AlertDraft(
                    f"shipped_before_release:{base}",
                    "shipped_before_release",
                    lot.id,
                    f"{what} before QC release: {state}.",
                    detail,
                    on=day,
                )
            )
        if failed is not None:
            drafts.append(
                AlertDraft(
                    f"shipped_failed:{base}",
                    "shipped_failed",
                    lot.id,
                    f"{what} after it failed QC: {failed.test} {failed.value or ''} on "
                    f"{failed.at.date().isoformat()}".replace("  ", " ")
                    + ".",
                    detail | {"test": failed.test},
                    on=day,
                )
            )
        hold = _held_on(holds.get(lot.id, ()), day)
        if hold is not None:
            drafts.append(
                AlertDraft(
                    f"shipped_on_hold:{base}",
                    "shipped_on_hold",
                    lot.id,
                    f"{what} while on hold since {hold.placed_at.date().isoformat()} ({hold.reason or 'no reason given'}).",
                    detail,
                    on=day,
                )
            )
        if lot.expires_on is not None and day > lot.expires_on:
            drafts.append(
                AlertDraft(
                    f"shipped_expired:{base}",
                    "shipped_expired",
                    lot.id,
                    f"{what} after it expired on {lot.expires_on.isoformat()}.",
                    detail,
                    on=day,
                )
            )
    return drafts


def _failed_on(checks: Sequence[QcFacts], day: date) -> QcFacts | None:
    """The failed check that still stood on ``day``: the last result of its test on
    or before that day was a failure from an earlier day (a shipment has only a day:
    one on the day of the failure may have left before it, and a retest passed on
    the shipping day clears it).

    Example:
        >>> fail = QcFacts(1, "listeria", "fail", datetime(2026, 11, 2, 9))
        >>> retest = QcFacts(1, "listeria", "pass", datetime(2026, 11, 4, 9))
        >>> [_failed_on([fail, retest], date(2026, 11, d)) is not None for d in (1, 2, 3, 4, 5)]
        [False, False, True, False, False]
    """
    latest: dict[str, QcFacts] = {}
    for check in sorted(checks, key=lambda c: c.at):
        if check.at.date() <= day:
            latest[check.test.lower()] = check
    return next((c for c in latest.values() if c.result == "fail" and c.at.date() < day), None)


def _must_release(lot: LotFacts, item: ItemFacts, checked: Collection[int]) -> bool:
    """Whether the plant releases this lot by QC before it ships: never a lot it
    received; else as its item says; else when it was made here and has a check.

    Example:
        >>> item = ItemFacts(1, "G", "Granola", "finished", "ea")
        >>> made = LotFacts(1, "4471", 1, produced_on=date(2026, 1, 1))
        >>> bought = LotFacts(2, "V-1", 1, received_on=date(2026, 1, 1))
        >>> [_must_release(made, item, {1}), _must_release(made, item, ()), _must_release(bought, item, {2})]
        [True, False, False]
    """
    if lot.received_on is not None:
        return False  # a partner's goods: never ours to release
    if item.qc_release is not None:
        return item.qc_release
    return lot.produced_on is not None and lot.id in checked  # made here, and tested


def consumption_irregularities(
    links: Iterable[LinkFacts], names: Names, *, holds: Mapping[int, Sequence[HoldFacts]]
) -> list[AlertDraft]:
    """An input consumed after it expired or while it was on hold."""
    drafts = []
    for link in links:
        source = names.lots[link.input_id]
        output = names.lots.get(link.output_id)
        day = _day(link.at) or (output.produced_on if output else None)
        if day is None:
            continue
        what = (
            f"{names.lot(source.id)} was used in {names.lot(link.output_id)} on {day.isoformat()}"
        )
        base = f"{link.input_id}:{link.output_id}:{link.work_order}:{day.isoformat()}"
        detail = {
            "output_lot": names.lots[link.output_id].lot_code,
            "work_order": link.work_order,
            "at": day.isoformat(),
        }
        if source.expires_on is not None and day > source.expires_on:
            drafts.append(
                AlertDraft(
                    f"expired_input:{base}",
                    "expired_input",
                    link.output_id,
                    f"{what} after it expired on {source.expires_on.isoformat()}.",
                    detail,
                    on=day,
                )
            )
        hold = _held_on(holds.get(source.id, ()), day)
        if hold is not None:
            drafts.append(
                AlertDraft(
                    f"held_input:{base}",
                    "held_input",
                    link.output_id,
                    f"{what} while it was on hold ({hold.reason or 'no reason given'}).",
                    detail,
                    on=day,
                )
            )
    return drafts


def overdrawn_lots(
    totals: Mapping[int, tuple[float, float, float]], names: Names
) -> list[AlertDraft]:
    """Lots from which more went out than they held, beyond the tolerance (the item's
    ``overdraw_tolerance`` per cent, else ``TOLERANCE``).

    ``totals`` maps a lot id to (consumed, shipped, adjusted) in the lot's unit;
    the lot's quantity is what it held.
    """
    drafts = []
    for lot_id, (consumed, shipped, adjusted) in totals.items():
        lot = names.lots[lot_id]
        if lot.quantity is None:
            continue
        held = lot.quantity + adjusted
        out = consumed + shipped
        own = names.items[lot.item_id].overdraw_tolerance if lot.item_id in names.items else None
        if out > held * (1 + (TOLERANCE if own is None else own / 100)) + 1e-9:
            drafts.append(
                AlertDraft(
                    f"overdrawn:{lot_id}",
                    "overdrawn",
                    lot_id,
                    f"More left {names.lot(lot_id)} than it held: {quantity(out, lot.uom)} consumed or "
                    f"shipped against {quantity(held, lot.uom)} made or received (after adjustments).",
                    {
                        "consumed": consumed,
                        "shipped": shipped,
                        "adjusted": adjusted,
                        "quantity": lot.quantity,
                    },
                )
            )
    return drafts


def _celsius(value: float | None, uom: str) -> float | None:
    if value is None:
        return None
    unit = uom.upper()
    if unit == "FAH":
        return (value - 32) * 5 / 9
    if unit == "KEL":
        return value - 273.15
    return value


def _limits(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low} to {high} °C"
    return f"{low} °C at least" if low is not None else f"{high} °C at most"


def sensor_excursions(readings: Iterable[SensorFacts], names: Names) -> list[AlertDraft]:
    """Temperature readings outside the item's storage limits, where it has them.

    Example:
        >>> item = ItemFacts(1, "MILK", "Milk", "finished", "l", temperature_max=6.0)
        >>> names = Names({1: LotFacts(1, "M-7", 1)}, {1: item}, {})
        >>> reading = SensorFacts(1, "Temperature", datetime(2026, 11, 3, 9), 47.3, uom="FAH")
        >>> sensor_excursions([reading], names)[0].message
        'Temperature excursion on lot M-7 (Milk): 8.5 °C on 2026-11-03 09:00, outside 6.0 °C at most.'
    """
    drafts = []
    for reading in readings:
        if reading.type.lower() != "temperature":
            continue
        item = names.items[names.lots[reading.lot_id].item_id]
        low, high = item.temperature_min, item.temperature_max
        values = (reading.value, reading.min_value, reading.max_value)
        seen = [c for c in (_celsius(v, reading.uom) for v in values) if c is not None]
        too_cold = [c for c in seen if low is not None and c < low]
        too_warm = [c for c in seen if high is not None and c > high]
        if not too_cold and not too_warm:
            continue
        worst = max(too_warm) if too_warm else min(too_cold)
        drafts.append(
            AlertDraft(
                key=f"sensor_excursion:{reading.lot_id}:{reading.type}:{reading.at.isoformat()}:{reading.device}",
                kind="sensor_excursion",
                lot_id=reading.lot_id,
                message=(
                    f"Temperature excursion on {names.lot(reading.lot_id)}: {worst:.1f} °C on "
                    f"{reading.at.isoformat(sep=' ', timespec='minutes')}, outside {_limits(low, high)}."
                ),
                detail={
                    "celsius": round(worst, 2),
                    "min": low,
                    "max": high,
                    "device": reading.device,
                },
                on=reading.at.date(),
            )
        )
    return drafts


_HAZARDS = (
    "listeria", "salmonella", "e. coli", "e.coli", "ecoli", "stec", "o157", "campylobacter",
    "clostridium", "botulinum", "bacillus cereus", "cronobacter", "norovirus", "hepatitis",
    "pathogen", "allergen", "gluten", "peanut", "undeclared", "glass", "metal", "aflatoxin",
    "foreign",
)  # fmt: skip
"""Words of a check whose failure can hurt someone: a pathogen, an allergen, a hazard."""


def severity(kind: str, detail: Mapping[str, Any] | None = None) -> str:
    """How much an alert calls for attention: critical, warning or info.

    Critical: a failed check of a pathogen, allergen or physical hazard, or a lot
    shipped while on hold or while a check of it stood failed. Info: the digest, the
    history summary and the note that a snoozed alert is open again.

    Example:
        >>> severity("qc_failed", {"test": "Listeria monocytogenes"}), severity("qc_failed", {"test": "moisture"})
        ('critical', 'warning')
    """
    if kind in ("digest", "history", "reopened"):
        return "info"
    if kind in ("shipped_on_hold", "shipped_failed"):
        return "critical"
    test = str((detail or {}).get("test") or "").lower()
    if kind == "qc_failed" and any(word in test for word in _HAZARDS):
        return "critical"
    return "warning"
