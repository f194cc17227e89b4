"""The service every adapter calls: question in, Answer out, on a real database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

import storage
from bot.service import TraceService
from storage.db import make_engine
from storage.importers.csv_import import import_csv_dir
from tests.storage.test_csv_import import write_plant

TODAY = date(2026, 11, 25)


@pytest.fixture
def plant(database: str, tmp_path: Path) -> str:
    import_csv_dir(database, write_plant(tmp_path / "plant"))
    return database


def service(
    url: str, *, admins: tuple[str, ...] = ("U_ADMIN",), preload: bool = True
) -> TraceService:
    return TraceService(storage.load_genealogy(url, preload=preload), url, admins=admins)


def test_ask_trace_forward_fills_the_contract_data(plant: str) -> None:
    answer = service(plant).ask("who got lot R-HON-1?", today=TODAY)

    assert answer.ok
    assert answer.intent == "trace_forward"
    assert answer.data["downstream_lots"] == ["4471", "B-1"]
    assert answer.data["customers"] == ["Sysco"]
    assert answer.data["shipments"][0] == {
        "lot": "4471",
        "party": "Sysco",
        "quantity": 400.0,
        "uom": "ea",
        "date": "2026-11-05",
        "reference": "BOL-1",
    }
    assert (
        answer.text.splitlines()[0]
        == "*Lot R-HON-1 reached 1 customer* in 2 shipments; 2 lots made from it."
    )
    assert answer.speech == "Lot R, H O N, 1 went to Sysco, in 2 shipments."


def test_ask_shared_lot_code_lists_candidates(plant: str) -> None:
    answer = service(plant).ask("what went into lot 12?", today=TODAY)

    assert not answer.ok
    assert answer.data["candidates"] == [
        {"lot": "12", "item": "Honey granola 500 g", "sku": "GRAN"},
        {"lot": "12", "item": "Granola bar", "sku": "BAR"},
    ]
    assert answer.text == "Lot 12 exists for Honey granola 500 g and for Granola bar: which one?"


def test_ask_hold_by_someone_not_listed_is_refused(plant: str) -> None:
    answer = service(plant).ask("put 4471 on hold", today=TODAY, user="U_OTHER")

    assert not answer.ok
    assert answer.data["reason"] == "Only U_ADMIN may place holds. Ask one of them."
    with make_engine(plant).connect() as connection:
        assert connection.execute(text("select count(*) from hold")).scalar_one() == 0


def test_ask_hold_and_release_by_an_admin_are_audited(plant: str) -> None:
    bot = service(plant)

    held = bot.ask("put 4471 on hold", today=TODAY, user="U_ADMIN")
    info = bot.ask("status of lot 4471", today=TODAY)
    released = bot.ask("release lot 4471", today=TODAY, user="U_ADMIN")

    assert (held.ok, held.data) == (True, {"lots": ["4471"], "status": "on_hold"})
    assert info.data["lot"]["status"] == "on_hold"
    assert (released.ok, released.data) == (True, {"lots": ["4471"], "status": "released"})
    with make_engine(plant).connect() as connection:
        audit = connection.execute(
            text("select actor, action from audit_log where action != 'import' order by id")
        ).all()
    assert [tuple(row) for row in audit] == [("U_ADMIN", "hold"), ("U_ADMIN", "release")]


def test_ask_expiring_defaults_to_the_next_two_weeks(plant: str) -> None:
    answer = service(plant).ask("what expires soon?", today=date(2027, 1, 20))

    assert answer.data["since"] == "2027-01-20"
    assert answer.data["until"] == "2027-02-03"
    assert [lot["lot"] for lot in answer.data["lots"]] == ["B-1"]


def test_ask_out_of_scope_is_not_ok(plant: str) -> None:
    answer = service(plant).ask("what's the weather like?", today=TODAY)

    assert (answer.intent, answer.ok) == ("unknown", False)


def test_ask_lazy_and_preloaded_give_the_same_answers(plant: str) -> None:
    questions = [
        "who got lot R-OAT-1?",
        "what went into 4471?",
        "mock recall on B-1",
        "reconcile lot B-1",
        "did B-1 pass QC?",
        "what did acme send us in october?",
    ]
    warm, cold = service(plant), service(plant, preload=False)

    for question in questions:
        assert warm.ask(question, today=TODAY) == cold.ask(question, today=TODAY), question


def test_scan_of_a_pallet_label_finds_where_its_lots_went(sqlite_url: str, tmp_path: Path) -> None:
    import shutil
    import subprocess

    from bot.service import scan
    from storage.db import init_schema
    from tests.conftest import write_csv

    if shutil.which("zint") is None:
        pytest.skip("Debian's zint is installed by scripts/system-packages.sh")
    init_schema(sqlite_url)
    plant = write_plant(tmp_path / "plant")
    write_csv(
        plant,
        "packing.csv",
        [
            ["sscc", "lot_code", "quantity", "uom", "packed_at"],
            ["106141412345678908", "4471", "300", "ea", "2026-11-05T07:00:00"],
        ],
    )
    import_csv_dir(sqlite_url, plant)
    label = tmp_path / "pallet.png"
    subprocess.run(
        [
            "zint",
            "-b",
            "16",
            "--gs1",
            "-d",
            "[00]106141412345678908",
            "-o",
            str(label),
            "--scale=3",
        ],
        check=True,
    )

    result = scan(service(sqlite_url), label.read_bytes(), today=TODAY)

    assert result.label.sscc == "106141412345678908"
    assert (result.answer.intent, result.answer.ok) == ("trace_forward", True)
    assert result.answer.data["customers"] == ["Sysco"]


def test_scan_of_a_photo_without_barcode_advises_a_retake(sqlite_url: str) -> None:
    import io

    from PIL import Image

    from bot.service import RETAKE, scan
    from storage.db import init_schema

    init_schema(sqlite_url)
    blank = io.BytesIO()
    Image.new("L", (640, 480), 180).save(blank, format="PNG")

    result = scan(service(sqlite_url), blank.getvalue(), today=TODAY)

    assert (result.answer.ok, result.answer.text) == (False, RETAKE)


def test_ask_follow_up_in_a_thread_reuses_its_lot(plant: str) -> None:
    trace = service(plant)
    trace.ask("what went into lot B-1?", today=TODAY, thread="C1:1700000000.000100")

    follow_up = trace.ask("and who got it?", today=TODAY, thread="C1:1700000000.000100")
    elsewhere = trace.ask("and who got it?", today=TODAY, thread="C1:1700000000.000999")

    assert (follow_up.intent, follow_up.query["lots"]) == ("trace_forward", ["B-1"])
    assert follow_up.ok
    assert not elsewhere.ok  # another thread has no lot to reuse


def test_ask_a_heard_code_without_its_dash_finds_the_lot(plant: str) -> None:
    answer = service(plant).ask("what went into lot b one", today=TODAY)

    assert answer.ok
    assert answer.query["lots"] == ["B-1"]
    assert answer.query["heard"] == ["B1"]


def test_ask_a_tied_question_gets_a_question_back(plant: str) -> None:
    answer = service(plant).ask("trace 4471", today=TODAY)

    assert not answer.ok
    assert answer.data["reason"] == "unclear"
    assert answer.data["options"] == ["trace_forward", "trace_backward"] or answer.data[
        "options"
    ] == ["trace_backward", "trace_forward"]
    assert answer.text == answer.data["clarify"] and "4471" in answer.text
