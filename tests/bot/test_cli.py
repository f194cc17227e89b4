"""The `tracebot` command as a user runs it: a real process, real files."""

from __future__ import annotations

import getpass
import json
import os
import struct
import subprocess
import sys
import wave
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from tests.conftest import write_csv
from tests.storage.test_csv_import import EXPECTED, LOTS, write_plant


def tracebot(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def demo(url: str) -> str:
    assert tracebot("--db", url, "init").returncode == 0
    loaded = tracebot("--db", url, "demo", "--anchor", "2026-12-01")
    assert loaded.returncode == 0, loaded.stderr
    return url


def hold_audit(url: str) -> list[tuple[str, str, str]]:
    with make_engine(url).connect() as connection:
        rows = connection.execute(
            text(
                "select actor, action, detail from audit_log"
                " where action in ('hold', 'release') order by id"
            )
        ).all()
    return [(row[0], row[1], ",".join(json.loads(row[2])["lots"])) for row in rows]


def test_cli_the_readme_hold_and_release_answer_truthfully(database: str) -> None:
    url = demo(database)
    admin = {"TRACEBOT_ADMINS": "U_QA_LEAD"}

    unconfirmed = tracebot("--db", url, "ask", "put 4480 on hold", "--user", "U_QA_LEAD", env=admin)
    held = tracebot(
        "--db", url, "ask", "put 4480 on hold", "--user", "U_QA_LEAD", "--yes", env=admin
    )
    again = tracebot("--db", url, "ask", "put 4480 on hold", "--user", "U_QA_LEAD", "-y", env=admin)
    released = tracebot(
        "--db", url, "ask", "release 4480", "--user", "U_QA_LEAD", "--yes", env=admin
    )

    assert unconfirmed.returncode == 1
    assert unconfirmed.stdout.startswith("Put lot `4480` (Trail Mix Bar 12-pack) on hold?")
    assert unconfirmed.stderr == "tracebot: nothing changed: add --yes to confirm\n"
    assert held.returncode == 0, held.stderr
    assert held.stdout.startswith("*Lot `4480` is now on hold.* (audit #")
    assert (
        again.returncode == 0
        and again.stdout == "Lot(s) 4480 is already on hold; nothing changed.\n"
    )
    assert released.returncode == 0, released.stderr
    assert released.stdout.startswith("*Lot `4480` is now released.*")
    assert hold_audit(url) == [
        ("cli:U_QA_LEAD", "hold", "4480"),
        ("cli:U_QA_LEAD", "release", "4480"),
    ]
    assert "Traceback" not in "".join(r.stderr for r in (unconfirmed, held, again, released))


def test_cli_ask_sku_picks_the_item_of_a_shared_code(sqlite_url: str) -> None:
    url = demo(sqlite_url)

    shared = tracebot("--db", url, "ask", "tell me about lot 12", "--json")
    picked = tracebot("--db", url, "ask", "tell me about lot 12", "--sku", "BAR-TRAIL-12", "--json")
    named = tracebot("--db", url, "ask", "tell me about trail mix bar lot 12", "--json")

    assert shared.returncode == 1
    assert [c["sku"] for c in json.loads(shared.stdout)["data"]["candidates"]] == [
        "BASE-TOAST",
        "BAR-TRAIL-12",
    ]
    for done in (picked, named):
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert (answer["ok"], answer["query"]["sku"]) == (True, "BAR-TRAIL-12")
        assert answer["data"]["lot"]["item"] == "Trail Mix Bar 12-pack"


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


def test_cli_scan_answers_about_the_labelled_lot(tmp_path: Path) -> None:
    import shutil
    import subprocess as run

    import pytest

    if shutil.which("zint") is None:
        pytest.skip("Debian's zint is installed by scripts/system-packages.sh")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    tracebot("--db", url, "demo", "--anchor", "2026-11-25")
    label = tmp_path / "label.png"
    run.run(
        [
            "zint",
            "-b",
            "71",
            "--gs1",
            "-d",
            "[01]00614141000418[17]270728[10]4471",
            "-o",
            str(label),
            "--scale=4",
        ],
        check=True,
    )

    result = tracebot("--db", url, "scan", str(label), "--json", "--today", "2026-11-25")

    scanned = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert (scanned["gtin"], scanned["lot"], scanned["expiry"]) == (
        "00614141000418",
        "4471",
        "2027-07-28",
    )
    assert scanned["barcodes"][0]["format"] == "Data Matrix"
    assert scanned["answer"]["data"]["lot"]["lot"] == "4471"


def test_cli_scan_of_a_file_that_is_no_photo_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    tracebot("--db", url, "init")
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a photo")

    result = tracebot("--db", url, "scan", str(bogus), "--json")

    scanned = json.loads(result.stdout)
    assert result.returncode == 1
    assert (
        scanned["answer"]["text"]
        == "The file is not an image TraceBot can read (PNG, JPEG, WebP...)."
    )
    assert "Traceback" not in result.stderr


def test_cli_parse_conversation_carries_the_lot(tmp_path: Path) -> None:
    lines = "who got lot 4471?\nwhat about 4480?\nand what went into it?\nthanks!\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--today", "2026-11-25", "--conversation"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    parsed = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(p["intent"], p["lots"]) for p in parsed] == [
        ("trace_forward", ["4471"]),
        ("trace_forward", ["4480"]),
        ("trace_backward", ["4480"]),
        ("unknown", []),
    ]
    assert all(p["clarify"] is None for p in parsed)


