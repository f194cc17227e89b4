"""The service every adapter calls: question in, Answer out, on a real database."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

import storage
from bot.service import Caller, DatabaseUnavailable, TraceService
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


ADMIN = Caller("cli", "U_ADMIN")


def audit_rows(url: str) -> list[tuple[str, str]]:
    with make_engine(url).connect() as connection:
        rows = connection.execute(
            text("select actor, action from audit_log where action != 'import' order by id")
        ).all()
    return [tuple(row) for row in rows]


def lot_status(url: str, code: str) -> str:
    with make_engine(url).connect() as connection:
        status: str = connection.execute(
            text("select status from lot where lot_code = :code"), {"code": code}
        ).scalar_one()
    return status


def test_ask_hold_by_someone_not_listed_is_refused(plant: str) -> None:
    answer = service(plant).ask("put 4471 on hold", today=TODAY, caller=Caller("cli", "U_OTHER"))

    assert not answer.ok
    assert answer.data["reason"] == "Only U_ADMIN may place holds. Ask one of them."
    assert "confirm" not in answer.data
    with make_engine(plant).connect() as connection:
        assert connection.execute(text("select count(*) from hold")).scalar_one() == 0
        assert connection.execute(text("select count(*) from pending_action")).scalar_one() == 0


@pytest.mark.parametrize("preload", [True, False], ids=["preloaded", "lazy"])
def test_hold_and_release_are_asked_then_confirmed_and_audited(plant: str, preload: bool) -> None:
    bot = service(plant, preload=preload)

    asked = bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN)
    unchanged = lot_status(plant, "4471")
    held = bot.confirm(asked.data["confirm"]["token"], caller=ADMIN)
    info = bot.ask("status of lot 4471", today=TODAY)
    release = bot.ask("release lot 4471", today=TODAY, caller=ADMIN)
    released = bot.confirm(release.data["confirm"]["token"], caller=ADMIN)

    assert (asked.ok, asked.data["reason"], asked.data["confirm"]["lots"]) == (
        False,
        "confirm",
        ["4471"],
    )
    assert asked.text == "Put lot `4471` (Honey granola 500 g) on hold?"
    assert unchanged != "on_hold"
    assert held.ok and held.data["lots"] == ["4471"] and held.data["status"] == "on_hold"
    assert held.text.startswith("*Lot `4471` is now on hold.*")
    assert f"audit #{held.data['audit_id']}, by cli:U_ADMIN" in held.text
    assert info.data["lot"]["status"] == "on_hold"
    assert released.ok and released.data["lots"] == ["4471"]
    assert released.data["status"] == "released"
    assert audit_rows(plant) == [("cli:U_ADMIN", "hold"), ("cli:U_ADMIN", "release")]


def test_a_confirmation_sent_three_times_changes_once(plant: str) -> None:
    bot = service(plant)
    token = bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN).data["confirm"]["token"]

    first, second, third = (bot.confirm(token, caller=ADMIN) for _ in range(3))

    assert first.ok and first.data["lots"] == ["4471"]
    assert (second.ok, second.data["reason"]) == (False, "already used")
    assert second.text.startswith("That was confirmed already (cli:U_ADMIN, ")
    assert second.text.endswith("; nothing changed now.")
    assert third.data["reason"] == "already used"
    assert audit_rows(plant) == [("cli:U_ADMIN", "hold")]


def test_a_confirmation_by_someone_not_listed_changes_nothing(plant: str) -> None:
    bot = service(plant)
    token = bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN).data["confirm"]["token"]

    refused = bot.confirm(token, caller=Caller("slack", "U_OTHER"))
    done = bot.confirm(token, caller=ADMIN)

    assert (refused.ok, refused.data.get("refused")) == (False, True)
    assert done.ok  # the refusal did not use the token up
    assert audit_rows(plant) == [("cli:U_ADMIN", "hold")]


def test_an_expired_confirmation_changes_nothing(plant: str) -> None:
    bot = service(plant)
    bot.confirm_for = timedelta(seconds=-1)
    token = bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN).data["confirm"]["token"]

    late = bot.confirm(token, caller=ADMIN)

    assert (late.ok, late.data["reason"]) == (False, "expired")
    assert late.text == "That confirmation has expired; nothing changed. Ask again."
    assert audit_rows(plant) == []
    assert lot_status(plant, "4471") != "on_hold"


def test_yes_in_the_conversation_confirms_and_no_cancels(plant: str) -> None:
    bot = service(plant)

    asked = bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN, conversation="chat")
    yes = bot.ask("yes", today=TODAY, caller=ADMIN, conversation="chat")
    again = bot.ask("yes", today=TODAY, caller=ADMIN, conversation="chat")
    bot.ask("release 4471", today=TODAY, caller=ADMIN, conversation="chat")
    no = bot.ask("no", today=TODAY, caller=ADMIN, conversation="chat")

    assert asked.text.endswith("Reply yes to confirm, or no.")
    assert (yes.ok, yes.data["lots"]) == (True, ["4471"])
    assert again.intent == "unknown"  # nothing is waiting: "yes" is no question
    assert (no.ok, no.data["status"]) == (True, "cancelled")
    assert audit_rows(plant) == [("cli:U_ADMIN", "hold")]
    assert lot_status(plant, "4471") == "on_hold"


def test_only_the_person_who_asked_confirms_by_yes(plant: str) -> None:
    bot = service(plant, admins=("U_ADMIN", "U_LEAD"))
    lead = Caller("slack", "U_LEAD")

    bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN, conversation="C1:3.1")
    bot.ask("put B-1 on hold", today=TODAY, caller=lead, conversation="C1:3.1")
    mine = bot.ask("yes", today=TODAY, caller=ADMIN, conversation="C1:3.1")

    assert (mine.ok, mine.data["lots"]) == (True, ["4471"])  # not the B-1 the lead asked
    assert lot_status(plant, "B-1") != "on_hold"


def test_a_cancel_by_someone_not_listed_is_refused(plant: str) -> None:
    bot = service(plant)
    token = bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN).data["confirm"]["token"]

    refused = bot.cancel(token, caller=Caller("slack", "U_OTHER"))
    done = bot.confirm(token, caller=ADMIN)

    assert refused.data.get("refused") and done.ok


def test_no_with_a_lot_is_a_new_question_and_a_late_yes_says_expired(plant: str) -> None:
    bot = service(plant)
    bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN, conversation="chat-2")
    corrected = bot.ask("no, I meant lot B-1", today=TODAY, caller=ADMIN, conversation="chat-2")
    bot.confirm_for = timedelta(seconds=-1)
    bot.ask("put B-1 on hold", today=TODAY, caller=ADMIN, conversation="chat-2")
    late = bot.ask("yes", today=TODAY, caller=ADMIN, conversation="chat-2")

    assert corrected.query["lots"] == ["B-1"] and corrected.data.get("status") != "cancelled"
    assert (late.ok, late.data["reason"]) == (False, "expired")
    assert audit_rows(plant) == []


def test_an_ordinal_in_a_question_picks_no_item(plant: str) -> None:
    answer = service(plant).ask("who got the first shipment of lot 12?", today=TODAY)

    assert not answer.ok and answer.data["reason"] == "ambiguous"
    assert [c["sku"] for c in answer.data["candidates"]] == ["GRAN", "BAR"]


def test_another_question_before_yes_leaves_only_the_token_to_confirm(plant: str) -> None:
    bot = service(plant)

    asked = bot.ask("put 4471 on hold", today=TODAY, caller=ADMIN, conversation="call-1")
    bot.ask("who got lot 4471?", today=TODAY, caller=ADMIN, conversation="call-1")
    late = bot.ask("yes", today=TODAY, caller=ADMIN, conversation="call-1")
    nothing = audit_rows(plant)
    button = bot.confirm(asked.data["confirm"]["token"], caller=ADMIN)

    assert late.intent == "unknown"  # a late "yes" confirms no stale question
    assert nothing == []
    assert button.ok and audit_rows(plant) == [("cli:U_ADMIN", "hold")]


@pytest.mark.parametrize(
    "question",
    ["what went into granola bar lot 12?", "what went into lot 12 BAR?", "lot 12 BAR inputs"],
)
def test_the_item_named_in_the_question_settles_a_shared_code(plant: str, question: str) -> None:
    answer = service(plant).ask(question, today=TODAY)

    assert answer.ok, answer.text
    assert (answer.intent, answer.query["lots"], answer.query["sku"]) == (
        "trace_backward",
        ["12"],
        "BAR",
    )


def test_a_reply_naming_the_item_settles_a_shared_code(plant: str) -> None:
    bot = service(plant)

    asked = bot.ask("what went into lot 12?", today=TODAY, conversation="C1:1.1")
    picked = bot.ask("the honey one", today=TODAY, conversation="C1:1.1")

    assert not asked.ok and asked.text.endswith("Reply with the item, or its SKU.")
    assert picked.ok
    assert (picked.intent, picked.query["lots"], picked.query["sku"]) == (
        "trace_backward",
        ["12"],
        "GRAN",
    )


def test_a_new_question_after_a_shared_code_is_answered_as_asked(plant: str) -> None:
    bot = service(plant)

    bot.ask("what went into lot 12?", today=TODAY, conversation="C1:2.1")
    other = bot.ask("who got the honey lot R-HON-1?", today=TODAY, conversation="C1:2.1")

    assert (other.intent, other.query["lots"]) == ("trace_forward", ["R-HON-1"])


def test_a_heard_code_of_a_real_lot_is_said_in_text_and_speech(plant: str) -> None:
    plain = service(plant).hear("who got lot b one", today=TODAY, confidence=0.9)

    assert plain.ok and (plain.query["lots"], plain.query["heard"]) == (["B-1"], ["B1"])
    assert plain.speech.startswith("I understood lot B, 1.")
    assert plain.query["transcript"] == "who got lot b one"
    assert "Heard: lot B-1." in plain.text


def test_a_heard_code_that_names_no_lot_is_asked_back_never_answered(plant: str) -> None:
    bot = service(plant)

    asked = bot.hear("who got lot four four seven two", today=TODAY, conversation="c")

    assert (asked.ok, asked.data["reason"]) == (False, "confirm lot")
    assert asked.text.startswith("I heard lot 4472.")
    assert asked.data["candidates"][0]["lot"] == "4471"
    assert "shipments" not in asked.data


def test_a_yes_to_the_lot_asked_back_answers_about_it(plant: str) -> None:
    bot = service(plant)
    asked = bot.hear("who got lot four four seven two", today=TODAY, conversation="c")
    offered = [c["lot"] for c in asked.data["candidates"]]

    reply = "yes" if "Did you mean" in asked.text else "the first"
    answer = bot.hear(reply, today=TODAY, conversation="c")

    assert answer.ok and answer.intent == "trace_forward"
    assert (answer.query["lots"], answer.query["heard"]) == ([offered[0]], ["4472"])


def test_a_no_to_the_lot_asked_back_asks_for_the_code_again(plant: str) -> None:
    bot = service(plant)
    bot.hear("who got lot four four seven two", today=TODAY, conversation="c")

    answer = bot.hear("no", today=TODAY, conversation="c")

    assert (answer.ok, answer.data["reason"]) == (False, "say again")


def test_a_phone_line_unsure_of_an_exact_code_asks_back(plant: str) -> None:
    answer = service(plant).hear("who got lot 4471", today=TODAY, confidence=0.4)

    assert (answer.ok, answer.data["reason"]) == (False, "confirm lot")
    assert answer.data["candidates"][0]["lot"] == "4471"


def test_a_poorly_heard_question_is_asked_again(plant: str) -> None:
    answer = service(plant).hear("put lot 4471 on hold", today=TODAY, confidence=0.2)

    assert (answer.ok, answer.data["reason"]) == (False, "not heard clearly")
    assert answer.speech == "Sorry, I didn't catch that. Please say it again."


def test_an_unreachable_database_is_said_not_apologised_for(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()  # a folder: SQLite cannot open it as a database

    with pytest.raises(DatabaseUnavailable, match="unable to open database file"):
        TraceService.open(f"sqlite:///{gone}").ask("who got lot 4471?", today=TODAY)


def test_ask_expiring_defaults_to_the_next_two_weeks(plant: str) -> None:
    answer = service(plant).ask("what expires soon?", today=date(2027, 1, 20))

    assert answer.data["since"] == "2027-01-20"
    assert answer.data["until"] == "2027-02-02"
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
    trace.ask("what went into lot B-1?", today=TODAY, conversation="C1:1700000000.000100")

    follow_up = trace.ask("and who got it?", today=TODAY, conversation="C1:1700000000.000100")
    elsewhere = trace.ask("and who got it?", today=TODAY, conversation="C1:1700000000.000999")

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


@pytest.mark.parametrize(
    ("reply", "confirms", "cancels"),
    [
        ("yes", True, False),
        ("Yes please.", True, False),
        ("ok, go ahead", True, False),
        ("yes put 4480 on hold", False, False),
        ("no", False, True),
        ("no thanks", False, True),
        ("cancel that", False, True),
        ("no, I meant lot 4480", False, False),
        ("nope what about lot 12", False, False),
        ("nothing else", False, False),
    ],
)
def test_replies_that_confirm_or_cancel(reply: str, confirms: bool, cancels: bool) -> None:
    from bot.service.conversation import NO, YES

    assert (bool(YES.match(reply)), bool(NO.match(reply))) == (confirms, cancels)


def test_a_stated_expiry_window_is_honoured_and_said(database: str) -> None:
    from storage.demo_plant import load_demo

    load_demo(database, anchor=date(2026, 12, 1))
    bot = service(database)

    stated = bot.ask("expiry between 1 and 31 December", today=date(2026, 12, 1))
    default = bot.ask("what expires soon?", today=date(2026, 12, 1))

    assert stated.data["window"] == {"since": "2026-12-01", "until": "2026-12-31"}
    assert "L-2024-0113" in [lot["lot"] for lot in stated.data["lots"]]
    assert default.data["window"] == {"since": "2026-12-01", "until": "2026-12-14"}
    assert default.text.endswith("_No dates given: the next 14 days._")


def test_the_plant_lists_answer_on_the_demo(database: str) -> None:
    from storage.demo_plant import load_demo

    load_demo(database, anchor=date(2026, 12, 1))
    bot = service(database)
    today = date(2026, 12, 1)

    holds = bot.ask("what is on hold?", today=today)
    alerts = bot.ask("any open alerts?", today=today)
    failed = bot.ask("what failed qc this week?", today=today)
    why = bot.ask("why is 5120 on hold", today=today)

    [held] = holds.data["lots"]
    assert (held["lot"], held["reason"]) == ("5120", "Moisture 6.8% over the 5.0% spec")
    assert held["on_hand"] == 3000.0 and held["location"] == "Hillside main plant"
    assert {a["kind"]: a["severity"] for a in alerts.data["alerts"]} == {
        "qc_failed": "warning",  # moisture: no hazard
        "shipped_before_release": "warning",
    }
    assert set(alerts.data["alerts"][0]) == {
        "id", "kind", "severity", "state", "lot", "summary", "raised_at"
    }  # fmt: skip
    assert failed.data["window"] == {"since": "2026-11-30", "until": "2026-12-06"}
    assert [(c["lot"], c["test"]) for c in failed.data["checks"]] == []  # 5120 failed on 11-26
    last_month = bot.ask("what failed qc in the last 30 days?", today=today)
    assert [(c["lot"], c["test"], c["item"]) for c in last_month.data["checks"]] == [
        ("5120", "moisture", "Raisin Crunch Granola 500 g")
    ]
    assert why.data["lot"]["hold"]["reason"] == "Moisture 6.8% over the 5.0% spec"
    assert why.data["lot"]["hold"]["placed_by"] == "Priya Nair"


@pytest.mark.parametrize(
    ("reply", "intent"),
    [("where it went", "trace_forward"), ("what went into it", "trace_backward")],
)
def test_a_reply_to_a_question_back_is_taken_as_the_choice(
    plant: str, reply: str, intent: str
) -> None:
    bot = service(plant)

    asked = bot.ask("trace 4471", today=TODAY, conversation="C1:4.1")
    chosen = bot.ask(reply, today=TODAY, conversation="C1:4.1")

    assert asked.data["reason"] == "unclear"
    assert (chosen.ok, chosen.intent, chosen.query["lots"]) == (True, intent, ["4471"])


def test_a_follow_up_on_expiry_asks_of_the_lot_before(plant: str) -> None:
    bot = service(plant)

    bot.ask("what went into 4471?", today=TODAY, conversation="C1:5.1")
    expiry = bot.ask("when does it expire?", today=TODAY, conversation="C1:5.1")

    assert (expiry.intent, expiry.query["lots"]) == ("lot_info", ["4471"])


def test_the_plant_s_own_codes_are_codes_whatever_their_shape(
    database: str, tmp_path: Path
) -> None:
    from tests.conftest import write_csv
    from tests.storage.test_csv_import import LOTS

    plant = write_plant(tmp_path / "odd")
    odd = [
        ["SLF", "GRAN", "10", "ea", "2026-11-05", "", "", "PLANT"],
        ["Raw_1_lot_1", "OAT", "5", "kg", "2026-11-01", "", "", "PLANT"],
        ["LOT-PM", "BAR", "7", "ea", "2026-11-05", "", "", "PLANT"],
    ]
    write_csv(plant, "lots.csv", [*LOTS, *odd])
    import_csv_dir(database, plant)
    bot = service(database, preload=False)

    asked = {
        question: bot.ask(question, today=TODAY)
        for question in (
            "tell me about lot SLF",
            "mock recall on Raw_1_lot_1",
            "what went into LOT-PM?",
            "mock recall on slf",
            "tell me about lot XYZ",
        )
    }

    assert [a.query["lots"] for a in asked.values()] == [
        ["SLF"],
        ["Raw_1_lot_1"],
        ["LOT-PM"],
        ["SLF"],
        ["XYZ"],
    ]
    assert [a.ok for a in asked.values()] == [True, True, True, True, False]
    assert asked["tell me about lot XYZ"].text == "I can't find lot XYZ."


def test_requests_long_expired_are_dropped(plant: str) -> None:
    from datetime import datetime, timedelta

    from storage.actions import request_action

    old = datetime(2026, 1, 1)
    request_action(
        plant, action="hold", lots=["4471"], lot_ids=[1], requested_by="cli:U_ADMIN",
        conversation=None, ttl=timedelta(minutes=15), now=old,
    )  # fmt: skip
    service(plant).ask("put 4471 on hold", today=TODAY, caller=ADMIN)

    with make_engine(plant).connect() as connection:
        kept = connection.execute(text("select created_at from pending_action")).scalars().all()
    assert len(kept) == 1 and kept[0] != old
