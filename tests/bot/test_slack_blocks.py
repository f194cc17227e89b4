"""Block Kit rendering and the Slack app manifest, without a network."""

from __future__ import annotations

import json
from pathlib import Path

from bot.slack.blocks import LIST_ROWS, answer_blocks, list_rows
from trace_engine.model import Answer

MANIFEST = Path(__file__).resolve().parents[2] / "bot" / "slack" / "manifest.json"


def shipments(count: int) -> Answer:
    rows = [
        {"lot": "4471", "party": "Sysco", "quantity": n, "uom": "ea", "date": "2026-11-20"}
        for n in range(count)
    ]
    lines = "\n".join(f"• `4471` → Sysco: {n} ea on 2026-11-20" for n in range(min(count, 10)))
    more = f"\n…and {count - 10} more" if count > 10 else ""
    return Answer(
        "trace_forward",
        {"intent": "trace_forward", "lots": ["4471"], "confidence": 0.97},
        True,
        f"*Lot 4471 reached 1 customer* in {count} shipments.\n*Customers:* Sysco\n*Shipments:*\n{lines}{more}",
        "",
        {"shipments": rows, "customers": ["Sysco"], "downstream_lots": []},
    )


def test_a_long_list_shows_its_first_lines_and_offers_all_of_it() -> None:
    blocks = answer_blocks(shipments(14))

    body = next(
        b for b in blocks if b["type"] == "section" and "•" in b.get("text", {}).get("text", "")
    )
    assert body["text"]["text"].count("•") == LIST_ROWS
    assert "more" not in body["text"]["text"]
    actions = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    show_all = next(e for e in actions if e["action_id"] == "tb_show_all")
    assert show_all["text"]["text"] == "Show all 14"
    assert json.loads(show_all["value"]) == {"q": {"intent": "trace_forward", "lots": ["4471"]}}
    assert len(show_all["value"]) < 2000
    assert list_rows(shipments(14))[1][13] == ["4471", "Sysco", 13, "ea", "2026-11-20"]


def test_a_short_list_has_no_show_all_and_next_steps_skip_the_current_one() -> None:
    actions = [
        e["action_id"]
        for b in answer_blocks(shipments(3))
        if b["type"] == "actions"
        for e in b["elements"]
    ]

    assert actions == ["tb_upstream", "tb_recall", "tb_fsma", "tb_diagram", "tb_hold"]


def test_the_manifest_subscribes_to_what_the_app_handles() -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))

    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "file_shared", "app_home_opened"} <= events
    assert manifest["features"]["slash_commands"][0]["command"] == "/trace"
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # chat.postMessage, files_upload_v2, file downloads, conversations.history of the alert channel
    assert {"chat:write", "files:write", "files:read", "channels:history", "commands"} <= scopes
