"""Answers as Slack Block Kit: summary, key facts, readable lists, next steps.

Every button carries what it needs in its ``value`` (JSON, well under Slack's
2,000 characters), so a click is answered without any state kept between them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.render.markup import code, slack
from trace_engine.model import Answer
from trace_engine.rules import severity

__all__ = [
    "LIST_ROWS",
    "alert_blocks",
    "alert_state_line",
    "answer_blocks",
    "confirm_blocks",
    "home_view",
    "list_rows",
    "resolve_modal",
    "value",
    "who",
]

LIST_ROWS = 8
"""List lines shown in a message; the rest come as a CSV by "Show all"."""
SECTION_LIMIT = 2900  # Slack refuses section text over 3,000 characters

# The list behind each intent's answer, as (data key, columns) for "Show all".
LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "trace_forward": ("shipments", ("lot", "party", "quantity", "uom", "date")),
    "trace_backward": ("receipts", ("lot", "party", "quantity", "uom", "date")),
    "qc_status": (
        "checks",
        ("test", "result", "value", "spec", "performed_by", "signed_off_by", "at"),
    ),
    "expiring": ("lots", ("lot", "item", "expires_on", "on_hand", "location")),
    "recall": ("on_hand", ("lot", "location", "quantity", "uom")),
    "supplier_lots": ("lots", ("lot", "item", "quantity", "uom", "date")),
    "customer_lots": ("lots", ("lot", "item", "quantity", "uom", "date")),
    "common_source": ("details", ("lot", "item", "supplier")),
    "formula_changes": ("changes", ("item", "version", "at", "by", "summary")),
    "holds": (
        "lots",
        ("lot", "item", "reason", "placed_by", "placed_at", "on_hand", "location"),
    ),
    "alerts": ("alerts", ("id", "severity", "kind", "lot", "summary", "raised_at")),
    "qc_failures": (
        "checks",
        ("lot", "item", "test", "value", "spec", "performed_by", "signed_off_by", "at"),
    ),
}

NEXT_STEPS = (
    ("trace_backward", "tb_upstream", "Upstream"),
    ("trace_forward", "tb_downstream", "Downstream"),
    ("recall", "tb_recall", "Recall checklist"),
    ("fsma", "tb_fsma", "FSMA spreadsheet"),
    ("diagram", "tb_diagram", "Lineage diagram"),
    ("hold", "tb_hold", "Place hold"),
)


def value(**fields: Any) -> str:
    """A button's value: compact JSON."""
    return json.dumps(fields, separators=(",", ":"))


def _button(text: str, action_id: str, payload: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75], "emoji": True},
        "action_id": action_id,
        "value": payload,
    }
    if style:
        button["style"] = style
    return button


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _fields(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any] | None:
    shown = [(k, v) for k, v in pairs if v not in (None, "", [])][:10]
    if not shown:
        return None
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{slack(v)}"} for k, v in shown],
    }


def _count(data: dict[str, Any], key: str) -> int | None:
    items = data.get(key)
    return len(items) if isinstance(items, list) else None


def key_facts(answer: Answer) -> list[tuple[str, Any]]:
    """The few facts worth a glance, by intent."""
    data = answer.data
    query = answer.query
    window = ""
    if query.get("since") or query.get("until"):
        window = f"{query.get('since') or '…'} to {query.get('until') or 'today'}"
    match answer.intent:
        case "trace_forward":
            return [
                ("Customers", _count(data, "customers")),
                ("Shipments", _count(data, "shipments")),
                ("Lots made from it", _count(data, "downstream_lots")),
            ]
        case "trace_backward":
            return [
                ("Input lots", _count(data, "upstream_lots")),
                ("Suppliers", ", ".join(data.get("suppliers", [])) or None),
            ]
        case "lot_info":
            lot = data.get("lot") or {}
            where = f" at {lot['location']}" if lot.get("location") else ""
            return [
                ("Item", lot.get("item")),
                ("Expires", lot.get("expires_on") or "no date"),
                ("Status", str(lot.get("status", "")).replace("_", " ")),
                ("On hand", f"{lot.get('on_hand')} {lot.get('uom') or ''}{where}".strip()),
            ]
        case "qc_status":
            checks = data.get("checks", [])
            failed = sum(1 for c in checks if c.get("result") == "fail")
            return [("Checks", len(checks)), ("Failed", failed)]
        case "recall":
            return [
                ("Affected lots", _count(data, "affected_lots")),
                ("Lots with stock on hand", _count(data, "on_hand")),
                ("Customers to notify", _count(data, "customers")),
            ]
        case "expiring" | "supplier_lots" | "customer_lots":
            return [("Lots", _count(data, "lots")), ("Window", window or None)]
        case "mass_balance":
            uom = data.get("uom") or ""
            return [
                (name.replace("_", " ").capitalize(), f"{data.get(name)} {uom}".strip())
                for name in ("produced", "consumed", "shipped", "on_hand", "unaccounted")
            ]
        case _:
            return []


