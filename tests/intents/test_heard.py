"""Heard lot codes against real ones: sure only when no other real lot has a chance."""

from __future__ import annotations

import pytest

from intents.heard import SURE, CodeIndex, code_shape
from intents.speech import CodeCheck, heard_codes, shape_rule, trie_rule


def plant(codes: list[str]) -> CodeIndex:
    index = CodeIndex()
    index.add(codes, ["Trail Mix Bar"] * len(codes))
    return index


def test_match_an_exact_code_on_a_sparse_plant_is_sure() -> None:
    best = plant(["4471", "4480", "L-2024-0113"]).match("4480", [0.85] * 4)[0]

    assert best.code == "4480" and best.probability >= SURE


def test_match_an_exact_code_among_many_neighbours_is_not_sure() -> None:
    dense = plant([f"R{n:07d}" for n in range(20000)])

    best = dense.match("R0012345", [0.85] * 8)

    assert best[0].code == "R0012345" and best[0].probability < SURE
    assert len(best) > 1


def test_match_a_wrong_digit_offers_the_real_neighbours_newest_first() -> None:
    assert [c.code for c in plant(["4480", "4402"]).match("4482", [0.9] * 4)] == ["4402", "4480"]


def test_match_keeps_to_the_item_named() -> None:
    index = CodeIndex()
    index.add(["4480", "4481"], ["Trail Mix Bar", "Granola"])

    assert [c.code for c in index.match("4489", [0.9] * 4, item="Granola")] == ["4481"]


def test_match_a_code_of_no_length_the_plant_has_is_nothing() -> None:
    assert plant(["4480"]).match("448", [0.9] * 3) == []


def test_shapes_name_no_code() -> None:
    index = plant(["R0000001", "R0000002", "L-2024-0113"])

    assert index.shapes() == ["R#######", "L-####-####"]
    assert code_shape("ALM-5531") == "ALM-####"


@pytest.mark.parametrize(
    ("shape", "rule"),
    [
        ("####", "((<d> <d> <d> <d>) | (<pair> <pair>))"),
        ("R###", "(r | romeo) <d> <d> <d>"),
        ("W-##", "(w | whiskey) [dash] ((<d> <d>) | (<pair>))"),
    ],
)
def test_shape_rule_says_letters_digits_and_dashes(shape: str, rule: str) -> None:
    assert shape_rule(shape) == rule


def test_heard_codes_joins_pairs_and_spelled_letters() -> None:
    words = [("who", 1.0), ("got", 1.0), ("lot", 1.0), ("romeo", 0.9), ("oh", 0.8)]
    words += [("twelve", 0.7)]

    assert heard_codes(words) == [("R012", (0.9, 0.8, 0.7, 0.7))]


def test_nearest_finds_a_code_heard_too_long_or_too_short() -> None:
    index = plant(["4471", "4480", "5133", "L-2024-0113"])

    assert index.nearest("1330", limit=1) == ["5133"]  # "five" lost, "on hold" heard as "oh"
    assert index.nearest("51330120", limit=1) == ["5133"]  # "on hold" heard as digits
    assert index.nearest("L202401113", limit=1) == ["L-2024-0113"]


def test_nearest_is_bounded_and_puts_the_exact_code_first_on_a_dense_plant() -> None:
    dense = plant([f"R{n:07d}" for n in range(90000)])

    found = dense.nearest("R0012345", limit=40)

    assert len(found) == 40 and found[0] == "R0012345"
    assert all(
        sum(a != b for a, b in zip(code, "R0012345", strict=True)) == 1 for code in found[1:]
    )


@pytest.mark.parametrize(
    ("real", "heard", "margin", "sure"),
    [
        (True, "4480", 100.0, True),
        (True, "4480", 6.0, False),  # another real code scores close
        (True, "4460", 100.0, False),  # the free first pass heard other digits
        (True, "", 100.0, False),  # or none
        (False, "4480", 100.0, False),  # no real code
    ],
)
def test_code_check_is_sure_only_of_a_real_code_both_passes_heard_far_ahead(
    real: bool, heard: str, margin: float, sure: bool
) -> None:
    assert CodeCheck(heard, "4480", real, margin, None, 40).sure is sure


def test_code_check_takes_the_letters_the_first_pass_dropped() -> None:
    assert CodeCheck("5531", "ALM5531", True, 100.0, None, 40).sure


def test_trie_rule_lets_codes_share_their_start() -> None:
    forms = ["four four eight zero", "four four seven one", "five one three three"]

    assert (
        trie_rule(forms) == "((four (four ((eight zero) | (seven one)))) | (five one three three))"
    )
