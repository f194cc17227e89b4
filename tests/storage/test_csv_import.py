"""The CSV importer on real databases: counts, idempotency, rejected rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine
from storage.importers.csv_import import import_csv_dir, links_closing_cycles
from storage.importers.report import Rejection
from storage.models import Lot
from storage.stats import count_rows
from tests.conftest import write_csv

ITEMS = [
    ["sku", "name", "kind", "uom", "shelf_life_days", "gtin"],
    ["OAT", "Rolled oats", "raw", "kg", "365", ""],
    ["HONEY", "Clover honey", "raw", "kg", "730", ""],
    ["BASE", "Granola base", "wip", "kg", "90", ""],
    ["GRAN", "Honey granola 500 g", "finished", "ea", "180", "00614141999996"],
    ["BAR", "Granola bar", "finished", "ea", "120", ""],
]
PARTIES = [
    ["id", "name", "kind", "gln", "email", "phone"],
    ["ACME", "Acme Grain Co.", "supplier", "0614141000005", "orders@acme.example", "555-0100"],
    ["BEES", "Busy Bees Honey", "supplier", "", "sales@bees.example", ""],
    ["SYSCO", "Sysco", "customer", "", "buyer@sysco.example", "555-0199"],
    ["PLANT", "Main plant", "site", "", "", ""],
]
LOTS = [
    ["lot_code", "sku", "quantity", "uom", "produced_on", "received_on", "expires_on", "site"],
    ["B-1", "BASE", "800", "kg", "2026-11-02", "", "", "PLANT"],
    ["4471", "GRAN", "1000", "ea", "2026-11-03", "", "2027-05-01", "PLANT"],
    ["12", "GRAN", "500", "ea", "2026-11-04", "", "", "PLANT"],
    ["12", "BAR", "300", "ea", "2026-11-04", "", "", "PLANT"],
]
RECEIPTS = [
    [
        "lot_code",
        "sku",
        "supplier",
        "supplier_lot",
        "quantity",
        "uom",
        "received_on",
        "site",
        "reference",
    ],
    ["R-OAT-1", "OAT", "ACME", "AC-778", "1000", "kg", "2026-10-20", "PLANT", "PO-1"],
    ["R-HON-1", "HONEY", "BEES", "BB-12", "200", "kg", "2026-10-21", "PLANT", "PO-2"],
]
CONSUMPTION = [
    ["output_lot", "input_lot", "quantity", "uom", "at", "work_order"],
    ["B-1", "R-OAT-1", "700", "kg", "2026-11-02T08:00:00", "WO-1"],
    ["B-1", "R-HON-1", "100", "kg", "2026-11-02T08:00:00", "WO-1"],
    ["4471", "B-1", "500", "kg", "2026-11-03T09:00:00", "WO-2"],
    ["4471", "R-HON-1", "20", "kg", "", "WO-2"],
]
SHIPMENTS = [
    ["lot_code", "to", "from_site", "quantity", "uom", "shipped_on", "reference"],
    ["4471", "SYSCO", "PLANT", "400", "ea", "2026-11-05", "BOL-1"],
    ["4471", "SYSCO", "PLANT", "300", "ea", "2026-11-09", "BOL-7"],
]
QC = [
    ["lot_code", "test", "result", "value", "spec", "performed_by", "signed_off_by", "at"],
    ["4471", "moisture", "pass", "3.1%", "<= 4%", "Ana Ruiz", "Tom Lee", "2026-11-03T15:00:00"],
    [
        "B-1",
        "aflatoxin",
        "fail",
        "22 ppb",
        "<= 20 ppb",
        "Ana Ruiz",
        "Tom Lee",
        "2026-11-02T12:00:00",
    ],
]


def write_plant(directory: Path) -> Path:
    for name, rows in (
        ("items.csv", ITEMS),
        ("parties.csv", PARTIES),
        ("lots.csv", LOTS),
        ("receipts.csv", RECEIPTS),
        ("consumption.csv", CONSUMPTION),
        ("shipments.csv", SHIPMENTS),
        ("qc.csv", QC),
    ):
        write_csv(directory, name, rows)
    return directory


EXPECTED = {
    "items": 5,
    "parties": 4,
    "lots": 6,  # four in lots.csv, two created by their receipts
    "links": 4,
    "receipts": 2,
    "shipments": 2,
    "qc_checks": 2,
    "holds": 0,
    # The failed aflatoxin check on B-1, recorded as history (a first import), and the
    # one post that sums the history check up.
    "alerts": 2,
}


def test_import_csv_dir_loads_every_row(database: str, tmp_path: Path) -> None:
    report = import_csv_dir(database, write_plant(tmp_path / "plant"))

    assert report.rejected == []
    assert count_rows(database) == EXPECTED


def test_import_csv_dir_again_changes_nothing(database: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path / "plant")
    import_csv_dir(database, plant)
    with make_engine(database).connect() as connection:
        audit_before = connection.execute(text("select count(*) from audit_log")).scalar_one()

    report = import_csv_dir(database, plant)

    assert count_rows(database) == EXPECTED
    assert report.changed == 0
    assert sum(file.unchanged for file in report.files) == sum(file.rows for file in report.files)
    with make_engine(database).connect() as connection:
        audit_after = connection.execute(text("select count(*) from audit_log")).scalar_one()
    assert audit_after == audit_before


def test_import_csv_dir_audits_each_changed_file(database: str, tmp_path: Path) -> None:
    import_csv_dir(database, write_plant(tmp_path / "plant"), actor="U024BE7LH", reason="go-live")

    with make_engine(database).connect() as connection:
        rows = connection.execute(
            text("select actor, action, entity_key, reason from audit_log order by id")
        ).all()
    assert [row[2] for row in rows] == [
        "items.csv",
        "parties.csv",
        "lots.csv",
        "receipts.csv",
        "consumption.csv",
        "shipments.csv",
        "qc.csv",
    ]
    assert {(row[0], row[1], row[3]) for row in rows} == {("U024BE7LH", "import", "go-live")}


def test_audit_log_refuses_updates_and_deletes(database: str, tmp_path: Path) -> None:
    import_csv_dir(database, write_plant(tmp_path / "plant"))

    for statement in ("update audit_log set actor = 'mallory'", "delete from audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), make_engine(database).begin() as c:
            c.execute(text(statement))


def test_import_csv_dir_updates_only_what_changed(database: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path / "plant")
    import_csv_dir(database, plant)
    changed = [row[:] for row in LOTS]
    changed[2][2] = "990"  # lot 4471's quantity corrected
    write_csv(plant, "lots.csv", changed)

    report = import_csv_dir(database, plant)

    lots = next(file for file in report.files if file.file == "lots.csv")
    assert (lots.inserted, lots.updated, lots.unchanged) == (0, 1, 3)
    with make_engine(database).connect() as connection:
        quantity = connection.execute(
            select(Lot.quantity).where(Lot.lot_code == "4471")  # type: ignore[arg-type]
        ).scalar_one()
    assert quantity == 990


def test_import_csv_dir_derives_expiry_from_shelf_life(database: str, tmp_path: Path) -> None:
    import_csv_dir(database, write_plant(tmp_path / "plant"))

    with make_engine(database).connect() as connection:
        expiry = dict(
            connection.execute(
                select(Lot.lot_code, Lot.expires_on).where(  # type: ignore[call-overload]
                    Lot.lot_code.in_(["B-1", "4471", "R-OAT-1"])  # type: ignore[attr-defined]
                )
            ).all()
        )
    assert {code: day.isoformat() for code, day in expiry.items()} == {
        "B-1": "2027-01-31",  # produced 2026-11-02 + 90 days
        "4471": "2027-05-01",  # given in the file
        "R-OAT-1": "2027-10-20",  # received 2026-10-20 + 365 days
    }


BAD_ROWS = [
    (
        "lots.csv",
        ["Z-1", "NOPE", "5", "kg", "2026-11-01", "", "", "PLANT"],
        "unknown item 'NOPE'",
    ),
    (
        "lots.csv",
        ["Z-2", "OAT", "-5", "kg", "2026-11-01", "", "", "PLANT"],
        "negative quantity -5 in quantity",
    ),
    (
        "lots.csv",
        ["Z-3", "OAT", "five", "kg", "2026-11-01", "", "", "PLANT"],
        "bad number 'five' in quantity",
    ),
    (
        "lots.csv",
        ["Z-4", "OAT", "5", "kg", "01/11/2026", "", "", "PLANT"],
        "bad date '01/11/2026' in produced_on (expected YYYY-MM-DD)",
    ),
    (
        "lots.csv",
        ["Z-5", "OAT", "5", "kg", "2026-11-01", "", "", "MARS"],
        "unknown party 'MARS' in site",
    ),
    (
        "consumption.csv",
        ["4471", "NOPE-LOT", "1", "kg", "2026-11-03T09:00:00", "WO-2"],
        "unknown lot 'NOPE-LOT' in input_lot",
    ),
    (
        "consumption.csv",
        ["R-OAT-1", "4471", "1", "kg", "2026-11-03T09:00:00", "WO-9"],
        "link 4471 -> R-OAT-1 would make lot '4471' its own ancestor",
    ),
    (
        "consumption.csv",
        ["B-1", "B-1", "1", "kg", "2026-11-03T09:00:00", "WO-9"],
        "lot 'B-1' cannot be an input of itself",
    ),
    (
        "consumption.csv",
        ["12", "B-1", "1", "kg", "2026-11-04T09:00:00", "WO-3"],
        "lot code '12' is shared by items BAR and GRAN; add a sku column",
    ),
    (
        "shipments.csv",
        ["4471", "NOBODY", "PLANT", "1", "ea", "2026-11-05", "BOL-2"],
        "unknown party 'NOBODY' in to",
    ),
    (
        "shipments.csv",
        ["4471", "SYSCO", "PLANT", "1", "ea", "", "BOL-2"],
        "missing shipped_on",
    ),
    (
        "qc.csv",
        ["4471", "moisture", "maybe", "", "", "", "", "2026-11-03T15:00:00"],
        "bad result 'maybe' (expected one of pass, fail)",
    ),
    (
        "items.csv",
        ["X", "X", "raw", "kg", "", "00614141999995"],
        "bad GTIN: Invalid GTIN check digit for '00614141999995': Expected 6, got 5.",
    ),
]


@pytest.mark.parametrize(("file", "row", "reason"), BAD_ROWS, ids=[r[2] for r in BAD_ROWS])
def test_import_csv_dir_rejects_bad_row_and_loads_the_rest(
    database: str, tmp_path: Path, file: str, row: list[str], reason: str
) -> None:
    plant = write_plant(tmp_path / "plant")
    rows = {
        "items.csv": ITEMS,
        "lots.csv": LOTS,
        "consumption.csv": CONSUMPTION,
        "shipments.csv": SHIPMENTS,
        "qc.csv": QC,
    }[file]
    write_csv(plant, file, [*rows, row])

    report = import_csv_dir(database, plant)

    assert report.rejected == [Rejection(file, len(rows) + 1, reason)]
    assert count_rows(database) == EXPECTED


def test_import_csv_dir_takes_sku_for_shared_lot_codes(database: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path / "plant")
    write_csv(
        plant,
        "consumption.csv",
        [
            [*CONSUMPTION[0], "output_sku"],
            *([*row, ""] for row in CONSUMPTION[1:]),
            ["12", "B-1", "1", "kg", "2026-11-04T09:00:00", "WO-3", "BAR"],
        ],
    )
    write_csv(
        plant,
        "shipments.csv",
        [
            [*SHIPMENTS[0], "sku"],
            ["12", "SYSCO", "PLANT", "5", "ea", "2026-11-06", "BOL-3", "GRAN"],
        ],
    )

    report = import_csv_dir(database, plant)

    assert report.rejected == []
    assert count_rows(database)["links"] == EXPECTED["links"] + 1


def test_import_csv_dir_rejects_a_cycle_across_rows(database: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path / "plant")
    write_csv(
        plant,
        "lots.csv",
        [*LOTS, *(["C-" + n, "BASE", "1", "kg", "2026-11-01", "", "", "PLANT"] for n in "123")],
    )
    write_csv(
        plant,
        "consumption.csv",
        [
            CONSUMPTION[0],
            ["C-2", "C-1", "1", "kg", "", "W1"],
            ["C-3", "C-2", "1", "kg", "", "W2"],
            ["C-1", "C-3", "1", "kg", "", "W3"],
        ],
    )

    report = import_csv_dir(database, plant)

    assert report.rejected == [
        Rejection("consumption.csv", 4, "link C-3 -> C-1 would make lot 'C-3' its own ancestor")
    ]
    assert count_rows(database)["links"] == 2


def test_import_csv_dir_rejects_a_file_without_its_key_column(
    database: str, tmp_path: Path
) -> None:
    plant = write_plant(tmp_path / "plant")
    write_csv(plant, "shipments.csv", [["lot_code", "quantity"], ["4471", "5"]])

    report = import_csv_dir(database, plant)

    assert report.rejected == [
        Rejection("shipments.csv", 1, "missing column to, shipped_on in the header")
    ]
    assert count_rows(database)["shipments"] == 0


def test_import_csv_dir_follows_holds_in_lot_status(database: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path / "plant")
    write_csv(
        plant,
        "holds.csv",
        [
            ["lot_code", "reason", "placed_by", "placed_at", "released_by", "released_at"],
            ["4471", "aflatoxin in base", "Tom Lee", "2026-11-06T10:00:00", "", ""],
            [
                "B-1",
                "label check",
                "Tom Lee",
                "2026-11-02T10:00:00",
                "Ana Ruiz",
                "2026-11-02T16:00:00",
            ],
        ],
    )

    import_csv_dir(database, plant)

    with make_engine(database).connect() as connection:
        status = dict(connection.execute(text("select lot_code, status from lot")).all())
    assert status["4471"] == "on_hold"
    assert status["B-1"] == "released"
    assert count_rows(database)["holds"] == 2


def test_import_csv_dir_refuses_a_missing_directory(database: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No such directory"):
        import_csv_dir(database, tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("existing", "new", "refused"),
    [
        ([], [(1, 2), (2, 3)], set()),
        ([(1, 2), (2, 3)], [(3, 1)], {0}),
        ([], [(1, 2), (2, 1), (1, 2)], {1}),
        # a diamond is not a cycle
        ([(1, 2), (1, 3)], [(2, 4), (3, 4)], set()),
        # two separate cycles, each refused at the link that closes it
        ([], [(1, 2), (3, 4), (2, 1), (4, 5), (5, 3)], {2, 4}),
        # a link downstream of a cycle is fine
        ([], [(1, 2), (2, 1), (2, 9)], {1}),
    ],
)
def test_links_closing_cycles_refuses_the_closing_link(
    existing: list[tuple[int, int]], new: list[tuple[int, int]], refused: set[int]
) -> None:
    assert links_closing_cycles(existing, new) == refused


def test_head_revision_constant_matches_the_migrations() -> None:
    from storage.db import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION
