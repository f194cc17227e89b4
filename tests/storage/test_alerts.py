"""Irregularity rules over imported data: each raises exactly one alert."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.alerts import check_rules, open_alerts
from storage.db import make_engine
from storage.importers.csv_import import import_csv_dir
from storage.outbox import due_alerts
from tests.conftest import SHARED, write_csv
from tests.storage.test_csv_import import (
    CONSUMPTION,
    ITEMS,
    LOTS,
    PARTIES,
    QC,
    SHIPMENTS,
    write_plant,
)


def irregular_plant(directory: Path) -> Path:
    write_plant(directory)
    # Granola ships only once QC released it.
    write_csv(
        directory,
        "items.csv",
        [
            [*ITEMS[0], "qc_release"],
            *([*row, "true" if row[0] == "GRAN" else ""] for row in ITEMS[1:]),
        ],
    )
    write_csv(
        directory,
        "lots.csv",
        [
            *LOTS,
            ["OLD-1", "HONEY", "50", "kg", "", "2026-01-01", "2026-06-01", "PLANT"],
            ["5120", "GRAN", "100", "ea", "2026-11-04", "", "2026-11-06", "PLANT"],
            ["5130", "GRAN", "100", "ea", "2026-11-04", "", "", "PLANT"],
        ],
    )
    write_csv(
        directory,
        "consumption.csv",
        [
            *CONSUMPTION,
            ["5120", "OLD-1", "10", "kg", "2026-11-04T08:00:00", "WO-3"],  # expired input
            [
                "5130",
                "B-1",
                "400",
                "kg",
                "2026-11-04T08:00:00",
                "WO-4",
            ],  # B-1 overdrawn (900 of 800)
        ],
    )
    write_csv(
        directory,
        "shipments.csv",
        [
            *SHIPMENTS,
            ["5120", "SYSCO", "PLANT", "10", "ea", "2026-11-08", "BOL-9"],  # expired, no QC release
            [
                "5130",
                "SYSCO",
                "PLANT",
                "10",
                "ea",
                "2026-11-08",
                "BOL-10",
            ],  # on hold, released later
        ],
    )
    write_csv(
        directory,
        "qc.csv",
        [*QC, ["5130", "moisture", "pass", "3%", "<= 4%", "Ana", "Tom", "2026-11-10T09:00:00"]],
    )
    write_csv(
        directory,
        "holds.csv",
        [
            ["lot_code", "reason", "placed_by", "placed_at", "released_by", "released_at"],
            ["5130", "label check", "Tom", "2026-11-07T08:00:00", "", ""],
        ],
    )
    return directory


NEWS = {"history": False, "horizon": None}
"""The rules' tests read every event as news, whatever its day."""


def test_rules_raise_one_alert_per_problem(database: str, tmp_path: Path) -> None:
    report = import_csv_dir(database, irregular_plant(tmp_path / "plant"), **NEWS)

    problems = sorted(
        (alert["kind"], alert["lot"], alert["consequences"]) for alert in open_alerts(database)
    )
    assert problems == [
        ("expired_input", "5120", 0),
        ("overdrawn", "B-1", 0),
        ("qc_failed", "B-1", 0),
        ("shipped_expired", "5120", 1),  # and before QC release
        ("shipped_on_hold", "5130", 1),  # and before QC release
    ]
    assert report.alerts == 7


@pytest.mark.parametrize(("tolerance", "overdrawn"), [("15", False), ("10%", True), ("", True)])
def test_an_items_own_tolerance_decides_when_its_lot_is_overdrawn(
    database: str, tmp_path: Path, tolerance: str, overdrawn: bool
) -> None:
    plant = irregular_plant(tmp_path / "plant")  # 900 kg taken from the 800 kg of B-1
    write_csv(
        plant,
        "items.csv",
        [
            [*ITEMS[0], "overdraw_tolerance"],
            *([*row, tolerance if row[0] == "BASE" else ""] for row in ITEMS[1:]),
        ],
    )

    import_csv_dir(database, plant, **NEWS)

    kinds = {(alert["kind"], alert["lot"]) for alert in open_alerts(database)}
    assert (("overdrawn", "B-1") in kinds) is overdrawn


