"""Date windows said in words, resolved against a given today.

Example:
    >>> from datetime import date
    >>> window("what expires this week", date(2026, 11, 25))
    (datetime.date(2026, 11, 23), datetime.date(2026, 11, 29))
    >>> window("in the next 10 days", date(2026, 11, 25))
    (datetime.date(2026, 11, 25), datetime.date(2026, 12, 5))
    >>> window("what did sysco get in march", date(2026, 11, 25))
    (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

__all__ = ["window"]

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14,
    "fifteen": 15, "twenty": 20, "thirty": 30, "a": 1, "an": 1,
}  # fmt: skip
UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30}

_COUNT = r"(\d+|" + "|".join(NUMBERS) + r")"
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _named_day(month: int, day: int, today: date, *, past: bool) -> date:
    """A month and day without a year: the nearest such day in the past or future."""
    candidate = date(today.year, month, min(day, calendar.monthrange(today.year, month)[1]))
    if past and candidate > today:
        return candidate.replace(year=today.year - 1)
    if not past and candidate < today:
        return candidate.replace(year=today.year + 1)
    return candidate


def window(text: str, today: date, *, future: bool = False) -> tuple[date | None, date | None]:
    """The (since, until) window a question names, or (None, None).

    A month named alone is the latest such month for past events, and the next
    one (this month included) when ``future`` (what expires in March).
    """
    said = text.lower()
    week_start = today - timedelta(days=today.weekday())
    if re.search(r"\btoday\b", said):
        return today, today
    if re.search(r"\btomorrow\b", said):
        return today + timedelta(days=1), today + timedelta(days=1)
    if re.search(r"\byesterday\b", said):
        return today - timedelta(days=1), today - timedelta(days=1)
    if match := re.search(
        rf"\b(?:next|coming|within(?: the next)?|in the next)\s+{_COUNT}\s+(days?|weeks?|months?)\b",
        said,
    ):
        return today, today + timedelta(days=_count(match[1]) * UNITS[match[2]])
    if match := re.search(rf"\b(?:last|past|previous)\s+{_COUNT}\s+(days?|weeks?|months?)\b", said):
        return today - timedelta(days=_count(match[1]) * UNITS[match[2]]), today
    if re.search(r"\bthis week\b", said):
        return week_start, week_start + timedelta(days=6)
    if re.search(r"\bnext week\b", said):
        return week_start + timedelta(days=7), week_start + timedelta(days=13)
    if re.search(r"\blast week\b", said):
        return week_start - timedelta(days=7), week_start - timedelta(days=1)
    if re.search(r"\bthis month\b", said):
        return today.replace(day=1), _month_end(today.year, today.month)
    if re.search(r"\bnext month\b", said):
        start = _add_months(today, 1)
        return start, _month_end(start.year, start.month)
    if re.search(r"\blast month\b", said):
        start = _add_months(today, -1)
        return start, _month_end(start.year, start.month)
    if match := re.search(rf"\bsince\s+(?:last\s+)?({'|'.join(WEEKDAYS)})\b", said):
        back = (today.weekday() - WEEKDAYS[match[1]]) % 7 or 7
        return today - timedelta(days=back), today
    if match := re.search(
        rf"\b(since|after|from|before|until|till|by)\s+{_MONTH}\s+{_DAY}\b", said
    ):
        return _bound(
            match[1],
            _named_day(
                MONTHS[match[2]], int(match[3]), today, past=match[1] in ("since", "after", "from")
            ),
            today,
        )
    if match := re.search(
        rf"\b(since|after|from|before|until|till|by)\s+(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}", said
    ):
        return _bound(
            match[1],
            _named_day(
                MONTHS[match[3]], int(match[2]), today, past=match[1] in ("since", "after", "from")
            ),
            today,
        )
    if match := re.search(rf"\b(?:in|during|for|of)\s+{_MONTH}(?:\s+(\d{{4}}))?\b", said):
        month = MONTHS[match[1]]
        if match[2]:
            year = int(match[2])
        elif future:
            year = today.year if month >= today.month else today.year + 1
        else:
            year = today.year if month <= today.month else today.year - 1
        return date(year, month, 1), _month_end(year, month)
    if match := re.search(
        r"\b(\d{4}-\d{2}-\d{2})\s*(?:to|-|until|through)\s*(\d{4}-\d{2}-\d{2})\b", said
    ):
        return date.fromisoformat(match[1]), date.fromisoformat(match[2])
    return None, None


def _bound(word: str, day: date, today: date) -> tuple[date | None, date | None]:
    if word in ("since", "after", "from"):
        return day + timedelta(days=1 if word == "after" else 0), today
    return None, day - timedelta(days=1 if word == "before" else 0)
