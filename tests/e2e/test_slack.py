"""TraceBot in Slack, end to end and offline.

`tracebot serve` runs under uvicorn on 127.0.0.1 with the demo plant; a local
recording stand-in plays Slack's Web API (tests/e2e/slack_stub.py). Requests reach
TraceBot shaped like Slack's real ones and signed with the signing secret as Slack
signs them; the tests assert on what TraceBot sent back to the stand-in.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from PIL import Image
from sqlalchemy import bindparam, text

from storage.db import make_engine
from tests.e2e.servers import demo_database, stream_body, tracebot_server
from tests.e2e.slack_stub import Call, SlackStub
from tests.intents.labels import LabelSpec, have_zint, render

pytestmark = pytest.mark.e2e

TOKEN = "xoxb-test-token"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN = "U0ADMIN"
ALERTS = "C0ALERTS"
API_KEY = "ops-key-123"


@pytest.fixture(scope="module")
def stub() -> Iterator[SlackStub]:
    server = SlackStub(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_database(tmp_path_factory.mktemp("slack"))


def environment(stub: SlackStub) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": stub.api_url,
        "TRACEBOT_ALERT_CHANNEL": ALERTS,
        "TRACEBOT_ADMINS": ADMIN,
        "TRACEBOT_API_KEYS": f"ops:{API_KEY}",
        "TRACEBOT_ALERT_RETRY": "0.1",
        "TRACEBOT_DIGEST_TIME": "off",
    }


@pytest.fixture(scope="module")
def server(stub: SlackStub, plant: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("logs") / "serve.log"
    with tracebot_server(plant, environment(stub), log=log) as base:
        # The demo plant's own alerts (a failed QC check, a lot shipped before release)
        # go out first; the tests start once they are delivered.
        stub.wait_for("chat.postMessage", 2, where=lambda c: c.params.get("channel") == ALERTS)
        yield base


def sign(body: str | bytes, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


_EVENTS = iter(range(1, 10_000))


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_EVENTS):06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        }
    )


def send_event(base: str, body: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **sign(body), **headers},
        timeout=10,
    )


def mention(text: str, *, user: str = "U0ALICE", channel: str = "C0QA", ts: str) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": channel,
    }


def click_body(action_id: str, value: dict[str, Any], *, user: str, channel: str, ts: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "team": {"id": "T0001"},
        "api_app_id": "A0001",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel},
        "message": {"ts": ts, "thread_ts": ts, "text": "", "type": "message"},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.com/actions/T0001/1/x",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": json.dumps(value),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def post_signed(base: str, body: str) -> httpx.Response:
    return httpx.post(
        f"{base}/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        timeout=10,
    )


def click(
    base: str, action_id: str, value: dict[str, Any], *, user: str, channel: str, ts: str
) -> httpx.Response:
    return post_signed(base, click_body(action_id, value, user=user, channel=channel, ts=ts))


def buttons_of(call: Call) -> dict[str, dict[str, Any]]:
    """The buttons of a posted message: action id to its value."""
    return {
        element["action_id"]: json.loads(element["value"])
        for block in call.params.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
        if "value" in element
    }


def choices_of(call: Call, action_id: str) -> list[dict[str, Any]]:
    """The option values of a posted message's select menu."""
    return [
        json.loads(option["value"])
        for block in call.params.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
        for option in element["options"]
    ]


def choose_body(action_id: str, choice: dict[str, Any], *, user: str, channel: str, ts: str) -> str:
    """A pick in a message's select menu, as Slack sends it."""
    body = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "team": {"id": "T0001"},
        "api_app_id": "A0001",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel},
        "message": {"ts": ts, "thread_ts": ts, "text": "", "type": "message"},
        "trigger_id": "1.2.4",
        "actions": [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": "b1",
                "selected_option": {"value": json.dumps(choice)},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(body)})


def audit_count(url: str, action: str) -> int:
    with make_engine(url).connect() as connection:
        count: int = connection.execute(
            text("select count(*) from audit_log where action = :action"), {"action": action}
        ).scalar_one()
    return count


def posted_to(channel: str, thread_ts: str | None = None) -> Any:
    def match(call: Call) -> bool:
        return call.params.get("channel") == channel and (
            thread_ts is None or call.params.get("thread_ts") == thread_ts
        )

    return match