@pytest.mark.parametrize(
    ("tolerance", "reason"),
    [
        ("lots", "bad number 'lots' in overdraw_tolerance"),
        ("150", "bad overdraw_tolerance '150' (expected per cent, 0 to 100, as 2 or 2%)"),
    ],
)
def test_a_tolerance_that_is_no_per_cent_is_a_rejected_row(
    database: str, tmp_path: Path, tolerance: str, reason: str
) -> None:
    plant = irregular_plant(tmp_path / "plant")
    write_csv(
        plant,
        "items.csv",
        [[*ITEMS[0], "overdraw_tolerance"], [*ITEMS[1], tolerance], *ITEMS[2:]],
    )

    report = import_csv_dir(database, plant, **NEWS)

    rejected = [(r.file, r.line, r.reason) for r in report.rejected if r.file == "items.csv"]
    assert rejected == [("items.csv", 2, reason)]


def test_rules_run_again_raise_nothing_new(database: str, tmp_path: Path) -> None:
    plant = irregular_plant(tmp_path / "plant")
    import_csv_dir(database, plant, **NEWS)

    again = import_csv_dir(database, plant, **NEWS)

    assert again.alerts == 0
    assert check_rules(database) == 0
    with make_engine(database).connect() as connection:
        assert connection.execute(text("select count(*) from alert")).scalar_one() == 7


def test_alert_messages_name_lot_test_value_and_signer(database: str, tmp_path: Path) -> None:
    import_csv_dir(database, irregular_plant(tmp_path / "plant"), **NEWS)

    messages = {alert["kind"]: alert["message"] for alert in open_alerts(database)}
    assert messages["qc_failed"] == (
        "QC failed on lot B-1 (Granola base): aflatoxin 22 ppb, spec <= 20 ppb; "
        "performed by Ana Ruiz, signed off by Tom Lee."
    )
    assert messages["shipped_on_hold"] == (
        "lot 5130 (Honey granola 500 g) shipped to Sysco on 2026-11-08 (BOL-10) "
        "while on hold since 2026-11-07 (label check)."
    )
    assert messages["expired_input"] == (
        "lot OLD-1 (Clover honey) was used in lot 5120 (Honey granola 500 g) on 2026-11-04 "
        "after it expired on 2026-06-01."
    )


def shipped_then_failed(directory: Path, day: str = "2026-11-20") -> Path:
    """Lot 7001 shipped to three customers, then failing its QC check."""
    write_plant(directory)
    write_csv(
        directory,
        "parties.csv",
        [
            *PARTIES,
            ["FRESH", "FreshMart", "customer", "", "", ""],
            ["METRO", "Metro", "customer", "", "", ""],
        ],
    )
    write_csv(directory, "lots.csv", [*LOTS, ["7001", "GRAN", "900", "ea", day, "", "", "PLANT"]])
    write_csv(
        directory,
        "shipments.csv",
        [
            *SHIPMENTS,
            *(
                ["7001", to, "PLANT", "100", "ea", day, f"BOL-{to}"]
                for to in ("SYSCO", "FRESH", "METRO")
            ),
        ],
    )
    write_csv(
        directory,
        "qc.csv",
        [*QC, ["7001", "listeria", "fail", "detected", "absent", "Ana", "", f"{day}T16:00:00"]],
    )
    return directory


def test_a_failed_check_of_a_shipped_lot_is_one_problem_naming_every_shipment(
    database: str, tmp_path: Path
) -> None:
    import_csv_dir(database, shipped_then_failed(tmp_path / "plant"), **NEWS)

    problems = [a for a in open_alerts(database) if a["lot"] == "7001"]
    assert [(a["kind"], a["consequences"]) for a in problems] == [("qc_failed", 3)]
    due = [alert for alert in due_alerts(database) if alert.lot == "7001"]
    assert [alert.kind for alert in due] == ["qc_failed"]  # one post; its scope names them


def test_a_first_import_is_history_summed_up_in_one_post(database: str, tmp_path: Path) -> None:
    report = import_csv_dir(database, irregular_plant(tmp_path / "plant"))

    assert report.alerts == 7
    [summary] = open_alerts(database)
    assert summary["kind"] == "history" and summary["lot"] is None
    assert summary["message"].startswith(
        "History check: 7 irregularities in past data (1 failed QC check, 1 shipment while on "
        "hold, 1 shipment after expiry, 1 expired input used, 2 shipments before QC release, "
        "1 overdrawn lot)"
    )
    assert len(open_alerts(database, history=True)) == 7
    assert [alert.kind for alert in due_alerts(database)] == ["history"]


