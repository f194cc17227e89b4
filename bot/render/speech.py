"""Answers as one or two short spoken sentences, for the floor and the phone.

Lot codes are spelled out one character at a time, so "4471" is heard as "4 4 7
1", never "four thousand four hundred seventy one"; lists stop at three names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trace_engine.checklist import quantity

__all__ = ["names", "render_speech", "spell"]


def spell(code: str) -> str:
    """A lot code as it is read aloud.

    Example:
        >>> spell("L-2024-0113")
        'L, 2 0 2 4, 0 1 1 3'
    """
    groups = [" ".join(part) for part in code.replace("/", "-").split("-") if part]
    return ", ".join(groups)


def names(items: Sequence[str], limit: int = 3) -> str:
    """At most three names, then how many more.

    Example:
        >>> names(["Sysco", "FreshMart", "Metro", "Bolt", "Kroger"])
        'Sysco, FreshMart, Metro and 2 more'
    """
    if not items:
        return "nobody"
    if len(items) <= limit:
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def _lot(lots: Sequence[str]) -> str:
    return ("lot " if len(lots) == 1 else "lots ") + " and ".join(spell(code) for code in lots)


def _lot_first(lots: Sequence[str]) -> str:
    """The lots as the first words of a sentence."""
    return "L" + _lot(lots)[1:]


def _forward(lots: Sequence[str], result: Any) -> str:
    if not result.customers:
        return f"{_lot_first(lots)} has not been shipped to anyone yet."
    return f"{_lot_first(lots)} went to {names(list(result.customers))}, in {len(result.shipments)} shipments."


def _backward(lots: Sequence[str], result: Any) -> str:
    inputs = [line.item for line in result.inputs]
    sentence = (
        f"{_lot_first(lots)} was made from {names(inputs)}."
        if inputs
        else f"{_lot_first(lots)} has no recorded inputs."
    )
    if result.suppliers:
        sentence += f" Suppliers: {names(list(result.suppliers))}."
    return sentence


def _info(_lots: Sequence[str], result: Any) -> str:
    lot = result.lot
    expiry = (
        f"expires on {lot.expires_on.strftime('%B %-d')}"
        if lot.expires_on
        else "has no expiry date"
    )
    return f"Lot {spell(lot.lot)}, {lot.item}, {expiry}. {quantity(lot.on_hand, lot.uom)} on hand, status {lot.status.replace('_', ' ')}."


def _qc(lots: Sequence[str], result: Any) -> str:
    if not result.checks:
        return f"{_lot_first(lots)} has no QC checks on record."
    failed = [c.test for c in result.checks if c.result == "fail"]
    if failed:
        return f"{_lot_first(lots)} failed {names(failed)}."
    return f"{_lot_first(lots)} passed all {len(result.checks)} QC checks."


def _expiring(_lots: Sequence[str], result: Any) -> str:
    if not result.lots:
        return "Nothing expires in that window."
    return f"{len(result.lots)} lots expire, first {spell(result.lots[0].lot)} on {result.lots[0].expires_on.strftime('%B %-d')}."


def _holds(_lots: Sequence[str], result: Any) -> str:
    if not result.lots:
        return "No lot is on hold."
    first = result.lots[0]
    return f"{len(result.lots)} lots are on hold, the latest {spell(first.lot)}" + (
        f", for {first.reason}." if first.reason else "."
    )


def _alerts(_lots: Sequence[str], result: Any) -> str:
    if not result.alerts:
        return "There are no open alerts."
    return f"{len(result.alerts)} open alerts. The newest: {result.alerts[0].summary[:140]}"


def _qc_failures(_lots: Sequence[str], result: Any) -> str:
    if not result.checks:
        return "No QC check failed in that time."
    first = result.checks[0]
    return f"{len(result.checks)} QC checks failed, the latest on lot {spell(first.lot)}, {first.test}."


def _recall(lots: Sequence[str], result: Any) -> str:
    return (
        f"Recall of {_lot(lots)} covers {len(result.affected_lots)} lots, "
        f"{len(result.on_hand)} with stock on hand, and {len(result.customers)} customers to notify."
    )


def _hold(_lots: Sequence[str], result: Any) -> str:
    verb = "on hold" if result.status == "on_hold" else "released"
    return f"{_lot_first(list(result.lots))} {'is' if len(result.lots) == 1 else 'are'} now {verb}."


def _party_lots(verb: str) -> Callable[[Sequence[str], Any], str]:
    def say(_lots: Sequence[str], result: Any) -> str:
        if not result.lots:
            return f"Nothing was {verb} {result.party} in that time."
        return f"{len(result.lots)} lots were {verb} {result.party}."

    return say


def _common(lots: Sequence[str], result: Any) -> str:
    if not result.common_lots:
        return "Those lots share no input lot."
    first = result.details[0]
    supplier = f" from {first.supplier}" if first.supplier else ""
    return f"They share {len(result.common_lots)} input lots, such as {first.item} lot {spell(first.lot)}{supplier}."


def _balance(_lots: Sequence[str], result: Any) -> str:
    state = (
        "It balances."
        if not result.unaccounted
        else f"{quantity(-result.unaccounted, result.uom)} are unaccounted for."
    )
    return f"Made {quantity(result.produced, result.uom)}, shipped {quantity(result.shipped, result.uom)}, {quantity(result.on_hand, result.uom)} on hand. {state}"


def _formulas(_lots: Sequence[str], result: Any) -> str:
    if not result.changes:
        return "No formula changes are on record."
    last = result.changes[-1]
    return f"{last.item} is on version {last.version} since {last.at.strftime('%B %-d')}: {last.summary}"


_SAY: dict[str, Callable[[Sequence[str], Any], str]] = {
    "trace_forward": _forward,
    "trace_backward": _backward,
    "lot_info": _info,
    "qc_status": _qc,
    "expiring": _expiring,
    "recall": _recall,
    "hold": _hold,
    "holds": _holds,
    "alerts": _alerts,
    "qc_failures": _qc_failures,
    "release": _hold,
    "supplier_lots": _party_lots("received from"),
    "customer_lots": _party_lots("shipped to"),
    "common_source": _common,
    "mass_balance": _balance,
    "formula_changes": _formulas,
}


def render_speech(intent: str, lots: Sequence[str], result: Any) -> str:
    """One or two short sentences saying an engine result."""
    return _SAY[intent](lots, result)
