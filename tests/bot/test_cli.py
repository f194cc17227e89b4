"""The `tracebot` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_csv
from tests.storage.test_csv_import import EXPECTED, LOTS, write_plant


def tracebot(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_cli_init_is_idempotent(sqlite_url: str) -> None:
    first = tracebot("--db", sqlite_url, "init")
    second = tracebot("init", "--db", sqlite_url)

    assert (first.returncode, second.returncode) == (0, 0)
    assert first.stdout.startswith("Created the schema")
    assert second.stdout.startswith("Schema is up to date")


def test_cli_import_csv_loads_a_plant(sqlite_url: str, tmp_path: Path) -> None:
    tracebot("--db", sqlite_url, "init")

    result = tracebot("--db", sqlite_url, "import", "csv", str(write_plant(tmp_path / "p")))
    stats = tracebot("--db", sqlite_url, "stats", "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(stats.stdout) == EXPECTED


def test_cli_import_csv_reports_rejected_rows_and_exits_1(sqlite_url: str, tmp_path: Path) -> None:
    plant = write_plant(tmp_path / "p")
    write_csv(plant, "lots.csv", [*LOTS, ["Z-1", "NOPE", "5", "kg", "2026-11-01", "", "", "PLANT"]])
    tracebot("--db", sqlite_url, "init")

    result = tracebot("--db", sqlite_url, "import", "csv", str(plant))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"lots.csv:{len(LOTS) + 1}: unknown item 'NOPE'",
        "tracebot: 1 row rejected; the other rows loaded.",
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_import_csv_json_report(sqlite_url: str, tmp_path: Path) -> None:
    tracebot("--db", sqlite_url, "init")
    plant = write_plant(tmp_path / "p")
    tracebot("--db", sqlite_url, "import", "csv", str(plant))

    result = tracebot("--db", sqlite_url, "import", "csv", str(plant), "--json")

    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["rejected"] == []
    assert {file["file"]: file["inserted"] for file in report["files"]} == dict.fromkeys(
        [
            "items.csv",
            "parties.csv",
            "lots.csv",
            "receipts.csv",
            "consumption.csv",
            "shipments.csv",
            "qc.csv",
        ],
        0,
    )


def test_cli_without_schema_says_to_run_init(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    result = tracebot("--db", url, "stats")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"tracebot: The database {url} has no TraceBot schema; "
        "run `tracebot init` to create or upgrade it."
    )
    assert not (tmp_path / "empty.db").exists()


def test_cli_import_csv_of_a_missing_folder_exits_1(sqlite_url: str, tmp_path: Path) -> None:
    tracebot("--db", sqlite_url, "init")

    result = tracebot("--db", sqlite_url, "import", "csv", str(tmp_path / "nowhere"))

    assert result.returncode == 1
    assert result.stderr.strip() == f"tracebot: No such directory: {tmp_path / 'nowhere'}"


def test_cli_bad_database_url_exits_1() -> None:
    result = tracebot("--db", "nonsense", "stats")

    assert result.returncode == 1
    assert (
        result.stderr.strip() == "tracebot: Cannot use the database nonsense: not a database URL."
    )


def test_cli_unknown_command_is_a_usage_error() -> None:
    result = tracebot("frobnicate")

    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_cli_reads_database_url_from_the_environment(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"TRACEBOT_DATABASE_URL={sqlite_url}\n")

    result = tracebot("init", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.startswith("Created the schema")
    assert Path(sqlite_url.removeprefix("sqlite:///")).exists()