def action_ids(call: Call) -> list[str]:
    return [
        element["action_id"]
        for block in call.params.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_mention_is_answered_in_its_thread(server: str, stub: SlackStub) -> None:
    response = send_event(server, event_body(mention("who got lot 4471?", ts="1700000001.000100")))

    assert response.status_code == 200
    [reply] = stub.wait_for("chat.postMessage", where=posted_to("C0QA", "1700000001.000100"))
    assert reply.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Lot 4471 reached" in reply.params["text"]
    assert reply.params["blocks"][0]["text"]["text"].startswith("*Lot 4471 reached")
    assert {"tb_upstream", "tb_recall", "tb_fsma", "tb_diagram", "tb_hold"} <= set(
        action_ids(reply)
    )


def test_a_follow_up_in_the_thread_keeps_its_lot(server: str, stub: SlackStub) -> None:
    ts = "1700000002.000100"
    send_event(server, event_body(mention("what went into L-2024-0113?", ts=ts)))
    stub.wait_for("chat.postMessage", where=posted_to("C0QA", ts))
    follow_up = mention("and where did it go?", ts="1700000002.000200") | {"thread_ts": ts}

    send_event(server, event_body(follow_up))

    replies = stub.wait_for("chat.postMessage", 2, where=posted_to("C0QA", ts))
    assert "L-2024-0113" in replies[1].params["text"]
    assert (
        "reached" in replies[1].params["text"] or "has not been used" in replies[1].params["text"]
    )


def test_a_direct_message_is_answered(server: str, stub: SlackStub) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0BOB",
        "user": "U0BOB",
        "text": "when does 4471 expire?",
        "ts": "1700000003.000100",
    }

    send_event(server, event_body(event))

    [reply] = stub.wait_for("chat.postMessage", where=posted_to("D0BOB"))
    assert reply.params["text"].startswith("*Lot 4471: Honey Almond Granola 500 g*")
    fields = {f["text"].split("\n")[0] for f in reply.params["blocks"][1]["fields"]}
    assert {"*Item*", "*Expires*", "*Status*", "*On hand*"} <= fields


def test_the_slash_command_answers_in_the_channel(server: str, stub: SlackStub) -> None:
    body = urlencode(
        {
            "token": "legacy",
            "team_id": "T0001",
            "channel_id": "C0QA",
            "user_id": "U0CAROL",
            "command": "/trace",
            "text": "did 5120 pass QC?",
            "response_url": f"{stub.base}/response/cmd1",
            "trigger_id": "1.2.3",
        }
    )
    started = time.monotonic()
    response = httpx.post(
        f"{server}/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        timeout=10,
    )

    assert response.status_code == 200
    assert time.monotonic() - started < 3  # acknowledged within Slack's three seconds
    [answer] = stub.wait_for("response_url")
    assert answer.params["response_type"] == "in_channel"
    assert "Lot 5120 failed 1 of" in answer.params["text"]


@pytest.mark.skipif(not have_zint(), reason="Debian's zint draws the label")
def test_a_label_photo_is_read_and_answered(server: str, stub: SlackStub, tmp_path: Path) -> None:
    label = render(LabelSpec("00614141000418", "4471", date(2027, 7, 28), "gs1-128"), tmp_path)
    photo = io.BytesIO()
    label.convert("RGB").save(photo, format="JPEG", quality=90)
    file = stub.add_file("label-4471.jpg", photo.getvalue(), "image/jpeg")
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel_type": "im",
        "channel": "D0DAVE",
        "user": "U0DAVE",
        "text": "",
        "files": [file],
        "ts": "1700000005.000100",
    }

    send_event(server, event_body(event))

    [reply] = stub.wait_for("chat.postMessage", where=posted_to("D0DAVE"))
    assert reply.params["text"].startswith("*Lot 4471: Honey Almond Granola 500 g*")
    assert "Label read: GTIN 00614141000418, lot 4471" in reply.params["text"]
    [download] = stub.of("file.download")
    assert download.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_photo_without_a_barcode_gets_retake_advice(server: str, stub: SlackStub) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 190, 180)).save(blank, format="PNG")
    file = stub.add_file("blank.png", blank.getvalue())
    event = mention("", ts="1700000006.000100", channel="C0FLOOR") | {"files": [file]}

    send_event(server, event_body(event))

    [reply] = stub.wait_for("chat.postMessage", where=posted_to("C0FLOOR"))
    assert reply.params["text"].startswith("I couldn't read a barcode in that photo")
    assert reply.params["thread_ts"] == "1700000006.000100"


def test_a_button_click_follows_the_next_step(server: str, stub: SlackStub) -> None:
    response = click(
        server,
        "tb_upstream",
        {"lots": ["5133"]},
        user="U0ALICE",
        channel="C0BTN",
        ts="1700000007.000100",
    )

    assert response.status_code == 200
    [reply] = stub.wait_for("chat.postMessage", where=posted_to("C0BTN", "1700000007.000100"))
    assert reply.params["text"].startswith("*Lot 5133 came from")