def list_rows(answer: Answer) -> tuple[tuple[str, ...], list[list[Any]]]:
    """The answer's main list as a header and rows (for the "Show all" CSV)."""
    key, columns = LISTS.get(answer.intent, ("", ()))
    items = answer.data.get(key) if key else None
    if not isinstance(items, list):
        return (), []
    rows = [
        [item.get(column) for column in columns] if isinstance(item, dict) else [item]
        for item in items
    ]
    return columns, rows


def _body(text: str) -> tuple[str, str]:
    """The summary line and the rest, with long bullet lists cut to LIST_ROWS lines."""
    lines = text.splitlines()
    summary, rest = (lines[0], lines[1:]) if lines else ("", [])
    kept: list[str] = []
    bullets = 0
    for line in rest:
        if line.startswith("• "):
            bullets += 1
            if bullets > LIST_ROWS:
                continue
        else:
            bullets = 0
        if line.startswith("…and ") and line.endswith(" more"):
            continue
        kept.append(line)
    return summary, "\n".join(kept)


def answer_blocks(
    answer: Answer, *, as_of: datetime | None = None, lead: str | None = None
) -> list[dict[str, Any]]:
    """The Block Kit message of an answer, its text escaped (no value in it can ping,
    mention or link); ``lead`` is the adapter's own mrkdwn before it ("Recall started
    by <@U…>.")."""
    text = slack(answer.text)
    summary, body = _body(text)
    if lead:
        summary = f"{lead}\n{summary}"
    blocks: list[dict[str, Any]] = [_section(summary or text)]
    facts = _fields(key_facts(answer)) if answer.ok else None
    if facts:
        blocks.append(facts)
    if body:
        blocks.append(_section(body))
    lots = [str(lot) for lot in answer.query.get("lots") or []]
    buttons: list[dict[str, Any]] = []
    _, rows = list_rows(answer)
    if answer.ok and len(rows) > LIST_ROWS:
        buttons.append(
            _button(
                f"Show all {len(rows)}",
                "tb_show_all",
                value(q=_compact_query(answer.query)),
            )
        )
    candidates = answer.data.get("candidates")
    if candidates:  # a lot code two items share: pick one
        for candidate in candidates[:5]:
            buttons.append(
                _button(
                    f"{candidate['lot']}: {candidate['item']}",
                    f"tb_pick_item_{candidate['sku']}"[:255],
                    value(i=answer.intent, lot=candidate["lot"], sku=candidate["sku"]),
                )
            )
    elif answer.data.get("reason") == "unclear":
        for option in answer.data.get("options", [])[:3]:
            buttons.append(
                _button(
                    _OPTION_LABELS.get(option, option),
                    f"tb_pick_intent_{option}",
                    value(i=option, lots=lots),
                )
            )
    elif answer.ok and lots:
        sku = answer.query.get("sku")
        for intent, action_id, label in NEXT_STEPS:
            if intent == answer.intent or (intent == "hold" and answer.intent == "hold"):
                continue
            buttons.append(_button(label, action_id, value(lots=lots[:20], sku=sku)))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons[:25]})
    context = f"Parsed as {answer.intent.replace('_', ' ')}"
    confidence = answer.query.get("confidence")
    if isinstance(confidence, int | float):
        context += f" ({confidence:.0%} sure)"
    if as_of is not None:
        epoch = int(as_of.timestamp())
        context += f" · data as of <!date^{epoch}^{{date_short_pretty}} {{time}}|{as_of.isoformat(timespec='minutes')}>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return blocks


_OPTION_LABELS = {
    "trace_forward": "Where it went",
    "trace_backward": "What went into it",
    "lot_info": "Lot facts",
    "qc_status": "QC results",
    "recall": "Recall scope",
    "mass_balance": "Mass balance",
    "expiring": "What expires",
    "hold": "Place hold",
    "release": "Release",
    "common_source": "Common source",
    "supplier_lots": "From a supplier",
    "customer_lots": "To a customer",
    "formula_changes": "Recipe changes",
}


def _compact_query(query: dict[str, Any]) -> dict[str, Any]:
    keep = ("intent", "lots", "party", "item", "since", "until", "sku")
    return {k: query[k] for k in keep if query.get(k)}


def confirm_blocks(text: str, token: str) -> list[dict[str, Any]]:
    """A question with Confirm and Cancel buttons for the pending change ``token``
    (a hold, release, recall or acknowledgement): each works once."""
    return [
        _section(slack(text)),
        {
            "type": "actions",
            "elements": [
                _button("Confirm", "tb_confirm", value(t=token), style="danger"),
                _button("Cancel", "tb_cancel", value(t=token)),
            ],
        },
    ]


SNOOZES = ((1, "for 1 hour"), (4, "for 4 hours"), (24, "for 24 hours"), (168, "for a week"))
"""The snooze choices an alert's message offers, in hours."""


def who(key: str | None) -> str:
    """A person as the alert's message shows them: a Slack mention for a Slack user.

    Example:
        >>> who("slack:U0ALICE"), who("cli:maria <qa>")
        ('<@U0ALICE>', 'cli:maria &lt;qa&gt;')
    """
    if key and key.startswith("slack:") and re.fullmatch(r"[A-Z0-9]+", key[6:]):
        return f"<@{key[6:]}>"
    return slack(key or "someone")


def alert_state_line(alert: Any) -> str | None:
    """What became of an alert, for its message: None while it is open."""
    status = getattr(alert, "status", "open")
    by = who(getattr(alert, "state_by", None) or getattr(alert, "acknowledged_by", None))
    if status == "acknowledged":
        return f"Acknowledged by {by}"
    if status == "snoozed" and getattr(alert, "snoozed_until", None):
        return f"Snoozed by {by} until {alert.snoozed_until:%Y-%m-%d %H:%M} UTC"
    if status == "resolved":
        note = getattr(alert, "note", None)
        return f"Resolved by {by}" + (f": {slack(note)}" if note else "")
    return None


