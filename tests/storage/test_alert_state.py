"""Acknowledge, snooze and resolve an alert through the service: asked, confirmed,
audited, shown with who changed it; a snooze ends on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.service import Caller, TraceService
from storage.alerts import open_alerts, wake_snoozed
from storage.db import make_engine
from storage.importers.csv_import import import_csv_dir
from storage.outbox import due_alerts, lease_alert, record_delivery
from tests.storage.test_alerts import NEWS, shipped_then_failed

MARIA = Caller("cli", "maria")


def failed_plant(database: str, tmp_path: Path) -> tuple[TraceService, int]:
    import_csv_dir(database, shipped_then_failed(tmp_path / "plant"), **NEWS)
    [problem] = [a for a in open_alerts(database) if a["lot"] == "7001"]
    return TraceService.open(database), int(problem["id"])


def confirmed(service: TraceService, answer_data: dict[str, object]) -> dict[str, object]:
    token = answer_data["confirm"]["token"]  # type: ignore[index]
    return service.confirm(str(token), caller=MARIA).as_dict()


def audit(database: str, alert_id: int) -> list[tuple[str, str, str]]:
    with make_engine(database).connect() as connection:
        rows = connection.execute(
            text(
                "select action, actor, reason from audit_log where entity = 'alert' "
                "and entity_key = :key order by id"
            ),
            {"key": str(alert_id)},
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_asking_changes_nothing_and_confirming_acknowledges_once(
    database: str, tmp_path: Path
) -> None:
    service, alert_id = failed_plant(database, tmp_path)

    asked = service.alert_request("acknowledge", alert_id, caller=MARIA)

    assert asked.data["reason"] == "confirm" and asked.text.startswith(
        f"Acknowledge alert #{alert_id}"
    )
    assert [a["state"] for a in open_alerts(database) if a["id"] == alert_id] == ["open"]
    done = confirmed(service, asked.data)
    assert done["data"]["status"] == "acknowledged" and done["data"]["by"] == "cli:maria"
    again = confirmed(service, service.alert_request("acknowledge", alert_id, caller=MARIA).data)
    assert again["data"]["status"] == "unchanged" and "acknowledged already" in again["text"]
    assert [row[0] for row in audit(database, alert_id)] == ["acknowledge"]
    [shown] = [a for a in open_alerts(database, states=("acknowledged",)) if a["id"] == alert_id]
    assert (shown["state"], shown["state_by"]) == ("acknowledged", "cli:maria")
    assert alert_id not in {a["id"] for a in open_alerts(database)}


def test_a_snooze_hides_the_alert_until_its_time_then_its_thread_hears_it(
    database: str, tmp_path: Path
) -> None:
    service, alert_id = failed_plant(database, tmp_path)
    [posted] = [a for a in due_alerts(database) if a.id == alert_id]
    assert lease_alert(database, posted.id)[0]
    record_delivery(database, posted.id, channel="C0QA", ts="200.000001")
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    past = service.alert_request("snooze", alert_id, caller=MARIA, until=now - timedelta(hours=1))
    assert past.data["reason"] == "no snooze time"  # a snooze ends in the future
    asked = service.alert_request("snooze", alert_id, caller=MARIA, until=now + timedelta(hours=4))
    done = confirmed(service, asked.data)

    assert done["data"]["status"] == "snoozed" and "snoozed until" in str(done["text"])
    assert alert_id not in {a["id"] for a in open_alerts(database)}
    assert wake_snoozed(database, now=now + timedelta(hours=3)) == 0
    assert wake_snoozed(database, now=now + timedelta(hours=5)) == 1
    assert wake_snoozed(database, now=now + timedelta(hours=6)) == 0  # once
    [woken] = [a for a in open_alerts(database) if a["id"] == alert_id]
    assert woken["state"] == "open" and woken["consequences"] == 3  # its shipments, not the note
    [note] = [a for a in due_alerts(database) if a.parent_id == alert_id]
    assert note.kind == "reopened" and (note.thread_channel, note.thread_ts) == (
        "C0QA",
        "200.000001",
    )
    assert "open again" in note.message


def test_resolving_needs_a_note_and_closes_the_problem(database: str, tmp_path: Path) -> None:
    service, alert_id = failed_plant(database, tmp_path)

    assert (
        service.alert_request("resolve", alert_id, caller=MARIA, note=" ").data["reason"]
        == "no note"
    )
    asked = service.alert_request(
        "resolve", alert_id, caller=MARIA, note="Retested by Lab B: pass; lot released."
    )
    done = confirmed(service, asked.data)

    assert done["data"]["status"] == "resolved" and "Retested by Lab B" in str(done["text"])
    after = service.alert_request("snooze", alert_id, caller=MARIA, until=datetime(2100, 1, 1))
    assert after.data["reason"] == "resolved already"
    [shown] = [a for a in open_alerts(database, states=("resolved",)) if a["id"] == alert_id]
    assert shown["note"] == "Retested by Lab B: pass; lot released."
    assert audit(database, alert_id) == [
        ("resolve", "cli:maria", "Retested by Lab B: pass; lot released.")
    ]


def test_unknown_alerts_and_nameless_callers_are_told_so(database: str, tmp_path: Path) -> None:
    service, alert_id = failed_plant(database, tmp_path)

    assert (
        service.alert_request("acknowledge", 99_999, caller=MARIA).data["reason"] == "no such alert"
    )
    refused = service.alert_request("acknowledge", alert_id, caller=None)
    assert refused.data.get("refused") and not refused.ok


def test_a_new_consequence_of_an_acknowledged_problem_still_goes_into_its_thread(
    database: str, tmp_path: Path
) -> None:
    from tests.conftest import write_csv
    from tests.storage.test_csv_import import SHIPMENTS

    service, alert_id = failed_plant(database, tmp_path)
    confirmed(service, service.alert_request("acknowledge", alert_id, caller=MARIA).data)
    plant = tmp_path / "plant"
    write_csv(
        plant,
        "shipments.csv",
        [*SHIPMENTS, ["7001", "SYSCO", "PLANT", "50", "ea", "2026-11-21", "BOL-LATE"]],
    )

    import_csv_dir(database, plant, **NEWS)

    tops = [a for a in open_alerts(database, states=("open", "acknowledged")) if a["lot"] == "7001"]
    assert [a["id"] for a in tops] == [alert_id]
    with make_engine(database).connect() as connection:
        parents = (
            connection.execute(
                text("select parent_id from alert where detail like :bol"), {"bol": "%BOL-LATE%"}
            )
            .scalars()
            .all()
        )
    assert parents == [alert_id], json.dumps(parents)