def test_the_fsma_button_uploads_the_spreadsheet_to_the_thread(
    server: str, stub: SlackStub
) -> None:
    click(
        server,
        "tb_fsma",
        {"lots": ["4471"]},
        user="U0ALICE",
        channel="C0FILES",
        ts="1700000008.000100",
    )

    [done] = stub.wait_for(
        "files.completeUploadExternal", where=lambda c: c.params.get("channel_id") == "C0FILES"
    )
    assert done.params["thread_ts"] == "1700000008.000100"
    uploaded = json.loads(done.params["files"])[0]
    assert uploaded["title"].startswith("FSMA 204 sortable spreadsheet for 4471")
    assert stub.uploads[uploaded["id"]][:2] == b"PK"  # an .xlsx is a zip


def test_a_hold_by_someone_not_listed_is_refused(server: str, stub: SlackStub, plant: str) -> None:
    send_event(
        server, event_body(mention("put 4480 on hold", user="U0MALLORY", ts="1700000009.000100"))
    )

    [reply] = stub.wait_for("chat.postMessage", where=posted_to("C0QA", "1700000009.000100"))
    assert reply.params["text"] == f"Only {ADMIN} may place holds. Ask one of them."
    with make_engine(plant).connect() as connection:
        lot = connection.execute(
            text("select status from lot where lot_code = '4480'")
        ).scalar_one()
    assert lot != "on_hold"


def test_a_hold_by_an_admin_is_confirmed_then_audited(
    server: str, stub: SlackStub, plant: str
) -> None:
    ts = "1700000010.000100"
    send_event(server, event_body(mention("put 4402 on hold", user=ADMIN, ts=ts)))
    [question] = stub.wait_for("chat.postMessage", where=posted_to("C0QA", ts))
    assert question.params["text"].startswith("Put lot `4402` (Trail Mix Bar 12-pack) on hold?")
    assert action_ids(question) == ["tb_confirm", "tb_cancel"]
    confirm = buttons_of(question)["tb_confirm"]
    assert set(confirm) == {"t"}  # the button carries the pending change's token only

    refused = click(server, "tb_confirm", confirm, user="U0MALLORY", channel="C0QA", ts=ts)
    assert refused.status_code == 200
    [told] = stub.wait_for("chat.postEphemeral")
    assert told.params["user"] == "U0MALLORY" and f"<@{ADMIN}>" in told.params["text"]

    click(server, "tb_confirm", confirm, user=ADMIN, channel="C0QA", ts=ts)

    [updated] = stub.wait_for("chat.update", where=lambda c: c.params.get("ts") == ts)
    assert updated.params["text"].startswith("*Lot `4402` is now on hold.* (audit #")
    with make_engine(plant).connect() as connection:
        actor = connection.execute(
            text("select actor from audit_log where action = 'hold' order by id desc limit 1")
        ).scalar_one()
        status = connection.execute(
            text("select status from lot where lot_code = '4402'")
        ).scalar_one()
    assert (actor, status) == (f"slack:{ADMIN}", "on_hold")


def test_a_confirmation_clicked_three_times_changes_once(
    server: str, stub: SlackStub, plant: str
) -> None:
    ts = "1700000011.000100"
    send_event(server, event_body(mention("release 4402", user=ADMIN, ts=ts)))
    [question] = stub.wait_for("chat.postMessage", where=posted_to("C0QA", ts))
    body = click_body(
        "tb_confirm", buttons_of(question)["tb_confirm"], user=ADMIN, channel="C0QA", ts=ts
    )
    before = audit_count(plant, "release")

    for _ in range(3):  # the same signed click, delivered three times within five minutes
        assert post_signed(server, body).status_code == 200
    [done] = stub.wait_for("chat.update", where=lambda c: c.params.get("ts") == ts)
    click(
        server, "tb_confirm", buttons_of(question)["tb_confirm"], user=ADMIN, channel="C0QA", ts=ts
    )
    [told] = stub.wait_for(
        "chat.postEphemeral",
        where=lambda c: (
            c.params.get("channel") == "C0QA"
            and str(c.params.get("text")).startswith("That was confirmed already")
        ),
    )

    assert done.params["text"].startswith("*Lot `4402` is now released.*")
    # The replays changed nothing and posted nothing; the later click is told, alone.
    assert (
        len(stub.of("chat.update"))
        == len([c for c in stub.of("chat.update") if c.params.get("ts") != ts]) + 1
    )
    assert told.params["user"] == ADMIN
    assert told.params["text"].startswith(f"That was confirmed already (slack:{ADMIN}, ")
    assert audit_count(plant, "release") == before + 1


def test_a_photo_that_cannot_be_processed_gets_a_reply(server: str, stub: SlackStub) -> None:
    file = stub.add_file("label.png", b"\x89PNG\r\n", "image/png") | {"size": "a lot"}
    event = mention("", ts="1700000012.000100", channel="C0PHOTO") | {"files": [file]}

    send_event(server, event_body(event))

    [reply] = stub.wait_for("chat.postMessage", where=posted_to("C0PHOTO"))
    assert reply.params["text"] == "Sorry, that did not work; it has been logged."
    assert reply.params["thread_ts"] == "1700000012.000100"


