"""Two `tracebot serve` workers on one PostgreSQL database and one Slack stand-in:
each alert is posted once, each thread reply once, and either worker answers with
what the other wrote."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import tracebot_server
from tests.e2e.slack_stub import SlackStub

pytestmark = pytest.mark.postgres

TOKEN = "xoxb-two-workers"
KEY = "ops-two-workers"
ALERTS = "C0TWO"
TODAY = date.today().isoformat()
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    server = SlackStub(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def workers(postgres_url: str, stub: SlackStub, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    loaded = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", postgres_url, "demo", "--anchor", TODAY],
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    environment = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": "two-workers-secret",
        "SLACK_API_URL": stub.api_url,
        "TRACEBOT_ALERT_CHANNEL": ALERTS,
        "TRACEBOT_API_KEYS": f"ops:{KEY}",
        "TRACEBOT_ALERT_RETRY": "0.1",
        "TRACEBOT_DIGEST_TIME": "off",
    }
    with (
        tracebot_server(postgres_url, environment, log=tmp_path / "a.log") as first,
        tracebot_server(postgres_url, environment, log=tmp_path / "b.log") as second,
    ):
        yield first, second, postgres_url


def qc_failure(lot: str, test: str) -> dict[str, str]:
    return {
        "type": "qc",
        "lot_code": lot,
        "test": test,
        "result": "fail",
        "value": "detected",
        "spec": "absent",
        "performed_by": "Lab A",
        "signed_off_by": "Priya N.",
        "at": f"{YESTERDAY}T09:30:00",
    }


def posts_by_alert(stub: SlackStub) -> Counter[int]:
    return Counter(
        call.params["metadata"]["event_payload"]["alert_id"]
        for call in stub.of("chat.postMessage")
        if (call.params.get("metadata") or {}).get("event_type") == "tracebot_alert"
    )


def settle(stub: SlackStub, expected: int, *, seconds: float = 60) -> Counter[int]:
    """The posts once ``expected`` alerts were posted and a moment passed for doubles."""
    deadline = time.monotonic() + seconds
    while len(posts_by_alert(stub)) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # both senders poll every round: a double would show by now
    return posts_by_alert(stub)


def test_two_workers_post_every_alert_once_and_see_each_others_writes(
    workers: tuple[str, str, str], stub: SlackStub
) -> None:
    first, second, _ = workers
    headers = {"X-API-Key": KEY}
    demo_alerts = settle(stub, 2)
    assert len(demo_alerts) == 2 and set(demo_alerts.values()) == {1}

    lots = ["4471", "4480", "ALM-5531", "L-2024-0113", "5133", "HN-0877"]
    for index, lot in enumerate(lots):  # QC failures into both workers at once
        worker = first if index % 2 == 0 else second
        response = httpx.post(
            f"{worker}/api/events",
            json=[qc_failure(lot, "Listeria monocytogenes")],
            headers=headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text
    # A later shipment of a failed lot, through the other worker: a thread reply.
    late = {
        "type": "shipment",
        "lot_code": "4471",
        "to": "SYSCO",
        "from_site": "COLD",
        "quantity": "5",
        "uom": "ea",
        "shipped_on": TODAY,
        "reference": "BOL-TWO-1",
    }
    shipped = httpx.post(f"{second}/api/events", json=[late], headers=headers, timeout=30)
    assert shipped.status_code == 201, shipped.text

    posts = settle(stub, 2 + len(lots) + 1)

    assert set(posts.values()) == {1}, posts  # every alert posted exactly once
    replies = [
        call
        for call in stub.of("chat.postMessage")
        if call.params.get("thread_ts") and "BOL-TWO-1" in str(call.params.get("text"))
    ]
    assert len(replies) == 1  # the later shipment went into the problem's thread, once
    assert "after it failed QC" in replies[0].params["text"]
    tops = [
        call
        for call in stub.of("chat.postMessage")
        if not call.params.get("thread_ts") and "lot 4471" in str(call.params.get("text"))
    ]
    assert len(tops) == 1 and replies[0].params["thread_ts"] in {
        m["ts"] for m in stub.history[ALERTS]
    }

    # Either worker answers with what the other wrote.
    answer = httpx.get(
        f"{first}/api/ask", params={"q": "who got lot 4471?", "today": TODAY}, headers=headers
    ).json()
    assert "BOL-TWO-1" in str(answer["data"]), answer["text"]
    alerts = httpx.get(f"{second}/api/alerts", headers=headers, timeout=10).json()["alerts"]
    assert set(lots) <= {a["lot"] for a in alerts}
