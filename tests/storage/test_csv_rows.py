"""Every row judged on its own: a bad byte, a stray quote, an empty cell, an over-long
code or a NUL costs its own row only, named at its true line, on both databases."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from storage.db import make_engine
from storage.importers.csv_import import import_csv_dir
from storage.importers.report import Rejection
from storage.tables import LOTS, RECEIPTS, SHIPMENTS
from tests.conftest import write_csv
from tests.storage.test_csv_import import ITEMS, PARTIES, write_plant
from tests.storage.test_csv_import import RECEIPTS as RECEIPT_ROWS
from tests.storage.test_csv_import import SHIPMENTS as SHIPMENT_ROWS

HEADER = ["lot_code", "sku", "quantity", "uom", "produced_on", "received_on", "expires_on", "site"]


def lots_file(directory: Path, count: int) -> list[bytes]:
    """items.csv, parties.csv and a lots.csv of ``count`` good rows, as byte lines."""
    write_csv(directory, "items.csv", ITEMS)
    write_csv(directory, "parties.csv", PARTIES)
    lines = [",".join(HEADER).encode() + b"\n"]
    lines += [f"N-{n},OAT,1,kg,2026-11-01,,,PLANT\n".encode() for n in range(1, count + 1)]
    return lines


def lots_in(url: str) -> int:
    with make_engine(url).connect() as connection:
        return int(connection.execute(select(func.count()).select_from(LOTS)).scalar_one())


def test_a_byte_that_is_no_utf8_costs_its_own_row(database: str, tmp_path: Path) -> None:
    lines = lots_file(tmp_path, 1000)
    lines[502] = b"N-502,OAT,1,kg,2026-11-01,,,PLANT\xe9\n"  # Latin-1 in the row at line 503
    (tmp_path / "lots.csv").write_bytes(b"".join(lines))

    report = import_csv_dir(database, tmp_path)

    assert report.rejected == [
        Rejection("lots.csv", 503, "this row is not UTF-8 text (byte 0xE9); save the file as UTF-8")
    ]
    assert lots_in(database) == 999


def test_a_bad_byte_at_the_end_of_a_long_file_is_named_at_its_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    from storage.db import init_schema

    init_schema(sqlite_url)
    lines = lots_file(tmp_path, 30_000)
    lines[-1] = lines[-1].replace(b"PLANT", b"PL\xffANT")
    (tmp_path / "lots.csv").write_bytes(b"".join(lines))

    report = import_csv_dir(sqlite_url, tmp_path)

    assert [r.line for r in report.rejected] == [30_001]
    assert lots_in(sqlite_url) == 29_999


def test_a_stray_opening_quote_costs_its_row_not_the_rows_after(
    database: str, tmp_path: Path
) -> None:
    lines = lots_file(tmp_path, 1000)
    lines[50] = b'"N-50,OAT,1,kg,2026-11-01,,,PLANT\n'  # opened, never closed
    (tmp_path / "lots.csv").write_bytes(b"".join(lines))

    report = import_csv_dir(database, tmp_path)

    assert report.rejected == [
        Rejection("lots.csv", 51, "a quote opened in this row is never closed on its line")
    ]
    assert lots_in(database) == 999


def test_a_quoted_value_on_several_lines_is_still_one_value(database: str, tmp_path: Path) -> None:
    lines = lots_file(tmp_path, 3)
    (tmp_path / "lots.csv").write_bytes(b"".join(lines))
    write_csv(
        tmp_path,
        "holds.csv",
        [["lot_code", "placed_at", "reason"], ["N-1", "2026-11-02T08:00:00", "line one\nline two"]],
    )

    report = import_csv_dir(database, tmp_path)

    assert report.rejected == []


def test_a_column_twice_in_the_header_is_a_clear_error(database: str, tmp_path: Path) -> None:
    lines = lots_file(tmp_path, 3)
    lines[0] = b"lot_code,sku,quantity,sku\n"
    (tmp_path / "lots.csv").write_bytes(b"".join(lines))

    report = import_csv_dir(database, tmp_path)

    assert report.rejected == [Rejection("lots.csv", 1, "column sku appears twice in the header")]
    assert lots_in(database) == 0


def test_an_over_long_code_or_a_nul_costs_its_row_on_both_databases(
    database: str, tmp_path: Path
) -> None:
    lines = lots_file(tmp_path, 10)
    lines[3] = ("L" * 65 + ",OAT,1,kg,2026-11-01,,,PLANT\n").encode()
    lines[5] = b"N-5,OAT,1,kg,2026-11-01,,,PL\x00ANT\n"
    lines[7] = b"N`7`,OAT,1,kg,2026-11-01,,,PLANT\n"
    lines[8] = b"N-8,OAT,1,k" + b"g" * 40 + b",2026-11-01,,,PLANT\n"
    (tmp_path / "lots.csv").write_bytes(b"".join(lines))

    report = import_csv_dir(database, tmp_path)

    assert report.rejected == [
        Rejection("lots.csv", 4, "a lot code has at most 64 characters (this one has 65)"),
        Rejection("lots.csv", 6, "this row holds a NUL character"),
        Rejection(
            "lots.csv",
            8,
            "a lot code may not hold '`' (allowed: letters, digits and !\"%&'()*+,-./:;<=>?_)",
        ),
        Rejection("lots.csv", 9, "uom has 41 characters; at most 16 fit"),
    ]
    assert lots_in(database) == 6


def test_a_receipt_with_an_empty_site_or_quantity_loads_and_so_do_later_files(
    database: str, tmp_path: Path
) -> None:
    plant = write_plant(tmp_path / "plant")
    header, first, *rest = RECEIPT_ROWS
    at = {name: index for index, name in enumerate(header)}
    no_site = list(first)
    no_site[at["site"]] = ""
    no_quantity = [*first]
    no_quantity[at["lot_code"]], no_quantity[at["quantity"]] = "R-NEW-2", ""
    no_site[at["lot_code"]] = "R-NEW-1"
    write_csv(plant, "receipts.csv", [header, first, *rest, no_site, no_quantity])

    report = import_csv_dir(database, plant)

    assert report.rejected == []
    with make_engine(database).connect() as connection:
        received = connection.execute(select(func.count()).select_from(RECEIPTS)).scalar_one()
        shipped = connection.execute(select(func.count()).select_from(SHIPMENTS)).scalar_one()
    assert received == len(RECEIPT_ROWS) + 1
    assert shipped == len(SHIPMENT_ROWS) - 1


def test_the_rows_read_are_the_rows_written(tmp_path: Path) -> None:
    """The byte-level files above are what csv would write (a check of the test)."""
    lines = lots_file(tmp_path, 2)
    assert list(csv.reader(line.decode() for line in lines))[1] == [
        "N-1", "OAT", "1", "kg", "2026-11-01", "", "", "PLANT",
    ]  # fmt: skip


def test_a_receipt_without_its_day_is_named_for_it(database: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path / "plant")
    header, first, *rest = RECEIPT_ROWS
    undated = list(first)
    undated[header.index("lot_code")], undated[header.index("received_on")] = "R-NEW-3", ""
    write_csv(plant, "receipts.csv", [header, first, *rest, undated])

    report = import_csv_dir(database, plant)

    assert report.rejected == [
        Rejection("receipts.csv", len(RECEIPT_ROWS) + 1, "missing received_on")
    ]