def qc_failure(lot: str, test: str) -> list[dict[str, str]]:
    return [
        {
            "type": "qc",
            "lot_code": lot,
            "test": test,
            "result": "fail",
            "value": "31 ppb",
            "spec": "<= 20 ppb",
            "performed_by": "Lab A",
            "signed_off_by": "Priya N.",
            "at": f"{date.today().isoformat()}T09:30:00",
        }
    ]


def alerts_about(lot: str, test: str) -> Any:
    def match(call: Call) -> bool:
        said = str(call.params.get("text", ""))
        return call.params.get("channel") == ALERTS and f"lot {lot}" in said and test in said

    return match


def test_a_qc_failure_raises_exactly_one_alert(server: str, stub: SlackStub) -> None:
    response = httpx.post(
        f"{server}/api/events", json=qc_failure("4471", "aflatoxin"), headers={"X-API-Key": API_KEY}
    )

    assert response.status_code == 201, response.text
    assert response.json() == {"recorded": 1, "alerts": 1}
    [alert] = stub.wait_for("chat.postMessage", where=alerts_about("4471", "aflatoxin"))
    assert alert.params["metadata"]["event_type"] == "tracebot_alert"
    fields = " ".join(
        f["text"] for b in alert.params["blocks"] if "fields" in b for f in b["fields"]
    )
    assert "31 ppb" in fields and "Priya N." in fields and "Customers" in fields
    assert action_ids(alert) == [
        "tb_alert_hold",
        "tb_alert_recall",
        "tb_alert_ack",
        "tb_alert_snooze",
        "tb_alert_resolve",
    ]

    again = httpx.post(
        f"{server}/api/events", json=qc_failure("4471", "aflatoxin"), headers={"X-API-Key": API_KEY}
    )
    time.sleep(1.0)
    assert again.json() == {"recorded": 0, "alerts": 0}
    assert len(stub.of("chat.postMessage")) == len(
        stub.wait_for("chat.postMessage", where=lambda c: True)
    )
    assert (
        len([c for c in stub.of("chat.postMessage") if alerts_about("4471", "aflatoxin")(c)]) == 1
    )


def test_an_alert_is_delivered_once_after_slack_failed_twice(server: str, stub: SlackStub) -> None:
    stub.fail("chat.postMessage", 2)

    httpx.post(
        f"{server}/api/events",
        json=qc_failure("4480", "salmonella"),
        headers={"X-API-Key": API_KEY},
    )

    tries = stub.wait_for("chat.postMessage", 3, where=alerts_about("4480", "salmonella"))
    time.sleep(1.0)
    assert (
        len([c for c in stub.of("chat.postMessage") if alerts_about("4480", "salmonella")(c)]) == 3
    )
    delivered = [m for m in stub.history[ALERTS] if "salmonella" in str(m["text"])]
    assert len(delivered) == 1
    assert tries[2].at - tries[0].at >= 0.1 * (1 + 2.5) * 0.9  # it waited between tries


def test_a_retried_event_posts_nothing_new(server: str, stub: SlackStub) -> None:
    body = event_body(mention("reconcile lot 4471", ts="1700000012.000100"), event_id="Ev0RETRY01")
    send_event(server, body)
    stub.wait_for("chat.postMessage", where=posted_to("C0QA", "1700000012.000100"))

    retried = send_event(
        server, body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )

    assert retried.status_code == 200
    time.sleep(1.0)
    assert (
        len([c for c in stub.of("chat.postMessage") if posted_to("C0QA", "1700000012.000100")(c)])
        == 1
    )


def test_a_forged_or_stale_request_is_refused(server: str, stub: SlackStub) -> None:
    body = event_body(mention("who got lot 4471?", ts="1700000013.000100"))

    forged = httpx.post(
        f"{server}/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **sign(body, secret="not-the-secret")},
    )
    unsigned = httpx.post(
        f"{server}/slack/events", content=body, headers={"Content-Type": "application/json"}
    )
    stale = httpx.post(
        f"{server}/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **sign(body, at=int(time.time()) - 600)},
    )

    assert (forged.status_code, unsigned.status_code, stale.status_code) == (401, 401, 401)
    time.sleep(0.5)
    assert not [c for c in stub.of("chat.postMessage") if posted_to("C0QA", "1700000013.000100")(c)]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
MIB = 1024 * 1024


