"""Matching what people call a party or product to the names in the master data.

Example:
    >>> best_matches("acme", {1: ("Acme Grain Co.", "ACME"), 2: ("Sysco", "SYSCO")})
    [1]
    >>> best_matches("the granola recipe", {7: ("Honey Almond Granola 500 g", "GRAN-500")})
    [7]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from difflib import SequenceMatcher

__all__ = ["best_matches"]

_NOISE = frozenset(
    [
        "the",
        "a",
        "an",
        "our",
        "their",
        "my",
        "of",
        "for",
        "from",
        "in",
        "to",
        "recipe",
        "formula",
        "process",
        "co",
        "company",
        "inc",
        "ltd",
        "llc",
        "corp",
        "corporation",
        "s",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.casefold()) if word not in _NOISE]


def _score(query: str, name: str, code: str) -> float:
    if query.casefold() in (name.casefold(), code.casefold()):
        return 1.0
    wanted, have = _words(query), _words(name)
    if not wanted:
        return 0.0
    if all(any(word.startswith(w) or w.startswith(word) for word in have) for w in wanted):
        return 0.9
    joined = " ".join(wanted)
    best = max(
        [SequenceMatcher(None, joined, " ".join(have)).ratio()]
        + [SequenceMatcher(None, w, word).ratio() for w in wanted for word in have if len(w) > 3]
    )
    return best * 0.85


def best_matches(
    query: str, names: Mapping[int, tuple[str, str]], *, threshold: float = 0.7
) -> list[int]:
    """Ids whose (name, code) match ``query``, best first; empty when none is close."""
    scored = [
        (score, key)
        for key, (name, code) in names.items()
        if (score := _score(query, name, code)) >= threshold
    ]
    scored.sort(key=lambda pair: (-pair[0], names[pair[1]][0]))
    return [key for _, key in scored]
