"""A heard lot code against the plant's real ones: which lots it may be, and how sure.

A recogniser (or a phone line's) hears a code character by character, each with
a probability of being right. On a plant of 300,000 lots almost every misheard
digit spells another real lot, so a heard code is never simply looked up: every
real code of the same length is scored as the code actually said, given what
was heard (a character heard as said with its probability, heard wrong with the
rest shared among the other nine), and the scores become probabilities over
the plant's lots. One lot far ahead of the rest is *sure*; anything less is
asked back.

Example:
    >>> index = CodeIndex()
    >>> index.add(["4471", "4480", "4402", "L-2024-0113"], ["Granola", "Bar", "Bar", "Oats"])
    >>> best = index.match("4480", [0.99] * 4)
    >>> best[0].code, round(best[0].probability, 3)
    ('4480', 1.0)
    >>> [c.code for c in index.match("4482", [0.9] * 4)]
    ['4402', '4480', '4471']
    >>> index.match("L20240113", [0.95] * 9)[0].code
    'L-2024-0113'

A recogniser that hears a code too long or too short ("one three three oh" for
5133) is answered by the codes nearest by edit distance, of any length:

    >>> index.add(["5133"], ["Trail Mix Bar"])
    >>> index.nearest("1330", limit=2)
    ['5133', '4480']
    >>> index.nearest("513301")[0]
    '5133'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SURE", "CodeIndex", "HeardLot", "code_shape", "plain"]

SURE = 0.95
"""The probability a heard code must reach to be taken without asking."""
KEPT = 5
"""Candidates returned at most."""
FLOOR = 1e-4
"""A candidate below this share of the best is no candidate."""
TRAILING = 0.5
"""The edit cost of a heard character after the end of a real code (a recogniser
that runs on into the next words hears a code too long)."""


def plain(code: str) -> str:
    """A code as heard: letters and digits only, upper case.

    Example:
        >>> plain("l-2024/0113")
        'L20240113'
    """
    return re.sub(r"[^0-9A-Z]", "", code.upper())


def code_shape(code: str) -> str:
    """A code's shape: its letters and separators as they are, each digit ``#``.

    Codes of one shape are said alike ("r", then seven digits), so a recogniser
    can listen for the shapes a plant has rather than for its every code.

    Example:
        >>> code_shape("L-2024-0113"), code_shape("R0012345"), code_shape("a12b")
        ('L-####-####', 'R#######', 'A##B')
    """
    return re.sub(r"\d", "#", code.upper())


@dataclass(frozen=True)
class HeardLot:
    """A real lot a heard code may be: its code, item and probability (0 to 1)."""

    code: str
    item: str
    probability: float


class _Group:
    """The codes of one plain length, as a matrix of characters."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.rows: list[bytes] = []
        self.owners: list[int] = []
        self._matrix: np.ndarray | None = None

    def append(self, key: str, owner: int) -> None:
        self.rows.append(key.encode("ascii"))
        self.owners.append(owner)
        self._matrix = None

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            joined = b"".join(self.rows)
            self._matrix = np.frombuffer(joined, dtype=np.uint8).reshape(-1, self.length)
        return self._matrix


