"""Irregularity rules over imported data: each raises exactly one alert."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage.alerts import check_rules, open_alerts
from storage.db import make_engine
from storage.importers.csv_import import import_csv_dir
from tests.conftest import write_csv
from tests.storage.test_csv_import import CONSUMPTION, ITEMS, LOTS, QC, SHIPMENTS, write_plant


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


def test_rules_raise_one_alert_per_irregularity(database: str, tmp_path: Path) -> None:
    report = import_csv_dir(database, irregular_plant(tmp_path / "plant"))

    kinds = sorted((alert["kind"], alert["lot"]) for alert in open_alerts(database))
    assert kinds == [
        ("expired_input", "5120"),
        ("overdrawn", "B-1"),
        ("qc_failed", "B-1"),
        ("shipped_before_release", "5120"),
        ("shipped_before_release", "5130"),
        ("shipped_expired", "5120"),
        ("shipped_on_hold", "5130"),
    ]
    assert report.alerts == 7


def test_rules_run_again_raise_nothing_new(database: str, tmp_path: Path) -> None:
    plant = irregular_plant(tmp_path / "plant")
    import_csv_dir(database, plant)

    again = import_csv_dir(database, plant)

    assert again.alerts == 0
    assert check_rules(database) == 0
    with make_engine(database).connect() as connection:
        assert connection.execute(text("select count(*) from alert")).scalar_one() == 7


def test_alert_messages_name_lot_test_value_and_signer(database: str, tmp_path: Path) -> None:
    import_csv_dir(database, irregular_plant(tmp_path / "plant"))

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
