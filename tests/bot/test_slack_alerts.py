"""The alert sender in-process, against the recording Slack stand-in over real HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.http.deps import service_factory
from bot.settings import load_settings
from bot.slack.alerts import AlertSender
from bot.slack.app import slack_client
from storage.db import make_engine
from storage.demo_plant import load_demo
from storage.outbox import due_alerts, lease_alert, raise_alert, record_attempt
from storage.tables import ALERTS
from tests.e2e.slack_stub import SlackStub
from trace_engine.rules import AlertDraft

TOKEN = "xoxb-test"


@pytest.fixture
def stub() -> SlackStub:
    server = SlackStub(TOKEN).start()
    yield server  # type: ignore[misc]
    server.stop()


def sender(url: str, stub: SlackStub, *, now: datetime | None = None) -> AlertSender:
    settings = load_settings(
        database_url=url,
        slack_bot_token=TOKEN,
        slack_signing_secret="s",
        slack_api_url=stub.api_url,
        alert_channel="C0ALERTS",
        alert_retry_seconds=0.01,
        digest_time="07:00",
    )
    return AlertSender(
        settings,
        service_factory(settings),
        slack_client(settings),
        now=(lambda: now) if now else datetime.now,
    )


def test_an_alert_posted_before_a_crash_is_not_posted_again(
    sqlite_url: str, stub: SlackStub
) -> None:
    load_demo(sqlite_url, anchor=date(2026, 11, 25))
    first = sender(sqlite_url, stub)
    [alert, *_] = due_alerts(sqlite_url)
    # A process posts it, then dies before recording the post.
    assert lease_alert(sqlite_url, alert.id) == (True, False)
    asyncio.run(
        first.client.chat_postMessage(
            channel="C0ALERTS",
            text=alert.message,
            metadata={"event_type": "tracebot_alert", "event_payload": {"alert_id": alert.id}},
        )
    )
    with make_engine(sqlite_url).begin() as connection:  # its lease runs out
        connection.execute(
            ALERTS.update().where(ALERTS.c.id == alert.id),
            {"next_attempt_at": datetime.now(UTC) - timedelta(minutes=1)},
        )

    delivered = asyncio.run(sender(sqlite_url, stub).deliver_due())

    posts = [c for c in stub.of("chat.postMessage") if c.params["text"] == alert.message]
    assert len(posts) == 1  # the one before the crash
    assert delivered == len(stub.of("chat.postMessage"))  # every due alert, this one too
    assert not due_alerts(sqlite_url)


def test_the_daily_digest_is_posted_once_a_day(sqlite_url: str, stub: SlackStub) -> None:
    load_demo(sqlite_url, anchor=date(2026, 11, 25))
    morning = datetime(2026, 11, 25, 7, 5)
    early = datetime(2026, 11, 25, 6, 55)

    assert asyncio.run(sender(sqlite_url, stub, now=early).raise_digest()) is False
    assert asyncio.run(sender(sqlite_url, stub, now=morning).raise_digest()) is True
    asyncio.run(sender(sqlite_url, stub, now=morning).raise_digest())  # a restart, same day
    asyncio.run(sender(sqlite_url, stub, now=morning).deliver_due())
    asyncio.run(sender(sqlite_url, stub, now=morning).deliver_due())

    digests = [
        c for c in stub.of("chat.postMessage") if "Daily digest 2026-11-25" in c.params["text"]
    ]
    assert len(digests) == 1
    assert "expire by 2026-12-01" in digests[0].params["text"]  # 7 days, today the first


def test_a_failed_post_is_counted_and_kept_for_another_try(
    sqlite_url: str, stub: SlackStub
) -> None:
    load_demo(sqlite_url, anchor=date(2026, 11, 25))
    stub.fail("chat.postMessage", 50)
    bot = sender(sqlite_url, stub)
    alert_id = raise_alert(sqlite_url, AlertDraft("test:1", "test", None, "hello"))

    for _ in range(3):
        with make_engine(sqlite_url).begin() as connection:  # due again now
            connection.execute(
                ALERTS.update().where(ALERTS.c.id == alert_id),
                {"next_attempt_at": datetime.now(UTC) - timedelta(seconds=1)},
            )
        asyncio.run(bot.deliver_due())

    with make_engine(sqlite_url).connect() as connection:
        attempts, error, delivered = connection.execute(
            text("select delivery_attempts, last_error, delivered_at from alert where id = :id"),
            {"id": alert_id},
        ).one()
    assert (attempts, error, delivered) == (3, "Slack said internal_error", None)


def test_each_failure_waits_longer(sqlite_url: str) -> None:
    load_demo(sqlite_url, anchor=date(2026, 11, 25))
    alert_id = raise_alert(sqlite_url, AlertDraft("test:2", "test", None, "hi"))
    assert alert_id is not None
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    pauses = [
        (record_attempt(sqlite_url, alert_id, "down", now=now, base=2.0) - now).total_seconds()
        for _ in range(6)
    ]

    assert pauses == [2.0, 5.0, 15.0, 60.0, 300.0, 300.0]


def test_a_failed_check_of_a_shipped_lot_posts_once_and_later_shipments_go_to_its_thread(
    database: str, stub: SlackStub, tmp_path: Path
) -> None:
    from storage.importers.csv_import import import_csv_dir
    from tests.conftest import write_csv
    from tests.storage.test_alerts import shipped_then_failed
    from tests.storage.test_csv_import import SHIPMENTS

    plant = shipped_then_failed(tmp_path / "plant")
    import_csv_dir(database, plant, history=False, horizon=None)

    asyncio.run(sender(database, stub).deliver_due())

    posts = [c.params for c in stub.of("chat.postMessage") if "7001" in c.params["text"]]
    assert len(posts) == 1 and "QC failed" in posts[0]["text"]
    shown = json.dumps(posts[0]["blocks"])
    assert all(name in shown for name in ("Sysco", "FreshMart", "Metro"))
    [first] = [m["ts"] for m in stub.history["C0ALERTS"] if "7001" in (m["text"] or "")]
    write_csv(
        plant,
        "shipments.csv",
        [*SHIPMENTS, ["7001", "SYSCO", "PLANT", "50", "ea", "2026-11-21", "BOL-LATE"]],
    )
    import_csv_dir(database, plant, history=False, horizon=None)
    stub.clear()

    asyncio.run(sender(database, stub).deliver_due())
    asyncio.run(sender(database, stub).deliver_due())  # a second pass posts nothing twice

    [reply] = [c.params for c in stub.of("chat.postMessage")]
    assert reply["thread_ts"] == first and "BOL-LATE" in reply["text"]


def routed_sender(url: str, stub: SlackStub, routes: str, **more: object) -> AlertSender:
    settings = load_settings(
        database_url=url,
        slack_bot_token=TOKEN,
        slack_signing_secret="s",
        slack_api_url=stub.api_url,
        alert_routes=routes,
        alert_retry_seconds=0.01,
        digest_time="off",
        **more,
    )
    return AlertSender(settings, service_factory(settings), slack_client(settings))


def test_alerts_go_where_their_severity_and_site_route_them_and_critical_ones_mention(
    sqlite_url: str, stub: SlackStub
) -> None:
    load_demo(sqlite_url, anchor=date(2026, 11, 25))
    with make_engine(sqlite_url).connect() as connection:
        hillside = connection.execute(
            text(
                "select lot.id from lot join party on party.id = lot.site_id "
                "where party.name = 'Hillside main plant' and lot.lot_code = 'L-2024-0113'"
            )
        ).scalar_one()
    raise_alert(
        sqlite_url,
        AlertDraft(
            "test:listeria:L-2024-0113",
            "qc_failed",
            hillside,
            "QC failed on lot L-2024-0113: Listeria detected",
            detail={"test": "Listeria monocytogenes"},
        ),
    )
    routes = "critical=C0CRIT, warning=C0WARN, info=C0INFO, site:riverside COLD store=C0RIV"

    asyncio.run(routed_sender(sqlite_url, stub, routes, alert_mention="S0QA").deliver_due())

    where = {
        c.params["text"].split(":")[0][:40]: c.params["channel"]
        for c in stub.of("chat.postMessage")
    }
    posts = {c.params["channel"]: c.params for c in stub.of("chat.postMessage")}
    assert sorted(posts) == ["C0CRIT", "C0RIV", "C0WARN"], where
    assert posts["C0CRIT"]["text"].startswith("<!subteam^S0QA> QC failed on lot L-2024-0113")
    assert "5133" in posts["C0RIV"]["text"]  # a Riverside lot goes to the site's channel
    assert "5120" in posts["C0WARN"]["text"] and "subteam" not in posts["C0WARN"]["text"]


def test_routes_that_leave_a_severity_nowhere_or_do_not_parse_are_refused(
    sqlite_url: str, stub: SlackStub
) -> None:
    with pytest.raises(ValueError, match="critical, warning and info"):
        routed_sender(sqlite_url, stub, "critical=C0CRIT")
    with pytest.raises(ValueError, match="'urgent' is none of"):
        routed_sender(sqlite_url, stub, "urgent=C0X, info=C0I")
    with pytest.raises(ValueError, match="is not KEY=CHANNEL"):
        routed_sender(sqlite_url, stub, "C0X")
