"""Answers as Slack-ready text: a one-line summary, then the facts, long lists cut.

Slack's mrkdwn: ``*bold*``, bullets as "•", code as backticks. The same text
reads well in a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from bot.render.markup import code
from trace_engine.checklist import plural, quantity
from trace_engine.model import (
    Alerts,
    CommonSource,
    Downstream,
    Expiring,
    FormulaChanges,
    HoldChange,
    Holds,
    LotInfo,
    MassBalance,
    Movement,
    PartyLots,
    QcFailures,
    QcStatus,
    Recall,
    Upstream,
)

__all__ = ["HELP", "LIST_LIMIT", "cut", "render_text"]

LIST_LIMIT = 10

HELP = (
    "*I trace lots both ways and scope recalls.* Ask me, for example:\n"
    "• who got lot 4471?  • what went into L-2024-0113?\n"
    "• when does 4471 expire?  • did 4471 pass QC?\n"
    "• what expires this week?  • mock recall on 4471\n"
    "• what did Acme send us last month?  • what did Sysco get in March?\n"
    "• what do 4471 and 4480 have in common?  • reconcile lot 4471\n"
    "• what changed in the granola recipe?  • put 4471 on hold\n"
    "• what is on hold?  • any open alerts?  • what failed QC this week?"
)


def cut(lines: Sequence[str], limit: int = LIST_LIMIT) -> list[str]:
    """The first ``limit`` lines, and a count of the rest.

    Example:
        >>> cut(["a", "b", "c"], 2)
        ['a', 'b', '…and 1 more']
    """
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"…and {len(lines) - limit} more"]


def _bullets(lines: Sequence[str], limit: int = LIST_LIMIT) -> str:
    return "\n".join(f"• {line}" for line in cut(lines, limit))


def _day(value: date | None) -> str:
    return value.isoformat() if value else "unknown date"


def _lots(codes: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(code(each) for each in codes[:limit])
    return shown + (f" and {len(codes) - limit} more" if len(codes) > limit else "")


def _movement(line: Movement) -> str:
    reference = f" ({line.reference})" if line.reference else ""
    return f"{code(line.lot)} → {line.party}: {quantity(line.quantity, line.uom)} on {_day(line.date)}{reference}"


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def _downstream(lots: str, result: Downstream) -> str:
    if not result.shipments and not result.downstream_lots:
        return f"*Lot {lots} has not been used or shipped yet.*"
    head = f"*Lot {lots} reached {plural(len(result.customers), 'customer')}* in {plural(len(result.shipments), 'shipment')}"
    if result.downstream_lots:
        head += f"; {plural(len(result.downstream_lots), 'lot')} made from it"
    head += "."
    parts = [head, f"*Customers:* {_names(result.customers)}"]
    if result.downstream_lots:
        parts.append(f"*Made into:* {_lots(result.downstream_lots)}")
    if result.shipments:
        parts.append("*Shipments:*\n" + _bullets([_movement(s) for s in result.shipments]))
    return "\n".join(parts)


def _upstream(lots: str, result: Upstream) -> str:
    if not result.upstream_lots and not result.receipts:
        return f"*Lot {lots} has no recorded inputs or receipts.*"
    head = (
        f"*Lot {lots} came from {plural(len(result.upstream_lots), 'input lot')}* "
        f"supplied by {plural(len(result.suppliers), 'supplier')}."
    )
    parts = [head]
    if result.inputs:
        parts.append(
            "*Direct inputs:*\n"
            + _bullets(
                [f"{code(i.lot)} {i.item}: {quantity(i.quantity, i.uom)}" for i in result.inputs]
            )
        )
    parts.append(f"*Suppliers:* {_names(result.suppliers)}")
    if result.receipts:
        parts.append(
            "*Received:*\n"
            + _bullets(
                [
                    f"{code(r.lot)} from {r.party}: {quantity(r.quantity, r.uom)} on {_day(r.date)}"
                    + (f" ({r.reference})" if r.reference else "")
                    for r in result.receipts
                ]
            )
        )
    return "\n".join(parts)


def _lot_info(result: LotInfo) -> str:
    lot = result.lot
    expiry = f"expires {lot.expires_on.isoformat()}" if lot.expires_on else "no expiry date"
    head = f"*Lot {lot.lot}: {lot.item}*, {expiry}, status {lot.status.replace('_', ' ')}."
    facts = [
        f"*SKU:* {lot.sku}",
        f"*Quantity:* {quantity(lot.quantity, lot.uom)}",
        f"*On hand:* {quantity(lot.on_hand, lot.uom)}"
        + (f" at {lot.location}" if lot.location else ""),
    ]
    if lot.produced_on:
        facts.append(f"*Produced:* {lot.produced_on.isoformat()}")
    if lot.received_on:
        facts.append(f"*Received:* {lot.received_on.isoformat()}")
    if lot.hold is not None:
        why = f": {lot.hold.reason}" if lot.hold.reason else ""
        facts.append(
            f"*On hold:* since {lot.hold.placed_at:%Y-%m-%d %H:%M}"
            + (f" by {lot.hold.placed_by}" if lot.hold.placed_by else "")
            + why
        )
    return "\n".join([head, *facts])


def _qc(lots: str, result: QcStatus) -> str:
    if not result.checks:
        return f"*Lot {lots} has no QC checks on record.*"
    failed = [c for c in result.checks if c.result == "fail"]
    head = (
        f"*Lot {lots} failed {len(failed)} of {plural(len(result.checks), 'QC check')}.*"
        if failed
        else f"*Lot {lots} passed {'its' if len(result.checks) == 1 else 'all'} {plural(len(result.checks), 'QC check')}.*"
    )
    lines = [
        f"{'❌' if c.result == 'fail' else '✅'} {c.test}: {c.result}"
        + (f", {c.value}" if c.value else "")
        + (f" (spec {c.spec})" if c.spec else "")
        + f", by {c.performed_by or 'unknown'}, signed off by {c.signed_off_by or 'nobody yet'}"
        + f", {c.at.isoformat(sep=' ', timespec='minutes')}"
        for c in result.checks
    ]
    return head + "\n" + _bullets(lines)


def _expiring(result: Expiring) -> str:
    window = f"from {result.since.isoformat()} to {result.until.isoformat()}"
    if not result.lots:
        return f"*No lot expires {window}.*"
    head = f"*{plural(len(result.lots), 'lot')} {'expires' if len(result.lots) == 1 else 'expire'} {window}.*"
    lines = []
    for lot in result.lots:
        where = []
        if lot.on_hand:
            where.append(
                f"{quantity(lot.on_hand, lot.uom)} on hand at {lot.location or 'unknown site'}"
            )
        if lot.shipped_to:
            where.append("shipped to " + ", ".join(lot.shipped_to))
        lines.append(
            f"{code(lot.lot)} {lot.item}, expires {lot.expires_on.isoformat()}: " + "; ".join(where)
        )
    return head + "\n" + _bullets(lines)


def window_words(since: date | None, until: date | None) -> str:
    """A date window as a phrase (" from A to B", " since A", " until B", or "")."""
    if since and until:
        return f" from {since.isoformat()} to {until.isoformat()}"
    if since:
        return f" since {since.isoformat()}"
    if until:
        return f" until {until.isoformat()}"
    return ""


def _holds(result: Holds) -> str:
    window = window_words(result.since, result.until)
    if not result.lots:
        return f"*No lot is on hold{' (placed' + window + ')' if window else ''}.*"
    count = len(result.lots)
    head = f"*{plural(count, 'lot')} {'is' if count == 1 else 'are'} on hold*" + (
        f" (placed{window})." if window else "."
    )
    lines = [
        f"{code(held.lot)} {held.item}, since {held.placed_at}"
        + (f" by {held.placed_by}" if held.placed_by else "")
        + (f": {held.reason}" if held.reason else "")
        + (
            f"; {quantity(held.on_hand, held.uom)} on hand at {held.location or 'unknown site'}"
            if held.on_hand
            else ""
        )
        for held in result.lots
    ]
    return head + "\n" + _bullets(lines)


def _alerts(result: Alerts) -> str:
    if not result.alerts:
        return "*No open alerts.*"
    head = f"*{plural(len(result.alerts), 'open alert')}*, newest first."
    lines = [f"#{a.id} {a.raised_at[:16]} ({a.severity}) {a.summary}" for a in result.alerts]
    return head + "\n" + _bullets(lines)


def _qc_failures(result: QcFailures) -> str:
    window = window_words(result.since, result.until)
    if not result.checks:
        return f"*No QC check failed{window}.*"
    head = f"*{plural(len(result.checks), 'failed QC check')}{window}*, newest first."
    lines = [
        f"{code(c.lot)} {c.item}: {c.test} {c.value or ''} (spec {c.spec or 'none given'}), {c.at:%Y-%m-%d %H:%M}"
        + (f", performed by {c.performed_by}" if c.performed_by else "")
        + (f", signed off by {c.signed_off_by}" if c.signed_off_by else ", not signed off")
        for c in result.checks
    ]
    return head + "\n" + _bullets(lines)


def _recall(lots: str, result: Recall) -> str:
    held = sum(1 for _ in result.on_hand)
    head = (
        f"*Recall scope for {lots}: {plural(len(result.affected_lots), 'lot')}, "
        f"{held} with stock on hand, {plural(len(result.customers), 'customer')} to notify.*"
    )
    parts = [head, f"*Affected lots:* {_lots(result.affected_lots)}"]
    if result.on_hand:
        parts.append(
            "*Hold on hand:*\n"
            + _bullets(
                [
                    f"{code(o.lot)} {quantity(o.quantity, o.uom)} at {o.location or 'unknown site'}"
                    for o in result.on_hand
                ]
            )
        )
    parts.append(f"*Customers:* {_names(result.customers)}")
    parts.append(
        "*Checklist:*\n"
        + "\n".join(
            f"{n}. *{step.step}*: {step.detail}" for n, step in enumerate(result.checklist, 1)
        )
    )
    return "\n".join(parts)


def _hold(result: HoldChange) -> str:
    verb = "on hold" if result.status == "on_hold" else "released"
    return f"*{'Lots' if len(result.lots) > 1 else 'Lot'} {_lots(result.lots)} {'are now' if len(result.lots) > 1 else 'is now'} {verb}.*"


def _party_lots(result: PartyLots, verb: str) -> str:
    window = ""
    if result.since or result.until:
        window = f" from {_day(result.since) if result.since else 'the start'} to {_day(result.until) if result.until else 'today'}"
    said = f"{result.party}{window}"
    end = "" if said.endswith(".") else "."
    if not result.lots:
        return f"*Nothing was {verb} {said}{end}*"
    head = f"*{plural(len(result.lots), 'lot')} {verb} {said}{end}*"
    lines = [
        f"{code(s.lot)} {s.item}: {quantity(s.quantity, s.uom)} on {_day(s.date)}"
        for s in result.lots
    ]
    return head + "\n" + _bullets(lines)


def _common(lots: str, result: CommonSource) -> str:
    if not result.common_lots:
        return f"*Lots {lots} share no input lot.*"
    head = f"*Lots {lots} share {plural(len(result.common_lots), 'input lot')}.*"
    lines = [
        f"{code(d.lot)} {d.item}" + (f" from {d.supplier}" if d.supplier else "")
        for d in result.details
    ]
    return head + "\n" + _bullets(lines)


def _balance(result: MassBalance) -> str:
    uom = result.uom
    state = (
        f"{quantity(-result.unaccounted, uom)} more went out than was made"
        if result.unaccounted
        else "it balances"
    )
    head = f"*Lot {result.lot}: made {quantity(result.produced, uom)}, {state}.*"
    lines = [
        f"Consumed in production: {quantity(result.consumed, uom)}",
        f"Shipped: {quantity(result.shipped, uom)}",
        f"Adjusted: {quantity(result.adjusted, uom)}",
        f"On hand: {quantity(result.on_hand, uom)}",
    ]
    if result.inputs_consumed is not None:
        lines.append(f"Inputs used to make it: {quantity(result.inputs_consumed, uom)}")
    return head + "\n" + _bullets(lines)


def _formulas(result: FormulaChanges) -> str:
    if not result.changes:
        return "*No formula changes are on record.*"
    item = result.changes[0].item
    head = f"*{item}: {plural(len(result.changes), 'formula version')}.*"
    if result.lot_version:
        head += f" The lot was made with version {result.lot_version}."
    lines = [
        f"v{c.version} from {c.at.isoformat()} by {c.by or 'unknown'}: {c.summary}"
        for c in reversed(result.changes)
    ]
    return head + "\n" + _bullets(lines)


_RENDERERS: dict[str, Callable[[str, Any], str]] = {
    "trace_forward": _downstream,
    "trace_backward": _upstream,
    "lot_info": lambda _lots, result: _lot_info(result),
    "qc_status": _qc,
    "expiring": lambda _lots, result: _expiring(result),
    "recall": _recall,
    "hold": lambda _lots, result: _hold(result),
    "release": lambda _lots, result: _hold(result),
    "supplier_lots": lambda _lots, result: _party_lots(result, "received from"),
    "customer_lots": lambda _lots, result: _party_lots(result, "shipped to"),
    "common_source": _common,
    "mass_balance": lambda _lots, result: _balance(result),
    "formula_changes": lambda _lots, result: _formulas(result),
    "holds": lambda _lots, result: _holds(result),
    "alerts": lambda _lots, result: _alerts(result),
    "qc_failures": lambda _lots, result: _qc_failures(result),
}


def render_text(intent: str, lots: Sequence[str], result: Any) -> str:
    """The Slack-ready text of an engine result."""
    return _RENDERERS[intent](", ".join(lots), result)
