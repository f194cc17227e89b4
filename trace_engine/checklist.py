"""The recall checklist, built from the facts of a recall's scope.

Each step names the real lots, quantities, places and people, so the recall team
can work down it: hold the stock, notify customers and suppliers, file the
regulatory notice, reconcile, and check that the recall worked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from trace_engine.model import ChecklistStep, Movement, OnHand, PartyFacts, ReceiptFacts

if TYPE_CHECKING:
    from trace_engine.genealogy import Stock

__all__ = ["build_checklist", "plural", "quantity"]


def quantity(amount: float | None, uom: str | None) -> str:
    """A quantity as people write it.

    Example:
        >>> quantity(1200.0, "kg"), quantity(2.5, "l"), quantity(None, "ea")
        ('1,200 kg', '2.5 l', 'an unknown quantity')
    """
    if amount is None:
        return "an unknown quantity"
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.3f}".rstrip("0")
    return f"{number} {uom}".strip() if uom else number


def plural(count: int, noun: str) -> str:
    """A count and its noun.

    Example:
        >>> plural(1, "lot"), plural(3, "lot"), plural(2, "consignee")
        ('1 lot', '3 lots', '2 consignees')
    """
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _listing(parts: Sequence[str]) -> str:
    return "; ".join(parts)


def build_checklist(
    *,
    named: Sequence[str],
    affected: int,
    on_hand: Sequence[OnHand],
    shipments_by_customer: Sequence[tuple[PartyFacts, Sequence[Movement]]],
    receipts_by_supplier: Sequence[tuple[PartyFacts, Sequence[ReceiptFacts], dict[int, str]]],
    balances: Sequence[tuple[str, Stock, str | None]],
) -> tuple[ChecklistStep, ...]:
    """The steps of a recall, each with the facts it needs."""
    lots = ", ".join(named)
    steps = []
    if on_hand:
        held = _listing(
            [
                f"{line.lot}: {quantity(line.quantity, line.uom)} at {line.location or 'unknown site'}"
                for line in on_hand
            ]
        )
        steps.append(
            ChecklistStep(
                "Hold on-hand stock",
                f"Place {plural(len(on_hand), 'lot')} on hold and quarantine them: {held}.",
            )
        )
    else:
        steps.append(
            ChecklistStep("Hold on-hand stock", "No affected stock is on hand at any site.")
        )
    for party, lines in shipments_by_customer:
        shipped = _listing(
            [
                f"{line.lot} {quantity(line.quantity, line.uom)} shipped {line.date.isoformat() if line.date else '?'}"
                + (f" ({line.reference})" if line.reference else "")
                for line in lines
            ]
        )
        contact = party.contact or "no contact on file"
        steps.append(ChecklistStep(f"Notify {party.name}", f"{shipped}. Contact: {contact}."))
    for party, receipts, codes in receipts_by_supplier:
        received = _listing(
            [
                f"our lot {codes[r.lot_id]}"
                + (f" (their lot {r.supplier_lot})" if r.supplier_lot else "")
                + (f" received {r.received_on.isoformat()}" if r.received_on else "")
                for r in receipts
            ]
        )
        contact = party.contact or "no contact on file"
        steps.append(
            ChecklistStep(
                f"Notify supplier {party.name}",
                f"Implicated inputs: {received}. Ask whether other customers got the same lots. Contact: {contact}.",
            )
        )
    customers = len(shipments_by_customer)
    steps.append(
        ChecklistStep(
            "Regulatory notice",
            f"Notify the competent authority (in the US, FDA through the Reportable Food Registry within 24 hours "
            f"where there is a reasonable probability of serious harm) of the recall of {'lots' if len(named) > 1 else 'lot'} {lots}: "
            f"{plural(affected, 'affected lot')}, {plural(customers, 'consignee')}. Hand over the FSMA 204 sortable spreadsheet "
            f"within 24 hours of a request.",
        )
    )
    for code, stock, uom in balances:
        detail = (
            f"Lot {code}: made or received {quantity(stock.produced, uom)}, consumed {quantity(stock.consumed, uom)}, "
            f"shipped {quantity(stock.shipped, uom)}, adjusted {quantity(stock.adjusted, uom)}, "
            f"on hand {quantity(stock.on_hand, uom)}"
        )
        if stock.unaccounted:
            detail += (
                f"; {quantity(-stock.unaccounted, uom)} more went out than was made: find the error"
            )
        steps.append(ChecklistStep("Reconcile the mass balance", detail + "."))
    steps.append(
        ChecklistStep(
            "Record effectiveness checks",
            f"Confirm with {'each of the ' + plural(customers, 'consignee') if customers != 1 else 'the consignee'} that they received the notice and found, "
            "held or destroyed the stock; record who, when and how much, and recover or destroy the held stock.",
        )
    )
    return tuple(steps)