def test_cli_parse_with_a_database_names_parties_as_in_the_master_data(
    sqlite_url: str, tmp_path: Path
) -> None:
    assert tracebot("init", "--db", sqlite_url).returncode == 0
    assert (
        tracebot(
            "import", "csv", str(write_plant(tmp_path / "plant")), "--db", sqlite_url
        ).returncode
        == 0
    )

    done = tracebot(
        "parse", "what did sysco get last month", "--db", sqlite_url, "--today", "2026-11-25"
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) | {"confidence": None} == {
        "intent": "customer_lots",
        "lots": [],
        "party": "Sysco",
        "item": None,
        "site": None,
        "since": "2026-10-01",
        "until": "2026-10-31",
        "confidence": None,
        "clarify": None,
    }


def test_cli_serve_socket_mode_without_tokens_says_what_is_missing(sqlite_url: str) -> None:
    assert tracebot("init", "--db", sqlite_url).returncode == 0

    done = tracebot("serve", "--socket-mode", "--db", sqlite_url)

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "tracebot: Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN (an xapp- token)."
    )


def test_cli_listen_to_a_wav_header_with_an_impossible_rate_says_so(
    database: str, tmp_path: Path
) -> None:
    url = demo(database)
    recording = tmp_path / "broken.wav"
    with wave.open(str(recording), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(bytes(1600))
    header = bytearray(recording.read_bytes())
    struct.pack_into("<I", header, 24, 0)  # a sample rate of 0 Hz
    recording.write_bytes(bytes(header))

    done = tracebot("--db", url, "listen", str(recording))

    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"tracebot: {recording}: The WAV header gives a sample rate of 0 Hz; "
        "send 4,000 to 192,000 Hz."
    )


def test_alerts_are_acknowledged_snoozed_and_resolved_from_the_command_line(
    sqlite_url: str,
) -> None:
    demo(sqlite_url)
    [first, *_] = json.loads(tracebot("--db", sqlite_url, "alerts", "--json").stdout)
    alert = str(first["id"])

    unconfirmed = tracebot("--db", sqlite_url, "alerts", "--ack", alert, "--user", "maria")
    assert unconfirmed.returncode == 1 and "add --yes" in unconfirmed.stderr
    bad = tracebot("--db", sqlite_url, "alerts", "--snooze", alert, "--until", "soonish")
    assert bad.returncode == 1 and "--until 'soonish'" in bad.stderr
    snoozed = tracebot(
        "--db", sqlite_url, "alerts", "--snooze", alert, "--until", "4h", "--user", "maria", "--yes"
    )
    assert snoozed.returncode == 0 and f"Alert #{alert} snoozed until" in snoozed.stdout
    assert alert not in {
        str(a["id"]) for a in json.loads(tracebot("--db", sqlite_url, "alerts", "--json").stdout)
    }
    listed = tracebot("--db", sqlite_url, "alerts", "--all").stdout
    assert f"#{alert} " in listed and "[snoozed by cli:maria until" in listed

    resolved = tracebot(
        "--db",
        sqlite_url,
        "alerts",
        "--resolve",
        alert,
        "--note",
        "Retested: pass",
        "--yes",
        "--json",
    )
    assert json.loads(resolved.stdout)["data"] | {"audit_id": 0} == {
        "alert": int(alert),
        "status": "resolved",
        "audit_id": 0,
        "by": f"cli:{getpass.getuser()}",
        "note": "Retested: pass",
    }
    [shown] = [
        a
        for a in json.loads(tracebot("--db", sqlite_url, "alerts", "--all", "--json").stdout)
        if str(a["id"]) == alert
    ]
    assert (shown["state"], shown["note"]) == ("resolved", "Retested: pass")
    with make_engine(sqlite_url).connect() as connection:
        actions = (
            connection.execute(
                text("select action from audit_log where entity = 'alert' order by id")
            )
            .scalars()
            .all()
        )
    assert actions == ["snooze", "resolve"]