def test_events_past_the_horizon_are_history_and_recent_ones_news(
    database: str, tmp_path: Path
) -> None:
    from datetime import date

    plant = write_plant(tmp_path / "plant")
    import_csv_dir(database, plant, history=False, horizon=None)  # a plant already loaded
    later = shipped_then_failed(tmp_path / "later", day="2026-11-20")

    import_csv_dir(database, later, history=False, horizon=7, today=date(2026, 12, 20))

    kinds = {(a["kind"], a["lot"]) for a in open_alerts(database)}
    assert ("history", None) in kinds and ("qc_failed", "7001") not in kinds
    again = shipped_then_failed(tmp_path / "again", day="2026-12-18")
    import_csv_dir(database, again, history=False, horizon=7, today=date(2026, 12, 20))
    assert ("qc_failed", "7001") in {(a["kind"], a["lot"]) for a in open_alerts(database)}


def test_a_consequence_found_after_its_problem_was_posted_goes_into_its_thread(
    database: str, tmp_path: Path
) -> None:
    from storage.outbox import lease_alert, record_delivery

    plant = shipped_then_failed(tmp_path / "plant")
    import_csv_dir(database, plant, **NEWS)
    [problem] = [a for a in due_alerts(database) if a.lot == "7001"]
    assert lease_alert(database, problem.id)[0]
    record_delivery(database, problem.id, channel="C0ALERTS", ts="100.000001")
    write_csv(
        plant,
        "shipments.csv",
        [*SHIPMENTS, ["7001", "SYSCO", "PLANT", "50", "ea", "2026-11-21", "BOL-LATE"]],
    )

    import_csv_dir(database, plant, **NEWS)

    [late] = [a for a in due_alerts(database) if a.lot == "7001"]
    assert (late.kind, late.parent_id) == ("shipped_failed", problem.id)  # after it failed
    assert (late.thread_channel, late.thread_ts) == ("C0ALERTS", "100.000001")


class Killed(BaseException):
    """The process dies here (not an error anything would catch)."""


def test_an_import_killed_before_its_rules_ran_has_them_run_by_the_next(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.importers.csv_import as csv_import
    from storage.alerts import check_missed, missed_checks

    plant = irregular_plant(tmp_path / "plant")

    def killed(*args: object, **kwargs: object) -> int:
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(csv_import, "check_rules", killed)
        with pytest.raises(Killed):
            import_csv_dir(database, plant, **NEWS)
    assert open_alerts(database) == [] and missed_checks(database) is not None

    again = import_csv_dir(database, plant, **NEWS)  # changes no row

    assert again.alerts == 7
    assert missed_checks(database) is None
    assert check_missed(database) == 0  # nothing left to run, nothing raised twice


def test_a_missed_run_is_made_by_check_missed_once(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.importers.csv_import as csv_import
    from storage.alerts import check_missed

    with monkeypatch.context() as patched:
        patched.setattr(csv_import, "check_rules", lambda *a, **k: (_ for _ in ()).throw(Killed))
        with pytest.raises(Killed):
            import_csv_dir(database, irregular_plant(tmp_path / "plant"), **NEWS)

    first, second = check_missed(database, horizon=36_500), check_missed(database)

    assert (first, second) == (7, 0)


EXAMPLES = sorted((SHARED / "epcis-examples").glob("*.jsonld")) + sorted(
    (SHARED / "epcis-corpus").glob("**/*.json*")
)


@pytest.mark.skipif(not EXAMPLES, reason="../shared/epcis-examples is not beside the repository")
def test_partners_epcis_documents_raise_no_release_alert(sqlite_url: str) -> None:
    from storage.db import init_schema
    from storage.importers.epcis import EpcisError, import_epcis, read_epcis

    init_schema(sqlite_url)
    loaded = 0
    for path in EXAMPLES:
        try:
            report = import_epcis(sqlite_url, read_epcis(path), source=path.name)
        except (EpcisError, ValueError):
            continue  # the corpus holds invalid documents too
        loaded += not report.rejected

    kinds = {a["kind"] for a in open_alerts(sqlite_url)} | {
        a["kind"] for a in open_alerts(sqlite_url, history=True)
    }
    assert loaded >= 10
    assert "shipped_before_release" not in kinds  # never ours to release
