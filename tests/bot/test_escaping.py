"""Nothing unsafe out: values from a plant's data cannot ping, mention or link in
Slack, break out of a code span, or run as a formula in a spreadsheet.

A supplier file (or anyone with an API write key) names a lot, a customer and a QC
result with Slack's control sequences; the alert really posted to the recording
Slack stand-in, the answers' Block Kit and the FSMA exports keep them as text.
"""

from __future__ import annotations

import asyncio
import csv
import json
import zipfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

import storage
from bot.export import write_fsma
from bot.render.markup import slack
from bot.service import TraceService
from bot.slack.blocks import alert_blocks, answer_blocks
from intents.model import Intent
from storage.importers.csv_import import import_csv_dir
from tests.bot.test_slack_alerts import sender
from tests.conftest import write_csv
from tests.e2e.slack_stub import SlackStub
from tests.storage.test_csv_import import LOTS, PARTIES, QC, SHIPMENTS, write_plant

TOKEN = "xoxb-test"
EVIL_LOT = "9102<!channel>"
EVIL_NAME = '=HYPERLINK("http://evil.example/x","Sysco") <!here> <https://evil.example|details>'
EVIL_PERSON = "<@U0ADMIN>"
CONTROL = ("<!channel>", "<!here>", "<https://evil.example", "<@U0ADMIN>")


@pytest.fixture
def evil_plant(database: str, tmp_path: Path) -> str:
    plant = write_plant(tmp_path / "plant")
    parties = [row if row[0] != "SYSCO" else ["SYSCO", EVIL_NAME, *row[2:]] for row in PARTIES]
    write_csv(plant, "parties.csv", parties)
    write_csv(
        plant, "lots.csv", [*LOTS, [EVIL_LOT, "GRAN", "10", "ea", "2026-11-20", "", "", "PLANT"]]
    )
    write_csv(
        plant,
        "qc.csv",
        [
            *QC,
            [
                EVIL_LOT,
                "moisture <!channel>",
                "fail",
                "9% <!here>",
                "<= 5%",
                EVIL_PERSON,
                "",
                "2026-11-21T08:00:00",
            ],
        ],
    )
    write_csv(
        plant,
        "shipments.csv",
        [*SHIPMENTS, [EVIL_LOT, "SYSCO", "PLANT", "5", "ea", "2026-11-22", "BOL <!channel>"]],
    )
    report = import_csv_dir(database, plant, history=False, horizon=None)  # news, not history
    assert not report.rejected, report.rejected
    return database


def _texts(payload: object, key: str = "text") -> list[str]:
    """Every text Slack shows of a call's parameters or blocks (what is under a
    ``text`` key; a button's value is never shown)."""
    if isinstance(payload, str) and key in ("text", "blocks"):
        if key == "blocks":
            return _texts(json.loads(payload), key)
        return [payload]
    if isinstance(payload, dict):
        return [t for name, value in payload.items() for t in _texts(value, name)]
    if isinstance(payload, list):
        return [t for value in payload for t in _texts(value, key)]
    return []


def test_an_alert_from_hostile_data_posts_no_ping_mention_or_link(evil_plant: str) -> None:
    stub = SlackStub(TOKEN).start()
    try:
        asyncio.run(sender(evil_plant, stub).deliver_due())
        posts = stub.of("chat.postMessage")
    finally:
        stub.stop()

    texts = [t for call in posts for t in _texts(call.params)]
    assert any("9102&lt;!channel&gt;" in t for t in texts)  # the lot is there, as text
    assert not [t for t in texts if any(bad in t for bad in CONTROL)]
    failed = [t for t in texts if "moisture" in t and "QC failed" in t]
    assert failed and "&lt;!channel&gt;" in failed[0]


def test_answer_blocks_escape_the_data_and_keep_code_spans_whole(evil_plant: str) -> None:
    bot = TraceService(storage.load_genealogy(evil_plant), evil_plant)
    answer = bot.answer(Intent("trace_forward", lots=(EVIL_LOT,)), today=date(2026, 11, 25))

    assert answer.ok, answer.text
    texts = _texts(answer_blocks(answer))
    assert not [t for t in texts if any(bad in t for bad in CONTROL)]
    shipped = next(t for t in texts if "BOL" in t)
    assert "`9102&lt;!channel&gt;`" in shipped
    assert "BOL &lt;!channel&gt;" in shipped


def test_an_alert_s_own_fields_are_escaped() -> None:
    alert = SimpleNamespace(
        id=7,
        kind="qc_failed",
        lot=EVIL_LOT,
        message=f"QC failed on lot {EVIL_LOT}: performed by {EVIL_PERSON}",
        detail={"test": "moisture", "value": "<!here>", "performed_by": EVIL_PERSON},
    )

    scope = {
        "affected_lots": [],
        "customers": [EVIL_NAME],
        "on_hand": [{"lot": EVIL_LOT, "quantity": 1}],
    }
    texts = _texts(alert_blocks(alert, scope))

    assert not [t for t in texts if any(bad in t for bad in CONTROL)]
    assert slack(EVIL_NAME) in " ".join(texts)


def test_the_fsma_exports_hold_text_not_formulas(evil_plant: str, tmp_path: Path) -> None:
    genealogy = storage.load_genealogy(evil_plant)
    write_fsma(genealogy, [EVIL_LOT], tmp_path / "trace.csv")
    write_fsma(genealogy, [EVIL_LOT], tmp_path / "trace.xlsx")

    with (tmp_path / "trace.csv").open(encoding="utf-8") as handle:
        cells = [value for row in csv.reader(handle) for value in row]
    assert "'" + EVIL_NAME in cells
    assert not [value for value in cells if value.startswith(("=", "+", "@"))]
    with zipfile.ZipFile(tmp_path / "trace.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        shared = book.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet  # no cell is a formula
    assert "HYPERLINK" in shared  # the name is kept, as a string
