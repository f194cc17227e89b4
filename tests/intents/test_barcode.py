"""GS1 data: check digits, dates that exist, each AI's meaning, partial labels, Digital
Link forms, typed label text and conflicts between the barcodes of one label."""

from __future__ import annotations

from datetime import date

import pytest

from intents.barcode import check_digit, element, read_label, read_one, read_text
from intents.imaging import Decoded
from tests.intents.labels import compress_digital_link


def gs1_128(text: str) -> Decoded:
    return Decoded("Code 128", text.replace("|", "\x1d"), "]C1")


@pytest.mark.parametrize(
    ("digits", "due"),
    [("0061414100003", 6), ("0061414199999", 6), ("10614141234567890", 8), ("061414100000", 5)],
)
def test_check_digit_is_gs1_mod_10(digits: str, due: int) -> None:
    assert check_digit(digits) == due


@pytest.mark.parametrize(
    ("ai", "value", "problem"),
    [
        ("01", "00614141999997", "GTIN 00614141999997 has a wrong check digit: 7, where 6 is due."),
        ("01", "0061414199999", "GTIN '0061414199999' is not 14 digits."),
        (
            "00",
            "106141412345678909",
            "SSCC 106141412345678909 has a wrong check digit: 9, where 8 is due.",
        ),
        ("414", "0614141000006", "GLN 0614141000006 has a wrong check digit: 6, where 5 is due."),
        ("17", "270231", "The expiry date (17) 270231 is no date that exists."),
        ("11", "261301", "The production date (11) 261301 is no date that exists."),
        ("15", "2701", "The best before date (15) '2701' is not YYMMDD."),
        ("10", "AB CD", "The lot (10) 'AB CD' is not valid for AI (10)."),
    ],
)
def test_element_names_what_is_invalid(ai: str, value: str, problem: str) -> None:
    assert element(ai, value).problem == problem


@pytest.mark.parametrize(
    ("ai", "value"),
    [("01", "00614141000036"), ("00", "106141412345678908"), ("414", "0614141000005")],
)
def test_element_accepts_valid_keys(ai: str, value: str) -> None:
    assert element(ai, value).problem is None


def test_day_00_is_the_last_day_of_the_month() -> None:
    assert element("17", "280200").day == date(2028, 2, 29)


def test_each_date_ai_keeps_its_meaning() -> None:
    label = read_one(
        gs1_128("0100614141000036112601011226020113260301152701011626120117270301104471")
    )

    assert (
        label.production_date,
        label.due_date,
        label.packaging_date,
        label.best_before,
        label.sell_by,
        label.expiry,
    ) == (
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2027, 1, 1),
        date(2026, 12, 1),
        date(2027, 3, 1),
    )
    assert "best before date 2027-01-01" in label.describe()
    assert "expiry date 2027-03-01" in label.describe()


def test_best_before_alone_never_becomes_the_expiry() -> None:
    label = read_one(gs1_128("0100614141000036152701011044711"))

    assert (label.best_before, label.expiry) == (date(2027, 1, 1), None)


def test_wrong_gtin_check_digit_in_gs1_128_is_refused_and_the_rest_kept() -> None:
    label = read_one(gs1_128("0100614141999997104471|17270131"))

    assert (label.gtin, label.gtins, label.lot, label.expiry) == (
        None,
        (),
        "4471",
        date(2027, 1, 31),
    )
    assert label.problems == ("GTIN 00614141999997 has a wrong check digit: 7, where 6 is due.",)


def test_one_invalid_date_does_not_empty_a_databar_label() -> None:
    databar = Decoded("DataBar Expanded", "01095060001343521727023110ABC", "]e0")

    label = read_one(databar)

    assert (label.gtin, label.lot, label.expiry) == ("09506000134352", "ABC", None)
    assert label.problems == ("The expiry date (17) 270231 is no date that exists.",)


def test_invalid_date_keeps_gtin_and_lot() -> None:
    label = read_one(gs1_128("01006141410000361727023110L-7|21SER"))

    assert (label.gtin, label.lot, label.serial, label.expiry) == (
        "00614141000036",
        "L-7",
        "SER",
        None,
    )
    assert label.problems == ("The expiry date (17) 270231 is no date that exists.",)


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/00614141000036/10/4471?17=270131",
        "https://id.gs1.org/01/00614141000036/10/4471/?17=270131",
        "HTTPS://ID.GS1.ORG/01/00614141000036/10/4471?17=270131",
        "Https://Example.COM/products/01/00614141000036/10/4471/?17=270131",
        "https://id.gs1.org/01/614141000036/10/4471?17=270131",
    ],
    ids=["plain", "trailing slash", "upper case", "stem and mixed case", "GTIN-12"],
)
def test_digital_link_forms_are_read(uri: str) -> None:
    label = read_one(Decoded("QR Code", uri, "]Q1"))

    assert (label.gtin, label.lot, label.expiry) == ("00614141000036", "4471", date(2027, 1, 31))


def test_compressed_digital_link_is_read() -> None:
    uri = compress_digital_link(
        [("01", "00614141000036"), ("10", "ABC-12"), ("17", "270131"), ("15", "270101")]
    )

    label = read_one(Decoded("QR Code", uri, "]Q1"))

    assert (label.gtin, label.lot, label.expiry, label.best_before) == (
        "00614141000036",
        "ABC-12",
        date(2027, 1, 31),
        date(2027, 1, 1),
    )


def test_compressed_digital_link_of_the_epc_binary_standard_is_read() -> None:
    # The worked example of GS1's compression standard for EPC binary strings.
    label = read_one(Decoded("QR Code", "https://example.com/eh30164596f40c0e5cbe991a83", ""))

    assert (label.gtin, label.serial) == ("09528765123457", "123456789123")


def test_digital_link_with_wrong_gtin_check_digit_is_refused() -> None:
    label = read_one(Decoded("QR Code", "https://id.gs1.org/01/012345678906", "]Q1"))

    assert label.gtin is None
    assert label.problems == ("GTIN 00012345678906 has a wrong check digit: 6, where 5 is due.",)


@pytest.mark.parametrize(
    "typed",
    [
        "(01)00614141000036(10)4471",
        "(01) 00614141000036 (10) 4471",
        "01 00614141000036 10 4471",
        "0100614141000036104471",
        "0100614141000036<GS>104471",
        "0100614141000036&lt;GS&gt;104471",
        "01 00614141000036 <GS> 10 4471",
        "https://id.gs1.org/01/00614141000036/10/4471",
        "<https://id.gs1.org/01/00614141000036/10/4471/>",
        "what is https://id.gs1.org/01/00614141000036/10/4471 ?",
    ],
)
def test_typed_label_text_is_read(typed: str) -> None:
    label = read_text(typed)

    assert label is not None
    assert (label.gtin, label.lot) == ("00614141000036", "4471")


def test_typed_label_with_fnc1_as_space_after_a_variable_field() -> None:
    label = read_text("01 00614141000036 10 ABC 17 270131")

    assert label is not None
    assert (label.gtin, label.lot, label.expiry) == ("00614141000036", "ABC", date(2027, 1, 31))


@pytest.mark.parametrize(
    "said",
    [
        "who got lot 4471?",
        "what went into L-2024-0113",
        "01 12 2026",
        "lot 4471 expires 2027-01-01",
        "what expires in the next 10 days",
        "tell me about 0061414100003",
        "https://example.com/menu",
        "call me at (01) 555 0100",
    ],
)
def test_questions_are_no_label_text(said: str) -> None:
    assert read_text(said) is None


def test_two_gtins_on_one_label_are_both_kept_as_a_conflict() -> None:
    label = read_label(
        [
            Decoded("EAN-13", "0614141000036", "]E0"),
            gs1_128("0100614141000418104471"),
        ]
    )

    assert label.gtins == ("00614141000036", "00614141000418")
    assert label.conflict == {"gtins": ["00614141000036", "00614141000418"]}


def test_ean_13_beside_gs1_128_of_the_same_item_is_no_conflict() -> None:
    label = read_label(
        [Decoded("EAN-13", "0614141000036", "]E0"), gs1_128("0100614141000036104471")]
    )

    assert (label.gtin, label.lot, label.conflict) == ("00614141000036", "4471", None)
