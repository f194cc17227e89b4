"""Values from data and users made safe for the markup they go into.

Slack's mrkdwn reads ``<!channel>``, ``<@U123>`` and ``<https://x|text>`` as a ping,
a mention and a disguised link: every value that comes from a plant's data or from a
person (a lot code, a party name, a QC value, a reference) is escaped by Slack's rules
(``&``, ``<``, ``>``) before it is sent, and a code span cannot be broken out of. A
spreadsheet cell that a spreadsheet would run as a formula is neutralised as OWASP
recommends (a leading ``'``).

Answer texts are Slack mrkdwn built from raw values (``code`` keeps their code spans
whole); the Slack adapter escapes each text as a whole with ``slack`` just before it
sends it, and adds its own mentions after.

Example:
    >>> slack("9102<!channel> & <https://evil.example|details>")
    '9102&lt;!channel&gt; &amp; &lt;https://evil.example|details&gt;'
    >>> code("L`1` *x*") == "`L\u02cb1\u02cb *x*`"
    True
    >>> cell('=HYPERLINK("http://evil.example/x","Acme")'), cell("-5"), cell(-5)
    ('\\'=HYPERLINK("http://evil.example/x","Acme")', "'-5", -5)
"""

from __future__ import annotations

__all__ = ["cell", "code", "slack"]

_SLACK = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_GRAVE = "\u02cb"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def slack(text: object) -> str:
    """``text`` as Slack shows it literally: no mention, ping or link can come of it."""
    return str(text).translate(_SLACK)


def code(value: object) -> str:
    """``value`` as a code span that stays one: its backticks become a modifier
    grave (U+02CB) and its line breaks spaces (the text it goes into is escaped with
    ``slack`` as a whole)."""
    said = str(value).replace("`", _GRAVE).replace("\r", " ").replace("\n", " ")
    return f"`{said}`"


def cell(value: object) -> object:
    """A spreadsheet cell: text a spreadsheet would run as a formula gets a leading
    ``'``; numbers and everything else are kept."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