FORGED = {"forged": "signed with another secret, when the test runs"}


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (b"hello", {}, "missing_signature"),
        (b"payload=notjson", FORM, "missing_signature"),
        (b"\xff\xfe\x00not utf-8", JSON, "missing_signature"),
        (b"{}", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=0"}, "bad_timestamp"),
        (
            b"{}",
            {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=0"},
            "bad_timestamp",
        ),
        (b"{}", {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=0"}, "bad_timestamp"),
        (b"{}", {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=0"}, "stale_request"),
        (b"\xff\xfe", FORGED, "bad_signature"),
        (b"payload=notjson", FORGED, "bad_signature"),
    ],
)
def test_an_unsigned_or_forged_request_is_401_whatever_its_body(
    server: str, body: bytes, headers: dict[str, str], code: str
) -> None:
    if headers is FORGED:
        headers = {**FORM, **sign(body, secret="not-the-secret")}

    response = httpx.post(f"{server}/slack/events", content=body, headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert set(response.json()) == {"error"}


def test_a_signature_header_that_is_no_ascii_is_401(server: str) -> None:
    stamp = str(int(time.time()))
    with socket.create_connection(("127.0.0.1", int(server.rsplit(":", 1)[1]))) as connection:
        connection.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            b"X-Slack-Request-Timestamp: " + stamp.encode() + b"\r\n"
            b"X-Slack-Signature: v0=\xff\xfe\r\nConnection: close\r\n\r\n{}"
        )
        answer = b"".join(iter(lambda: connection.recv(65536), b""))

    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b'"bad_signature"' in answer


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (b"payload=notjson", FORM, "not_slack"),
        (b"\xff\xfe{}", JSON, "not_utf8"),
        (b"[1, 2]", JSON, "not_slack"),
        (b"{" * 100_000, JSON, "not_slack"),
        (b'{"type": "event_callback", "event": "x"}', JSON, "not_slack"),
        (b'payload={"type": "block_actions", "actions": "x"}', FORM, "not_slack"),
        (b'{"authorizations": 5}', JSON, "not_slack"),
    ],
)
def test_a_signed_body_that_is_no_slack_payload_is_400(
    server: str, body: bytes, headers: dict[str, str], code: str
) -> None:
    response = httpx.post(
        f"{server}/slack/events", content=body, headers={**headers, **sign(body)}, timeout=10
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_an_unsigned_200_mb_body_is_refused_while_it_streams_in(server: str, chunked: bool) -> None:
    status, body, sent = stream_body(server, "/slack/events", 200 * MIB, chunked=chunked)

    assert status == 413
    assert json.loads(body) == {
        "error": {"code": "too_large", "message": "Slack requests over 1 MiB are refused."}
    }
    assert sent < 16 * MIB  # what the sockets' buffers took before the answer came


def test_the_app_home_shows_alerts_expiring_lots_and_holds(server: str, stub: SlackStub) -> None:
    send_event(
        server,
        event_body(
            {"type": "app_home_opened", "user": "U0ERIN", "tab": "home", "channel": "D0ERIN"}
        ),
    )

    [published] = stub.wait_for(
        "views.publish", where=lambda c: c.params.get("user_id") == "U0ERIN"
    )
    headers = [
        b["text"]["text"] for b in published.params["view"]["blocks"] if b["type"] == "header"
    ]
    assert headers[0].startswith("Open alerts (")
    assert headers[1].startswith("Expiring within 14 days (")
    assert headers[2].startswith("Holds in place (")
    assert "QC failed on lot 5120" in json.dumps(published.params["view"])


def test_a_thread_reply_naming_the_item_settles_a_shared_code(server: str, stub: SlackStub) -> None:
    ts = "1700000013.000100"
    send_event(server, event_body(mention("tell me about lot 12", ts=ts)))
    [asked] = stub.wait_for("chat.postMessage", where=posted_to("C0QA", ts))
    reply = mention("the trail mix bar", ts="1700000013.000200") | {"thread_ts": ts}

    send_event(server, event_body(reply))

    replies = stub.wait_for("chat.postMessage", 2, where=posted_to("C0QA", ts))
    assert asked.params["text"].startswith("Lot 12 exists for ")
    assert asked.params["text"].endswith("Reply with the item, or its SKU.")
    assert replies[1].params["text"].startswith("*Lot 12: Trail Mix Bar 12-pack*")


def test_a_shared_lot_code_offers_a_button_per_item(server: str, stub: SlackStub) -> None:
    ts = "1700000020.000100"
    send_event(server, event_body(mention("what went into lot 12?", ts=ts)))
    [question] = stub.wait_for("chat.postMessage", where=posted_to("C0QA", ts))
    assert "Lot 12 exists for" in question.params["text"]
    assert action_ids(question) == ["tb_pick_item_BASE-TOAST", "tb_pick_item_BAR-TRAIL-12"]
    pick = next(
        e
        for b in question.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "tb_pick_item_BASE-TOAST"
    )

    click(
        server, pick["action_id"], json.loads(pick["value"]), user="U0ALICE", channel="C0QA", ts=ts
    )

    replies = stub.wait_for("chat.postMessage", 2, where=posted_to("C0QA", ts))
    assert replies[1].params["text"] == "*Lot 12 has no recorded inputs or receipts.*"


def test_show_all_uploads_the_whole_list_as_csv(server: str, stub: SlackStub) -> None:
    shipments = [
        {
            "type": "shipment",
            "lot_code": "4471",
            "to": "FRESH",
            "from_site": "COLD",
            "quantity": "10",
            "uom": "ea",
            "shipped_on": date.today().isoformat(),
            "reference": f"SO-9{n:03d}",
        }
        for n in range(12)
    ]
    recorded = httpx.post(f"{server}/api/events", json=shipments, headers={"X-API-Key": API_KEY})
    assert recorded.status_code == 201, recorded.text
    ts = "1700000021.000100"
    send_event(server, event_body(mention("who got lot 4471?", ts=ts, channel="C0ALL")))
    [reply] = stub.wait_for("chat.postMessage", where=posted_to("C0ALL", ts))
    shown = [b for b in reply.params["blocks"] if "text" in b and "•" in b["text"]["text"]]
    assert shown[0]["text"]["text"].count("•") == 8  # the first ones; the rest on request
    show_all = next(
        e
        for b in reply.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "tb_show_all"
    )

    click(
        server, "tb_show_all", json.loads(show_all["value"]), user="U0ALICE", channel="C0ALL", ts=ts
    )

    [done] = stub.wait_for(
        "files.completeUploadExternal", where=lambda c: c.params.get("channel_id") == "C0ALL"
    )
    uploaded = stub.uploads[json.loads(done.params["files"])[0]["id"]].decode()
    rows = uploaded.strip().splitlines()
    assert rows[0] == "lot,party,quantity,uom,date"
    assert len(rows) - 1 == int(show_all["text"]["text"].split()[-1]) >= 12


def test_the_diagram_button_uploads_an_image(server: str, stub: SlackStub) -> None:
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz draws the diagram (Debian package graphviz)")
    click(
        server,
        "tb_diagram",
        {"lots": ["ALM-5531"]},
        user="U0ALICE",
        channel="C0DIAG",
        ts="1700000022.000100",
    )

    [done] = stub.wait_for(
        "files.completeUploadExternal", where=lambda c: c.params.get("channel_id") == "C0DIAG"
    )
    uploaded = json.loads(done.params["files"])[0]
    assert uploaded["title"].startswith("Lineage of ALM-5531")
    assert stub.uploads[uploaded["id"]][:8] == b"\x89PNG\r\n\x1a\n"


def test_alert_buttons_hold_downstream_recall_and_acknowledge(
    server: str, stub: SlackStub, plant: str
) -> None:
    httpx.post(
        f"{server}/api/events",
        json=qc_failure("ALM-5602", "aflatoxin"),
        headers={"X-API-Key": API_KEY},
    )
    [alert] = stub.wait_for("chat.postMessage", where=alerts_about("ALM-5602", "aflatoxin"))
    buttons = buttons_of(alert)
    ts = stub.history[ALERTS][0]["ts"] if stub.history[ALERTS] else "0"

    def confirmation(starts: str) -> dict[str, Any]:
        [question] = stub.wait_for(
            "chat.postMessage", where=lambda c: str(c.params.get("text", "")).startswith(starts)
        )
        return buttons_of(question)["tb_confirm"]

    click(server, "tb_alert_hold", buttons["tb_alert_hold"], user=ADMIN, channel=ALERTS, ts=ts)
    hold = confirmation("Put lot `ALM-5602`")
    click(server, "tb_confirm", hold, user=ADMIN, channel=ALERTS, ts=ts)
    [held_update] = stub.wait_for(
        "chat.update",
        where=lambda c: (
            c.params.get("channel") == ALERTS and "now on hold" in str(c.params.get("text"))
        ),
    )
    with make_engine(plant).connect() as connection:
        held = json.loads(
            connection.execute(
                text("select detail from audit_log where action = 'hold' order by id desc limit 1")
            ).scalar_one()
        )["lots"]
    assert held[0] == "ALM-5602" and len(held) > 1  # the lot and what was made from it

    recalls = audit_count(plant, "recall_started")
    click(server, "tb_alert_recall", buttons["tb_alert_recall"], user=ADMIN, channel=ALERTS, ts=ts)
    recall = confirmation("Start the recall checklist for `ALM-5602`")
    body = click_body("tb_confirm", recall, user=ADMIN, channel=ALERTS, ts=ts)
    for _ in range(3):
        post_signed(server, body)
    click(server, "tb_confirm", recall, user=ADMIN, channel=ALERTS, ts=ts)
    stub.wait_for("chat.update", where=lambda c: "Recall started by" in str(c.params.get("text")))
    stub.wait_for(
        "chat.postEphemeral",
        where=lambda c: (
            c.params.get("channel") == ALERTS
            and "That was confirmed already" in str(c.params.get("text"))
        ),
    )
    assert audit_count(plant, "recall_started") == recalls + 1

    click(server, "tb_alert_ack", buttons["tb_alert_ack"], user="U0ALICE", channel=ALERTS, ts=ts)
    acknowledge = confirmation(f"Acknowledge alert #{buttons['tb_alert_ack']['alert']}")
    with make_engine(plant).connect() as connection:
        still_open = connection.execute(
            text("select status from alert where id = :id"),
            {"id": buttons["tb_alert_ack"]["alert"]},
        ).scalar_one()
    assert still_open == "open"  # asking changed nothing
    click(server, "tb_confirm", acknowledge, user="U0ALICE", channel=ALERTS, ts=ts)

    [acknowledged] = stub.wait_for(
        "chat.update", where=lambda c: "Acknowledged by" in json.dumps(c.params.get("blocks"))
    )
    assert "<@U0ALICE>" in json.dumps(acknowledged.params["blocks"])
    with make_engine(plant).connect() as connection:
        status = connection.execute(
            text("select status, acknowledged_by from alert where id = :id"),
            {"id": buttons["tb_alert_ack"]["alert"]},
        ).one()
        on_hold = connection.execute(
            text(
                "select count(*) from lot where status = 'on_hold' and lot_code in :codes"
            ).bindparams(bindparam("codes", expanding=True)),
            {"codes": held},
        ).scalar_one()
    assert tuple(status) == ("acknowledged", "slack:U0ALICE")
    assert on_hold == len(set(held))
    assert held_update.params["text"].startswith("*Lots ")


def test_old_events_give_one_history_post_whose_button_lists_them(
    server: str, stub: SlackStub
) -> None:
    old = (date.today() - timedelta(days=40)).isoformat()
    events = [
        {**failure, "test": test, "at": f"{old}T09:30:00"}
        for test in ("ochratoxin", "lead")
        for failure in qc_failure("4398", test)
    ]
    recorded = httpx.post(f"{server}/api/events", json=events, headers={"X-API-Key": API_KEY})
    assert recorded.status_code == 201, recorded.text
    [summary] = stub.wait_for(
        "chat.postMessage",
        where=lambda c: str(c.params.get("text", "")).startswith("History check: 2"),
    )
    assert not [c for c in stub.of("chat.postMessage") if "ochratoxin" in str(c.params["text"])]
    show = buttons_of(summary)["tb_history_list"]
    ts = next(m["ts"] for m in stub.history[ALERTS] if m["text"] == summary.params["text"])

    click(server, "tb_history_list", show, user="U0BOB", channel=ALERTS, ts=ts)

    [done] = stub.wait_for(
        "files.completeUploadExternal",
        where=lambda c: "History check" in str(c.params.get("files", "")),
    )
    rows = list(
        csv.reader(io.StringIO(stub.uploads[json.loads(done.params["files"])[0]["id"]].decode()))
    )
    assert rows[0] == ["id", "severity", "kind", "lot", "message", "recorded_at"]
    listed = sorted(
        (row[2], row[3], "ochratoxin" in row[4] or "lead" in row[4]) for row in rows[1:]
    )
    assert listed == [("qc_failed", "4398", True), ("qc_failed", "4398", True)]


def test_alert_snoozed_and_resolved_from_its_message(
    server: str, stub: SlackStub, plant: str
) -> None:
    httpx.post(
        f"{server}/api/events",
        json=qc_failure("ALM-5531", "salmonella"),
        headers={"X-API-Key": API_KEY},
    )
    [alert] = stub.wait_for("chat.postMessage", where=alerts_about("ALM-5531", "salmonella"))
    alert_id = buttons_of(alert)["tb_alert_ack"]["alert"]
    ts = next(m["ts"] for m in stub.history[ALERTS] if m["text"] == alert.params["text"])
    choices = choices_of(alert, "tb_alert_snooze")
    assert [c["hours"] for c in choices] == [1, 4, 24, 168]

    post_signed(
        server, choose_body("tb_alert_snooze", choices[1], user="U0BOB", channel=ALERTS, ts=ts)
    )
    [question] = stub.wait_for(
        "chat.postMessage",
        where=lambda c: str(c.params.get("text", "")).startswith(f"Snooze alert #{alert_id}"),
    )
    click(
        server,
        "tb_confirm",
        buttons_of(question)["tb_confirm"],
        user="U0BOB",
        channel=ALERTS,
        ts=ts,
    )
    [snoozed] = stub.wait_for(
        "chat.update",
        where=lambda c: "Snoozed by <@U0BOB> until" in json.dumps(c.params.get("blocks")),
    )
    assert snoozed.params["ts"] == ts

    resolve = buttons_of(alert)["tb_alert_resolve"]
    click(server, "tb_alert_resolve", resolve, user="U0BOB", channel=ALERTS, ts=ts)
    [opened] = stub.wait_for("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "tb_resolve"

    def submission(note: str) -> str:
        payload = {
            "type": "view_submission",
            "user": {"id": "U0BOB", "username": "u0bob"},
            "team": {"id": "T0001"},
            "api_app_id": "A0001",
            "trigger_id": "1.2.5",
            "view": {
                "id": "V0001",
                "type": "modal",
                "hash": f"h-{note}",
                "callback_id": "tb_resolve",
                "private_metadata": view["private_metadata"],
                "state": {
                    "values": {"note": {"note": {"type": "plain_text_input", "value": note}}}
                },
            },
        }
        return urlencode({"payload": json.dumps(payload)})

    empty = post_signed(server, submission(" "))
    assert empty.json()["response_action"] == "errors"  # the dialog asks for the note
    post_signed(server, submission("Retested <@U0ADMIN>: pass"))
    [question] = stub.wait_for(
        "chat.postMessage",
        where=lambda c: str(c.params.get("text", "")).startswith(f"Resolve alert #{alert_id}"),
    )
    click(
        server,
        "tb_confirm",
        buttons_of(question)["tb_confirm"],
        user="U0BOB",
        channel=ALERTS,
        ts=ts,
    )
    [resolved] = stub.wait_for(
        "chat.update", where=lambda c: "Resolved by <@U0BOB>" in json.dumps(c.params.get("blocks"))
    )
    assert "&lt;@U0ADMIN&gt;" in json.dumps(resolved.params["blocks"])  # the note is escaped
    assert "tb_alert_ack" not in action_ids(resolved)  # a resolved alert has no buttons
    with make_engine(plant).connect() as connection:
        row = connection.execute(
            text("select status, state_by, note from alert where id = :id"), {"id": alert_id}
        ).one()
        actions = (
            connection.execute(
                text(
                    "select action from audit_log where entity = 'alert' and entity_key = :k order by id"
                ),
                {"k": str(alert_id)},
            )
            .scalars()
            .all()
        )
    assert tuple(row) == ("resolved", "slack:U0BOB", "Retested <@U0ADMIN>: pass")
    assert actions == ["snooze", "resolve"]


def test_events_are_all_or_nothing(server: str, stub: SlackStub, plant: str) -> None:
    events = [
        {
            "type": "shipment",
            "lot_code": "4471",
            "to": "SYSCO",
            "shipped_on": date.today().isoformat(),
            "quantity": "1",
        },
        {
            "type": "shipment",
            "lot_code": "NO-SUCH-LOT",
            "to": "SYSCO",
            "shipped_on": date.today().isoformat(),
        },
        {"type": "teleport", "lot_code": "4471"},
    ]

    response = httpx.post(f"{server}/api/events", json=events, headers={"X-API-Key": API_KEY})
    unauthorised = httpx.post(f"{server}/api/events", json=events[:1])

    assert response.status_code == 422
    assert response.json()["rejected"] == [  # every refused event is named
        {"path": "$[1].lot_code", "reason": "unknown lot 'NO-SUCH-LOT' in lot_code"},
        {
            "path": "$[2].type",
            "reason": 'type must be one of receipt, consumption, shipment, qc, hold, release, got "teleport"',
        },
    ]
    assert unauthorised.status_code == 401
    only_bad_lot = httpx.post(
        f"{server}/api/events", json=events[:2], headers={"X-API-Key": API_KEY}
    )
    assert only_bad_lot.status_code == 422
    assert only_bad_lot.json()["rejected"][0]["path"].startswith("$[1]")
    with make_engine(plant).connect() as connection:
        count = connection.execute(
            text("select count(*) from shipment where quantity = 1")
        ).scalar_one()
    assert count == 0


def test_a_qc_failure_imported_from_csv_is_alerted_by_the_running_server(
    server: str, stub: SlackStub, plant: str, tmp_path: Path
) -> None:
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "qc.csv").write_text(
        "lot_code,test,result,value,spec,performed_by,signed_off_by,at\n"
        f"4398,listeria,fail,detected,absent in 25 g,Lab B,Sam K.,{date.today().isoformat()}T08:00:00\n",
        encoding="utf-8",
    )

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", plant, "import", "csv", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    [alert] = stub.wait_for("chat.postMessage", where=alerts_about("4398", "listeria"))
    assert "signed off by Sam K." in alert.params["text"]