class CodeIndex:
    """The plant's lot codes, newest last, grouped for scoring heard codes against."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.items: list[str] = []
        self._groups: dict[int, _Group] = {}
        self._shapes: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.codes)

    def add(self, codes: Sequence[str], items: Sequence[str]) -> None:
        """Add lots (oldest first); a code already held for the same item is skipped."""
        for code, item in zip(codes, items, strict=True):
            key = plain(code)
            if not key or not key.isascii():
                continue
            owner = len(self.codes)
            self.codes.append(code)
            self.items.append(item)
            self._groups.setdefault(len(key), _Group(len(key))).append(key, owner)
            shape = code_shape(code)
            self._shapes[shape] = self._shapes.get(shape, 0) + 1

    def shapes(self, limit: int = 60) -> list[str]:
        """The code shapes the plant has, most lots first (at most ``limit``)."""
        ranked = sorted(self._shapes.items(), key=lambda pair: (-pair[1], pair[0]))
        return [shape for shape, _ in ranked[:limit]]

    def nearest(self, heard: str, *, limit: int = 40, spread: int = 4) -> list[str]:
        """The ``limit`` real codes nearest ``heard`` by edit distance, nearest first.

        A character put in, left out or changed costs 1 (a heard character after
        the end of the code costs ``TRAILING``); codes from ``spread`` characters
        shorter to ``spread`` longer than heard are scored, the newest first among
        equals. The cost is one pass over those codes' characters, so a candidate
        list comes in a fraction of a second even from 300,000 lots.
        """
        key = plain(heard)
        if not key or limit <= 0:
            return []
        said = np.frombuffer(key.encode("ascii", "replace"), dtype=np.uint8)
        scored: list[tuple[np.ndarray, np.ndarray]] = []
        for length, group in self._groups.items():
            if abs(length - len(key)) <= spread:
                scored.append((_edit_distance(group.matrix, said), np.asarray(group.owners)))
        if not scored:
            return []
        costs = np.concatenate([cost for cost, _ in scored])
        owners = np.concatenate([owner for _, owner in scored])
        ranked = costs - owners * 1e-9  # the newest first among equals
        count = min(limit, len(ranked))
        picked = np.argpartition(ranked, count - 1)[:count]
        picked = picked[np.argsort(ranked[picked])]
        return list(dict.fromkeys(self.codes[int(owners[i])] for i in picked))

    def match(
        self, heard: str, confidences: Sequence[float], *, item: str | None = None
    ) -> list[HeardLot]:
        """The real lots ``heard`` may be, likeliest first (the newest first on a tie).

        Args:
            heard: the code as heard (separators are ignored).
            confidences: for each character of the plain code, the probability it
                was heard right (a shorter list repeats its last value).
            item: only lots of this item (a question that names one).

        Returns:
            At most five lots with their probabilities, which sum to at most 1 over
            every lot of the same length; none when no lot is that long.
        """
        key = plain(heard)
        group = self._groups.get(len(key))
        if not key or group is None or not confidences:
            return []
        said = np.frombuffer(key.encode("ascii", "replace"), dtype=np.uint8)
        sure = np.array(
            [confidences[min(i, len(confidences) - 1)] for i in range(len(key))], dtype=float
        )
        sure = np.clip(sure, 0.02, 0.999)
        # log P(heard | said): right with its probability, else one of nine others.
        miss = np.log((1 - sure) / 9) - np.log(sure)
        scores = (group.matrix != said) @ miss
        owners = np.asarray(group.owners)
        if item is not None:
            keep = np.array([self.items[o] == item for o in group.owners], dtype=bool)
            scores, owners = scores[keep], owners[keep]
        if not len(scores):
            return []
        top = float(scores.max())
        weights = np.exp(scores - top)
        total = float(weights.sum())
        # the best few, newest first among equals (a higher owner is a newer lot)
        ranked = scores + owners * 1e-9
        count = min(KEPT, len(scores))
        picked = np.argpartition(-ranked, count - 1)[:count]
        picked = picked[np.argsort(-ranked[picked])]
        found = []
        for index in picked:
            share = float(weights[index])
            if share < FLOOR:
                break
            owner = int(owners[index])
            found.append(HeardLot(self.codes[owner], self.items[owner], share / total))
        return found


def _edit_distance(codes: np.ndarray, heard: np.ndarray) -> np.ndarray:
    """The edit distance from each row of ``codes`` to ``heard`` (one dynamic-programming
    table, its rows vectorised over the codes), trailing heard characters at ``TRAILING``."""
    count, length = codes.shape
    unit, trailing = 2, round(2 * TRAILING)  # half steps, in small integers
    previous = np.tile(np.arange(length + 1, dtype=np.int16) * unit, (count, 1))
    best = previous[:, length].copy()
    current = np.empty_like(previous)
    for row, char in enumerate(heard, start=1):
        current[:, 0] = row * unit
        changed = (codes != char).astype(np.int16) * unit
        for column in range(1, length + 1):
            np.minimum(previous[:, column], current[:, column - 1], out=current[:, column])
            current[:, column] += unit
            np.minimum(
                current[:, column],
                previous[:, column - 1] + changed[:, column - 1],
                out=current[:, column],
            )
        previous, current = current, previous
        best = np.minimum(best + trailing, previous[:, length])
    return best / unit