def alert_blocks(alert: Any, scope: dict[str, Any] | None) -> list[dict[str, Any]]:
    """An alert: what happened, the downstream scope, what became of it (acknowledged,
    snoozed, resolved, and by whom) and what to do about it."""
    level = severity(alert.kind, alert.detail)
    icon = {"critical": ":rotating_light:", "warning": ":warning:"}.get(
        level, ":information_source:"
    )
    if alert.kind == "digest":
        icon = ":calendar:"
    blocks: list[dict[str, Any]] = [_section(f"{icon} {slack(alert.message)}")]
    detail = alert.detail or {}
    facts = [
        ("Lot", code(alert.lot) if alert.lot else None),
        ("Test", detail.get("test")),
        ("Value", detail.get("value")),
        ("Spec", detail.get("spec")),
        ("Performed by", detail.get("performed_by")),
        (
            "Signed off by",
            detail.get("signed_off_by") or ("nobody yet" if detail.get("test") else None),
        ),
    ]
    if scope is not None:
        affected = scope.get("affected_lots", [])
        facts += [
            ("Downstream lots", len(affected)),
            ("Customers", ", ".join(scope.get("customers", [])) or "none yet"),
        ]
    shown = _fields(facts)
    if shown:
        blocks.append(shown)
    if scope and scope.get("on_hand"):
        lines = [
            f"• {code(o['lot'])} {o['quantity']} {o.get('uom') or ''} at {o.get('location') or 'unknown site'}"
            for o in scope["on_hand"][:LIST_ROWS]
        ]
        more = len(scope["on_hand"]) - LIST_ROWS
        if more > 0:
            lines.append(f"…and {more} more")
        blocks.append(_section("*On hand:*\n" + slack("\n".join(lines))))
    state = alert_state_line(alert)
    if state:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": state}]})
    status = getattr(alert, "status", "open")
    if alert.kind != "digest" and status not in ("resolved", "history"):
        lots = [alert.lot] if alert.lot else []
        payload = value(alert=alert.id, lots=lots)
        buttons: list[dict[str, Any]] = []
        if alert.kind == "history":
            buttons.append(_button("Show list", "tb_history_list", value(alert=alert.id)))
        if lots:
            buttons += [
                _button("Hold lot and downstream", "tb_alert_hold", payload, style="danger"),
                _button("Start recall checklist", "tb_alert_recall", payload),
            ]
        if status != "acknowledged":
            buttons.append(_button("Acknowledge", "tb_alert_ack", payload, style="primary"))
        buttons.append(
            {
                "type": "static_select",
                "action_id": "tb_alert_snooze",
                "placeholder": {"type": "plain_text", "text": "Snooze"},
                "options": [
                    {
                        "text": {"type": "plain_text", "text": f"Snooze {words}"},
                        "value": value(alert=alert.id, hours=hours),
                    }
                    for hours, words in SNOOZES
                ],
            }
        )
        buttons.append(_button("Resolve…", "tb_alert_resolve", payload))
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def resolve_modal(
    alert_id: int, message: str, *, channel: str, thread_ts: str | None
) -> dict[str, Any]:
    """The dialog that asks for the note an alert is resolved with."""
    return {
        "type": "modal",
        "callback_id": "tb_resolve",
        "private_metadata": value(alert=alert_id, channel=channel, thread=thread_ts),
        "title": {"type": "plain_text", "text": "Resolve alert"},
        "submit": {"type": "plain_text", "text": "Resolve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _section(f"*Alert #{alert_id}:* {slack(message)[:2800]}"),
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "What was done"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "note",
                    "multiline": True,
                    "max_length": 500,
                    "placeholder": {
                        "type": "plain_text",
                        "text": "Retested: pass; lot disposed of; supplier informed …",
                    },
                },
            },
        ],
    }


def home_view(
    alerts: Sequence[dict[str, Any]],
    expiring: Sequence[dict[str, Any]],
    holds: Sequence[dict[str, Any]],
    *,
    days: int,
) -> dict[str, Any]:
    """The App Home tab: open alerts, lots expiring soon, holds in place."""

    def listing(title: str, lines: list[str], empty: str) -> list[dict[str, Any]]:
        shown = lines[:15] + ([f"…and {len(lines) - 15} more"] if len(lines) > 15 else [])
        return [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            _section(slack("\n".join(f"• {line}" for line in shown)) if lines else f"_{empty}_"),
        ]

    blocks: list[dict[str, Any]] = []
    blocks += listing(
        f"Open alerts ({len(alerts)})",
        [
            f"#{a['id']} ({severity(a['kind'], a.get('detail'))}) {a['message']}"
            + (
                f" [{a['state']} by {who(a.get('state_by'))}]"
                if a.get("state") not in (None, "open")
                else ""
            )
            for a in alerts
        ],
        "No open alerts.",
    )
    blocks.append({"type": "divider"})
    blocks += listing(
        f"Expiring within {days} days ({len(expiring)})",
        [
            f"{code(e['lot'])} {e['item']}, expires {e['expires_on']}"
            + (f", {e['on_hand']} on hand at {e['location']}" if e.get("on_hand") else "")
            for e in expiring
        ],
        f"Nothing expires in the next {days} days.",
    )
    blocks.append({"type": "divider"})
    blocks += listing(
        f"Holds in place ({len(holds)})",
        [
            f"{code(h['lot'])} {h['item']}, since {h['placed_at']}"
            + (f" by {h['placed_by']}" if h.get("placed_by") else "")
            + (f": {h['reason']}" if h.get("reason") else "")
            for h in holds
        ],
        "No lot is on hold.",
    )
    return {"type": "home", "blocks": blocks[:100]}
