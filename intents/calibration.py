"""Confidence that means what it says: a parse's raw score mapped to the share of
parses at that score that were right.

The map is fitted by ``bench/calibrate.py`` on labelled questions the parser was not
trained on (the corpus's dev split and the blind rounds): the parses are sorted by
raw score, and pooling adjacent violators gives the non-decreasing share right at
each score. It is kept in ``calibration.json`` beside this module as (score up to,
share right) steps.

Example:
    >>> steps = fit([(0.4, False), (0.5, True), (0.6, False), (0.9, True), (0.95, True)])
    >>> steps
    [(0.4, 0.0), (0.6, 0.5), (0.95, 1.0)]
    >>> calibrated(0.55, steps)
    0.5
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

__all__ = ["STEPS_FILE", "calibrated", "fit", "steps"]

STEPS_FILE = Path(__file__).with_name("calibration.json")
FLOOR, CEILING = 0.05, 0.99
"""No parse is reported as certainly wrong or certainly right."""


def fit(parses: Iterable[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(score up to, share right) steps, non-decreasing, from (raw score, right) pairs."""
    tally: dict[float, list[float]] = {}  # parses of one score are one block from the start
    for score, right in parses:
        counts = tally.setdefault(score, [0.0, 0.0])
        counts[0] += right
        counts[1] += 1
    blocks: list[list[float]] = []  # [highest score, right, count]
    for score, (right_sum, count) in sorted(tally.items()):
        blocks.append([score, right_sum, count])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            top, right_sum, count = blocks.pop()
            blocks[-1] = [top, blocks[-1][1] + right_sum, blocks[-1][2] + count]
    return [(round(top, 4), round(right_sum / count, 4)) for top, right_sum, count in blocks]


@lru_cache(maxsize=1)
def steps() -> tuple[tuple[float, float], ...]:
    """The fitted steps, or none where no fit has been made (scores pass through)."""
    if not STEPS_FILE.exists():
        return ()
    return tuple((float(top), float(share)) for top, share in json.loads(STEPS_FILE.read_text()))


def calibrated(score: float, table: Sequence[tuple[float, float]] | None = None) -> float:
    """The share of parses right at a raw ``score``."""
    table = steps() if table is None else table
    if not table:
        return round(score, 2)
    share = table[-1][1]
    for top, right in table:
        if score <= top:
            share = right
            break
    return round(min(CEILING, max(FLOOR, share)), 2)
