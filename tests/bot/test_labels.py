"""Labels in the service: typed label text is a lookup wherever questions come in,
conflicts are said with both sides and a question, invalid elements are named, and a
photo is decoded without a database."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from bot.service import TraceService
from bot.service.scan import scan
from storage.demo_plant import load_demo
from tests.bot.test_cli import tracebot

TODAY = date(2026, 11, 25)
HONEY = "00614141000418"  # Honey Almond Granola 500 g, whose lot 4471 is
RAISIN = "00614141000432"  # Raisin Crunch Granola 500 g
needs_zint = pytest.mark.skipif(
    shutil.which("zint") is None, reason="Debian's zint is installed by scripts/system-packages.sh"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> TraceService:
    url = f"sqlite:///{tmp_path_factory.mktemp('labels') / 'tracebot.db'}"
    load_demo(url, anchor=TODAY)
    return TraceService.open(url)


def _zint(folder: Path, *symbols: tuple[str, str]) -> bytes:
    """One label photo holding the zint symbols given (type, data), one above another."""
    images = []
    for number, (kind, data) in enumerate(symbols):
        path = folder / f"symbol-{number}.png"
        command = ["zint", "-b", kind, "-d", data, "-o", str(path), "--scale=3"]
        if data.startswith("["):
            command.insert(3, "--gs1")
        subprocess.run(command, check=True, capture_output=True)
        images.append(Image.open(path).convert("L"))
    page = Image.new(
        "L", (max(i.width for i in images) + 120, sum(i.height + 60 for i in images) + 60), 255
    )
    top = 60
    for image in images:
        page.paste(image, (60, top))
        top += image.height + 60
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "typed",
    [
        f"(01){HONEY}(10)4471",
        f"01 {HONEY} 10 4471",
        f"01{HONEY}<GS>104471",
        f"01{HONEY}&lt;GS&gt;104471",  # as Slack sends "<GS>"
        f"<https://id.gs1.org/01/{HONEY}/10/4471>",  # a pasted link, as Slack sends it
    ],
)
def test_typed_label_text_is_a_lookup_of_its_lot(demo: TraceService, typed: str) -> None:
    answer = demo.ask(typed, today=TODAY)

    assert (answer.intent, answer.ok) == ("lot_info", True)
    assert answer.data["lot"]["lot"] == "4471"
    assert answer.data["label"]["gtin"] == HONEY
    assert "Label read: GTIN 00614141000418, lot 4471" in answer.text


def test_label_text_in_a_conversation_and_a_transcript_is_a_lookup(demo: TraceService) -> None:
    typed = demo.ask(f"(01){HONEY}(10)4471", today=TODAY, conversation="slack:T1:C1:1")
    heard = demo.hear(f"01 {HONEY} 10 4471", today=TODAY, conversation="call:1")
    follow = demo.ask("and where did it go?", today=TODAY, conversation="slack:T1:C1:1")

    assert typed.data["lot"]["lot"] == heard.data["lot"]["lot"] == "4471"
    assert (follow.intent, follow.query["lots"]) == ("trace_forward", ["4471"])


def test_gtin_of_another_item_than_the_lots_is_a_question_naming_both(demo: TraceService) -> None:
    answer = demo.ask(f"(01){RAISIN}(10)4471", today=TODAY)

    assert answer.ok is False
    assert answer.text == (
        f"The label's GTIN {RAISIN} (Raisin Crunch Granola 500 g) does not match lot 4471, "
        f"which is Honey Almond Granola 500 g (GTIN {HONEY}). Is it lot 4471 of Honey Almond "
        "Granola 500 g, or is the label wrong and it is a Raisin Crunch Granola 500 g lot?"
    )
    assert answer.data["conflict"] == {
        "kind": "gtin_not_lot_item",
        "label_gtin": RAISIN,
        "label_item": "Raisin Crunch Granola 500 g",
        "lot": "4471",
        "lot_item": "Honey Almond Granola 500 g",
        "lot_gtin": HONEY,
    }
    assert answer.data["clarify"].endswith("?")


def test_wrong_check_digit_is_refused_with_its_reason(demo: TraceService) -> None:
    answer = demo.ask("https://id.gs1.org/01/012345678906", today=TODAY)

    assert answer.ok is False
    assert "GTIN 00012345678906 has a wrong check digit: 6, where 5 is due." in answer.text
    assert answer.data["label"]["problems"] == [
        "GTIN 00012345678906 has a wrong check digit: 6, where 5 is due."
    ]


def test_wrong_gtin_check_digit_keeps_the_lot_and_says_what_is_wrong(demo: TraceService) -> None:
    answer = demo.ask("(01)00614141999997(10)4471", today=TODAY)

    assert answer.data["label"]["gtin"] is None
    assert answer.data["label"]["lot"] == "4471"
    assert "Not valid on the label: GTIN 00614141999997 has a wrong check digit" in answer.text


def test_best_before_and_expiry_are_shown_each_as_itself(demo: TraceService) -> None:
    answer = demo.ask(f"(01){HONEY}(10)4471(15)270101(17)270301", today=TODAY)

    assert (answer.data["label"]["best_before"], answer.data["label"]["expiry"]) == (
        "2027-01-01",
        "2027-03-01",
    )
    assert "best before date 2027-01-01, expiry date 2027-03-01" in answer.text


@needs_zint
def test_two_gtins_on_one_photo_are_a_question_naming_both(
    demo: TraceService, tmp_path: Path
) -> None:
    photo = _zint(tmp_path, ("13", RAISIN[1:]), ("16", f"[01]{HONEY}[10]4471"))

    result = demo.scan(photo, today=TODAY)

    assert result.answer.ok is False
    assert result.answer.data["conflict"]["kind"] == "gtins"
    assert {g["item"] for g in result.answer.data["conflict"]["gtins"]} == {
        "Honey Almond Granola 500 g",
        "Raisin Crunch Granola 500 g",
    }
    assert result.answer.text.endswith("Its lot is 4471. Which item is it?")
    assert sorted(result.as_dict("photo")["conflict"]["gtins"]) == [HONEY, RAISIN]


@needs_zint
def test_gs1_128_beside_an_ean_13_gives_the_lot(demo: TraceService, tmp_path: Path) -> None:
    photo = _zint(tmp_path, ("13", HONEY[1:]), ("16", f"[01]{HONEY}[17]270728[10]4471"))

    result = demo.scan(photo, today=TODAY)

    assert (result.label.gtin, result.label.lot, result.label.expiry) == (
        HONEY,
        "4471",
        date(2027, 7, 28),
    )
    assert result.answer.ok


@needs_zint
def test_scan_without_a_database_decodes_and_says_no_lookup(tmp_path: Path) -> None:
    photo = _zint(tmp_path, ("16", f"[01]{HONEY}[10]4471[15]270101"))

    result = scan(None, photo, today=TODAY, reason="no database")
    shown = result.as_dict("label.png")

    assert (shown["gtin"], shown["lot"], shown["best_before"], shown["expiry"]) == (
        HONEY,
        "4471",
        "2027-01-01",
        None,
    )
    assert shown["answer"] is None
    assert "No lookup was possible" in shown["note"]


@needs_zint
def test_cli_scan_without_a_database_decodes(tmp_path: Path) -> None:
    label = tmp_path / "label.png"
    label.write_bytes(_zint(tmp_path, ("16", f"[01]{HONEY}[10]4471")))
    url = f"sqlite:///{tmp_path / 'never-made.db'}"

    done = tracebot("--db", url, "scan", str(label), "--json")

    shown = json.loads(done.stdout)
    assert done.returncode == 0
    assert (shown["gtin"], shown["lot"], shown["answer"]) == (HONEY, "4471", None)
    assert "No lookup was possible: there is no TraceBot database here" in shown["note"]
