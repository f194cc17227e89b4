"""What a lot code may be: the one rule every entry checks (CSV, events, EPCIS,
questions), the same on SQLite and PostgreSQL.

A lot code is what GS1 allows in a batch/lot number, AI (10): the 82 characters of
GS1's CSET 82 (letters, digits and ``!"%&'()*+,-./:;<=>?_``), starting with a letter
or digit, at most ``MAX_LOT_CODE`` characters (the database column's width). Spaces,
control characters, NUL, backticks and letters outside ASCII are not allowed.

Example:
    >>> lot_code_problem("L/24/001") is None
    True
    >>> print(lot_code_problem("9102`x`"))
    a lot code may not hold '`' (allowed: letters, digits and !"%&'()*+,-./:;<=>?_)
    >>> lot_code_problem("x" * 65)
    'a lot code has at most 64 characters (this one has 65)'
"""

from __future__ import annotations

import string

__all__ = ["LOT_CODE_CHARACTERS", "MAX_LOT_CODE", "lot_code_problem"]

MAX_LOT_CODE = 64
_PUNCTUATION = "!\"%&'()*+,-./:;<=>?_"
LOT_CODE_CHARACTERS = frozenset(string.ascii_letters + string.digits + _PUNCTUATION)
"""GS1's CSET 82, the characters of AI (10)."""


def lot_code_problem(code: str) -> str | None:
    """Why ``code`` cannot be a lot code, or None when it can."""
    if not code:
        return "a lot code cannot be empty"
    if len(code) > MAX_LOT_CODE:
        return f"a lot code has at most {MAX_LOT_CODE} characters (this one has {len(code)})"
    bad = next((ch for ch in code if ch not in LOT_CODE_CHARACTERS), None)
    if bad is not None:
        shown = repr(bad) if bad.isprintable() else f"U+{ord(bad):04X}"
        return f"a lot code may not hold {shown} (allowed: letters, digits and {_PUNCTUATION})"
    if not code[0].isalnum():
        return "a lot code starts with a letter or digit"
    return None
