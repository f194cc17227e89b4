"""Date windows said in words, resolved against a given today.

``read_window`` finds the window a question states: ranges ("between 1 and 31
December 2026", "from 11/01 to 11/15"), bounds ("since September", "by Friday",
"before Christmas", "until the end of the month"), periods ("in November", "Q3",
"this week", "last quarter", "year to date") and counts ("next 7 days" is today
and the six days after). Both ends are inclusive. A date it cannot place for
sure (03/04/2026, which is March 4 in the US and 3 April elsewhere) or a date
word it cannot read is not guessed: ``doubt`` says what to ask instead.

Example:
    >>> from datetime import date
    >>> today = date(2026, 11, 25)
    >>> window("what expires this week", today)
    (datetime.date(2026, 11, 23), datetime.date(2026, 11, 29))
    >>> window("in the next 10 days", today)
    (datetime.date(2026, 11, 25), datetime.date(2026, 12, 4))
    >>> window("what did sysco get in march", today)
    (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    >>> window("expiry between 1 and 31 December", today, future=True)
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    >>> window("since september", today), window("in Q3", today)[0]
    ((datetime.date(2026, 9, 1), datetime.date(2026, 11, 25)), datetime.date(2026, 7, 1))
    >>> read_window("shipped on 03/04/2026", today).doubt
    'Is 03/04/2026 the 3rd of April or March 4? Say the month in words, please.'
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["MONTHS", "WEEKDAYS", "Window", "read_window", "window"]

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
WEEKDAYS.update({name.lower(): number for number, name in enumerate(calendar.day_abbr)})
WEEKDAYS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})
NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "sixty": 60, "ninety": 90,
    "a": 1, "an": 1, "a couple of": 2, "a few": 3,
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30,
}  # fmt: skip
for _unit, _word in enumerate(
    ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"), 1
):
    ORDINALS[f"twenty {_word}"] = ORDINALS[f"twenty-{_word}"] = 20 + _unit
ORDINALS["thirty first"] = ORDINALS["thirty-first"] = 31
UNITS = {"day": 1, "week": 7, "fortnight": 14, "month": 0, "year": 0}
QUARTER_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
QUARTER_WORDS.update({"fourth": 4, "4th": 4})

_MONTH = r"(?P<{}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")(?![a-z])\.?"
_ORDINAL = "|".join(sorted(ORDINALS, key=len, reverse=True))
_DAYNUM = r"(?P<{}>\d{{1,2}}(?:st|nd|rd|th)?(?!\d)|" + _ORDINAL + r")"
_YEAR = r"(?:,?\s*(?P<{}>(?:19|20)\d\d|'\d\d))?"
_WEEKDAY = r"(?P<{}>" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")(?![a-z])\.?"
_COUNT = r"(?P<count>\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + r")"
_PERIOD = r"(?P<unit>days?|weeks?|fortnights?|months?|years?)"
_HOLIDAYS = (
    r"(?P<{}>christmas eve|christmas|xmas|new year'?s eve|new year'?s(?: day)?|new year|"
    r"thanksgiving|halloween|independence day|the fourth of july|july 4th|"
    r"valentine'?s(?: day)?|easter|labou?r day|memorial day)"
)
_ENDS = r"(?P<edge>end|start|beginning|middle)"
_UNIT_WORDS = (
    r"(?:packs?|oz|ounces?|inch(?:es)?|in\b|lbs?|kg|g\b|ml|l\b|cases?|ct\b|count|cm|mm|%|x\b|ea\b)"
)
_SPAN = r"(?P<span>week|wk|month|mo|quarter|qtr|year|yr)\b"


def _day_expr(tag: str) -> str:
    """A regular expression for one day, its groups named with ``tag``."""
    day, month, year = f"{tag}d", f"{tag}m", f"{tag}y"
    return (
        r"(?:"
        + rf"(?P<{tag}iso>\d{{4}}-\d{{1,2}}-\d{{1,2}})"
        + rf"|(?P<{tag}num>(?:\d{{1,2}}/\d{{1,2}}(?:/(?:\d{{4}}|\d{{2}}))?"
        + rf"|\d{{1,2}}\.\d{{1,2}}\.(?:\d{{4}}|\d{{2}}))(?![\d/.])(?!\s*{_UNIT_WORDS}))"
        + r"|(?:the\s+)?"
        + _DAYNUM.format(day)
        + r"(?:\s+of)?\s+"
        + _MONTH.format(month)
        + _YEAR.format(year)
        + r"|"
        + _MONTH.format(month + "2")
        + r"\s+(?:the\s+)?"
        + _DAYNUM.format(day + "2")
        + _YEAR.format(year + "2")
        + r"|"
        + _HOLIDAYS.format(f"{tag}h")
        + r"|(?:(?P<"
        + tag
        + r"wd_rel>next|last|this|coming)\s+)?"
        + _WEEKDAY.format(f"{tag}wd")
        + r"|(?P<"
        + tag
        + r"rel>today|tomorrow|yesterday|now|this morning|this afternoon|this evening|tonight)"
        + r"|"
        + _MONTH.format(f"{tag}mo")
        + _YEAR.format(f"{tag}moy")
        + r")"
    )


@dataclass(frozen=True)
class Window:
    """The window a question states (either end may be open), the words that stated
    it, and what to ask instead when a date could not be placed for sure."""

    since: date | None = None
    until: date | None = None
    said: str | None = None
    doubt: str | None = None


class _Doubt(Exception):
    """A date that cannot be placed for sure; the message asks which it is."""


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` ``weekday`` of a month (``nth`` -1: the last)."""
    if nth < 0:
        last = _month_end(year, month)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _holiday(name: str, year: int) -> date:
    name = name.replace("'", "")
    if name in ("christmas", "xmas"):
        return date(year, 12, 25)
    if name == "christmas eve":
        return date(year, 12, 24)
    if name in ("new years eve",):
        return date(year, 12, 31)
    if name.startswith("new year"):
        return date(year, 1, 1)
    if name == "thanksgiving":
        return _nth_weekday(year, 11, 3, 4)
    if name == "halloween":
        return date(year, 10, 31)
    if name in ("independence day", "the fourth of july", "july 4th"):
        return date(year, 7, 4)
    if name.startswith("valentine"):
        return date(year, 2, 14)
    if name == "easter":
        return _easter(year)
    if name.startswith("lab"):
        return _nth_weekday(year, 9, 0, 1)
    return _nth_weekday(year, 5, 0, -1)  # memorial day


def _year(text: str | None) -> int | None:
    if not text:
        return None
    return 2000 + int(text[1:]) if text.startswith("'") else int(text)


def _daynum(text: str) -> int:
    text = text.lower()
    return ORDINALS[text] if text in ORDINALS else int(re.sub(r"\D", "", text))


def _safe(year: int, month: int, day: int, said: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as err:
        raise _Doubt(f"{said} is no date I know. Say it another way, please.") from err


def _placed(day: date, today: date, *, future: bool, explicit: bool) -> date:
    """A date said without a year, moved to the nearest such date past or future."""
    if explicit:
        return day
    if future and day < today - timedelta(days=31):
        return day.replace(year=day.year + 1)
    if not future and day > today + timedelta(days=31):
        return day.replace(year=day.year - 1)
    return day


def _order(text: str) -> str | None:
    """ "dm" or "md" where a numeric date shows its order (25/12, 12/25), else None."""
    first, second = (int(p) for p in re.split(r"[/.]", text)[:2])
    if first > 12 >= second or ("." in text and second <= 12):
        return "dm"  # 25/12, and 01.12.2026: dotted dates put the day first
    if second > 12 >= first:
        return "md"
    return None


def _numeric(text: str, today: date, order: str | None = None) -> tuple[date, bool]:
    parts = [int(p) for p in re.split(r"[/.]", text)]
    first, second = parts[0], parts[1]
    year = parts[2] if len(parts) > 2 else today.year
    year = year + 2000 if year < 100 else year
    order = _order(text) or order  # the other end of a range may show it
    if order == "dm":
        month, day = second, first  # 25/12: the day first
    elif order == "md":
        month, day = first, second  # 12/25: the month first
    elif first == second:
        month = day = first
    elif first <= 12 and second <= 12:
        raise _Doubt(
            f"Is {text} the {_ordinal(first)} of {calendar.month_name[second]} or "
            f"{calendar.month_name[first]} {second}? Say the month in words, please."
        )
    else:
        raise _Doubt(f"{text} is no date I know. Say it another way, please.")
    return _safe(year, month, day, text), len(parts) > 2


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _one_day(
    match: re.Match[str], tag: str, today: date, *, future: bool, order: str | None = None
) -> tuple[date, date] | None:
    """The first and last day a matched day expression stands for (a month alone is
    all of it), or None when the match holds no day of this ``tag``."""
    group = match.groupdict()
    if group.get(f"{tag}iso"):
        try:
            day = date.fromisoformat(_iso(group[f"{tag}iso"]))
        except ValueError as err:
            raise _Doubt(f"{group[f'{tag}iso']} is no date I know.") from err
        return day, day
    if group.get(f"{tag}num"):
        day, explicit = _numeric(group[f"{tag}num"], today, order)
        day = _placed(day, today, future=future, explicit=explicit)
        return day, day
    for suffix in ("", "2"):
        if group.get(f"{tag}m{suffix}"):
            month = MONTHS[group[f"{tag}m{suffix}"].lower().rstrip(".")]
            year = _year(group.get(f"{tag}y{suffix}"))
            said = match.group(0)
            day = _safe(year or today.year, month, _daynum(group[f"{tag}d{suffix}"]), said)
            day = _placed(day, today, future=future, explicit=year is not None)
            return day, day
    if group.get(f"{tag}h"):
        name = group[f"{tag}h"].lower()
        day = _holiday(name, today.year)
        if future and day < today:
            day = _holiday(name, today.year + 1)
        elif not future and day > today:
            day = _holiday(name, today.year - 1)
        return day, day
    if group.get(f"{tag}wd"):
        weekday = WEEKDAYS[group[f"{tag}wd"].lower().rstrip(".")]
        relation = (group.get(f"{tag}wd_rel") or "").lower()
        ahead = (weekday - today.weekday()) % 7
        if relation == "last" or (not relation and not future):
            day = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
        elif relation == "next":
            day = today + timedelta(days=ahead or 7)
        else:
            day = today + timedelta(days=ahead)
        return day, day
    if group.get(f"{tag}rel"):
        shift = {"tomorrow": 1, "yesterday": -1}.get(group[f"{tag}rel"].lower(), 0)
        day = today + timedelta(days=shift)
        return day, day
    if group.get(f"{tag}mo"):
        month = MONTHS[group[f"{tag}mo"].lower().rstrip(".")]
        year = _year(group.get(f"{tag}moy"))
        if year is None:
            year = _month_year(month, today, future=future)
        return date(year, month, 1), _month_end(year, month)
    return None


def _iso(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _month_year(month: int, today: date, *, future: bool) -> int:
    """The year of a month named alone: the latest such month for what happened, the
    next one (this month included) for what expires."""
    if future:
        return today.year if month >= today.month else today.year + 1
    return today.year if month <= today.month else today.year - 1


SPANS = {"wk": "week", "mo": "month", "qtr": "quarter", "yr": "year"}


def _period(span: str, shift: int, today: date) -> tuple[date, date]:
    """This (0), next (1) or last (-1) week, month, quarter or year."""
    span = SPANS.get(span, span)
    if span == "week":
        start = today - timedelta(days=today.weekday()) + timedelta(days=7 * shift)
        return start, start + timedelta(days=6)
    if span == "month":
        start = _add_months(today, shift)
        return start, _month_end(start.year, start.month)
    if span == "quarter":
        first = _add_months(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), 3 * shift)
        last = _add_months(first, 2)
        return first, _month_end(last.year, last.month)
    year = today.year + shift
    return date(year, 1, 1), date(year, 12, 31)


def _quarter(number: int, year: int) -> tuple[date, date]:
    first = date(year, 3 * (number - 1) + 1, 1)
    return first, _month_end(year, 3 * number)


def _span_count(count: str, unit: str) -> tuple[int, str]:
    number = int(count) if count.isdigit() else NUMBERS[count]
    return number, unit.rstrip("s")


def _same_day(day: date, months: int) -> date:
    """The same day of the month ``months`` away (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _months(number: int, unit: str) -> int:
    return number * (12 if unit == "year" else 1)


def _forward(today: date, number: int, unit: str) -> date:
    """The last day of ``number`` units counted from today, today being the first."""
    if unit in ("month", "year"):
        return _same_day(today, _months(number, unit)) - timedelta(days=1)
    return today + timedelta(days=number * UNITS[unit] - 1)


def _backward(today: date, number: int, unit: str) -> date:
    """The first day of the ``number`` units that end today."""
    if unit in ("month", "year"):
        return _same_day(today, -_months(number, unit)) + timedelta(days=1)
    return today - timedelta(days=number * UNITS[unit] - 1)


_DAY_A = _day_expr("a")
_DAY_B = _day_expr("b")
_BARE_DAY_A = r"(?P<ad0>\d{1,2}(?:st|nd|rd|th)?|" + _ORDINAL + r")"
_RANGES = (
    re.compile(  # "between 1 and 31 December": the first day alone
        rf"\b(?:between|from)\s+(?:the\s+)?{_BARE_DAY_A}\s+"
        rf"(?:and|to|until|till|through|thru|-)\s+{_DAY_B}",
        re.I,
    ),
    re.compile(
        rf"\b(?:(?:between|from)\s+)?{_DAY_A}\s*(?:and|to|until|till|through|thru|-|\u2013)\s*{_DAY_B}",
        re.I,
    ),
)
_QUARTER = re.compile(
    r"\b(?:q(?P<qn>[1-4])|(?P<qw>first|1st|second|2nd|third|3rd|fourth|4th)\s+quarter)"
    r"(?:\s+(?:of\s+)?(?P<qy>(?:19|20)\d\d))?\b",
    re.I,
)
_EDGE = re.compile(
    rf"\b(?:(?:(?P<bound>by|before|until|till|through|thru|up to|to)|"
    rf"(?P<opening>since|from|after|starting(?:\s+from)?))\s+)?(?:the\s+)?{_ENDS}\s+of\s+"
    rf"(?:the\s+)?(?P<rel>this|next|last|the)?\s*{_SPAN}\b",
    re.I,
)
_AHEAD = re.compile(
    rf"\b(?:next|coming|within(?:\s+the\s+next)?|in\s+the\s+next|over\s+the\s+next|in)\s+"
    rf"{_COUNT}\s+{_PERIOD}\b",
    re.I,
)
_BEHIND = re.compile(
    rf"\b(?:last|past|previous|over\s+the\s+last|in\s+the\s+last|within\s+the\s+last)\s+"
    rf"{_COUNT}\s+{_PERIOD}\b",
    re.I,
)
_AGO = re.compile(rf"\b{_COUNT}\s+{_PERIOD}\s+ago\b", re.I)
_RELATIVE = re.compile(r"\b(?P<rel>this|next|last|coming|previous|past)\s+" + _SPAN + r"\b", re.I)
_TO_DATE = re.compile(
    r"\b(?P<span>year|month|quarter|week)[\s-]to[\s-]date\b|\b(?P<abbr>ytd|mtd|qtd)\b", re.I
)
_BOUND = re.compile(
    rf"\b(?P<word>since|after|from|starting|before|until|till|til|by|through|thru|up to|no later than|earlier than)"
    rf"\s+(?:the\s+)?{_DAY_A}",
    re.I,
)
_BOUND_DAY = re.compile(
    r"\b(?P<word>since|after|from|starting|before|until|till|by)\s+the\s+"
    r"(?P<day>\d{1,2}(?:st|nd|rd|th)|" + _ORDINAL + r")\b"
    r"(?:\s+of\s+(?:the|this)\s+month\b|(?!\s+(?:of\s+)?[a-z]{3,}))",
    re.I,
)
_BARE_DAYS = re.compile(  # "from the 10th to the 15th": days of the month we are in
    r"\b(?:between|from)\s+the\s+(?P<d1>\d{1,2}(?:st|nd|rd|th)|" + _ORDINAL + r")\s+"
    r"(?:and|to|-|through|thru|until|till)\s+(?:the\s+)?(?P<d2>\d{1,2}(?:st|nd|rd|th)|"
    + _ORDINAL
    + r")\b(?!\s+(?:of\s+)?[a-z]{3,}(?<!month))",
    re.I,
)
_FORTNIGHT = re.compile(r"\b(?:next|coming|upcoming)\s+(?:two\s+weeks|fortnight)\b", re.I)
_IN_MONTH = re.compile(rf"\b(?:in|during|for|of|over|throughout|on|last)\s+{_DAY_A}", re.I)
_ON_DAY = re.compile(rf"(?:^|\b)(?:on\s+)?{_DAY_A}", re.I)
_DATE_WORDS = re.compile(
    # "may" and "march" are verbs and "sat" and "sun" words too often to ask about alone
    r"\b(?:"
    + "|".join(sorted(set(MONTHS) - {"may", "march", "mar"}, key=len, reverse=True))
    + r")\b\.?"
    r"|\b(?:q[1-4]|quarter|fortnight)\b"
    r"|\b(?:around|about|near|for|at|over|during|till|til)\s+(?:christmas|xmas|easter|thanksgiving)\b"
    r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b(?!\s*" + _UNIT_WORDS + r")|\b\d{4}-\d{1,2}-\d{1,2}\b",
    re.I,
)


_MONTH_DAYS = re.compile(  # "nov 1-15", "between november 1 and 15", "december 1 to 3"
    r"\b(?:between\s+|from\s+)?"
    + _MONTH.format("mm")
    + r"\s+(?:the\s+)?"
    + _DAYNUM.format("d1")
    + r"\s*(?:-|\u2013|to|and|through|thru|until|till)\s*(?:the\s+)?"
    + _DAYNUM.format("d2")
    + _YEAR.format("yy")
    + r"(?!\s*(?:/|"
    + _MONTH.format("x")
    + r"))",
    re.I,
)
_DAYS_MONTH = re.compile(  # "10-12 november", "3 to 5 december 2026"
    r"\b(?:between\s+|from\s+)?(?:the\s+)?"
    + _DAYNUM.format("d1")
    + r"\s*(?:-|\u2013|to|and|through|thru|until|till)\s*(?:the\s+)?"
    + _DAYNUM.format("d2")
    + r"(?:\s+of)?\s+"
    + _MONTH.format("mm")
    + _YEAR.format("yy"),
    re.I,
)
_YEAR_ALONE = re.compile(
    r"\b(?P<word>in|during|for|of|since|from|throughout)\s+(?P<year>(?:19|20)\d\d)\b(?![-/.]\d)",
    re.I,
)
_LAST_YEAR = re.compile(r"^\s*(?:of\s+)?(?:last|previous)\s+year\b", re.I)


def _month_days(match: re.Match[str], today: date, *, future: bool) -> Window:
    month = MONTHS[match["mm"].lower().rstrip(".")]
    year = _year(match["yy"]) or _month_year(month, today, future=future)
    first, last = _daynum(match["d1"]), _daynum(match["d2"])
    start, end = _safe(year, month, first, match[0]), _safe(year, month, last, match[0])
    if start > end:
        raise _Doubt(
            f"The window “{match[0]}” ends before it starts. Say the first day, then the last."
        )
    return Window(start, end, said=match[0])


def read_window(text: str, today: date, *, future: bool = False) -> Window:
    """The window a question states, its words, or what to ask when in doubt.

    ``future`` reads a month, holiday or day said without a year as the next one
    (what expires in March) instead of the last one (what Sysco got in March).
    """
    said = text.lower().replace("\u2019", "'")
    try:
        return _read(said, today, future=future)
    except _Doubt as doubt:
        return Window(doubt=str(doubt))


def _read(said: str, today: date, *, future: bool) -> Window:
    for within_month in (_MONTH_DAYS, _DAYS_MONTH):
        if match := within_month.search(said):
            return _month_days(match, today, future=future)
    for pattern in _RANGES:
        if match := pattern.search(said):
            found = _range(match, today, future=future)
            if found.since is not None:
                return found
    if match := _QUARTER.search(said):
        number = int(match["qn"]) if match["qn"] else QUARTER_WORDS[match["qw"].lower()]
        year = int(match["qy"]) if match["qy"] else today.year
        if not match["qy"] and _LAST_YEAR.match(said[match.end() :]):
            year -= 1  # "Q4 last year"
        return Window(*_quarter(number, year), said=match[0])
    if match := _EDGE.search(said):
        return _edge(match, today, future=future)
    if match := _AHEAD.search(said):
        number, unit = _span_count(match["count"], match["unit"])
        return Window(today, _forward(today, number, unit), said=match[0])
    if match := _BEHIND.search(said):
        number, unit = _span_count(match["count"], match["unit"])
        return Window(_backward(today, number, unit), today, said=match[0])
    if match := _AGO.search(said):  # "three weeks ago": that day
        number, unit = _span_count(match["count"], match["unit"])
        start = _backward(today, number, unit) - timedelta(days=1)
        return Window(start, start, said=match[0])
    if match := _TO_DATE.search(said):
        span = (
            match["span"] or {"ytd": "year", "mtd": "month", "qtd": "quarter"}[match["abbr"]]
        ).lower()
        return Window(_period(span, 0, today)[0], today, said=match[0])
    if match := _RELATIVE.search(said):
        shift = {"this": 0, "next": 1, "coming": 1}.get(match["rel"].lower(), -1)
        first, last = _period(match["span"].lower(), shift, today)
        if shift == 0 and re.search(r"\bso far\b|\bto date\b", said):
            last = today  # "this year so far"
        return Window(first, last, said=match[0])
    if match := _YEAR_ALONE.search(said):
        year = int(match["year"])
        if match["word"].lower() in ("since", "from"):
            return Window(date(year, 1, 1), None if future else today, said=match[0])
        return Window(date(year, 1, 1), date(year, 12, 31), said=match[0])
    if match := _BOUND.search(said):
        return _bounded(match, today, future=future)
    if match := _BARE_DAYS.search(said):
        day_one, day_two = _daynum(match["d1"]), _daynum(match["d2"])
        month = today.replace(day=1)
        if (day_two > today.day) != future:  # the nearest such days, past or future
            month = _add_months(today, 1 if future else -1)
        start = _safe(month.year, month.month, day_one, match[0])
        end = _safe(month.year, month.month, day_two, match[0])
        if start > end:
            raise _Doubt(
                f"The window “{match[0]}” ends before it starts. Say the first day, then the last."
            )
        return Window(start, end, said=match[0])
    if match := _BOUND_DAY.search(said):  # "since the 3rd": a day of this month
        return _bounded_day(match, today, future=future)
    if match := _FORTNIGHT.search(said):
        return Window(today, today + timedelta(days=13), said=match[0])
    if match := _IN_MONTH.search(said):
        days = _one_day(match, "a", today, future=future)
        if days:
            return Window(*days, said=match[0])
    for match in _ON_DAY.finditer(said):
        if not match[0].strip():
            continue
        if re.search(
            r"\b(?:around|about|near|roughly|circa|approximately)\s*$", said[: match.start()]
        ):
            break  # "around Easter" is no day: ask
        days = _one_day(match, "a", today, future=future)
        if days and _standalone(match, said):
            return Window(*days, said=match[0].strip())
    if word := _DATE_WORDS.search(said):
        return Window(
            doubt=f"I couldn't read the dates in “{word[0]}”. Say them like "
            "“from 1 December to 31 December 2026”, please."
        )
    return Window()


def _standalone(match: re.Match[str], said: str) -> bool:
    """Whether a bare day word is a date, not a name ("the march order", "sun dried"
    are no dates; "on friday", "12/01/2026", "december 3", "christmas" are)."""
    group = match.groupdict()
    if group.get("amo"):  # a month alone, not after a date word: "march" may be a verb
        return False
    placed = re.search(
        r"\b(?:on|by|since|until|before|after|last|next|this)\s*$", said[: match.start()]
    )
    if group.get("awd"):  # "next friday", "on friday": placed; "friday" alone may be a name
        return placed is not None or bool(group.get("awd_rel"))
    if group.get("arel") == "now" or group.get("ah"):  # "Easter Farms" is a name
        return placed is not None
    return True


def _bounded_day(match: re.Match[str], today: date, *, future: bool) -> Window:
    number = _daynum(match["day"])
    month_start = today.replace(day=1)
    if (number > today.day) != future:  # the nearest such day, past or future
        month_start = _add_months(today, 1 if future else -1)
    day = _safe(month_start.year, month_start.month, number, match[0])
    word = match["word"].lower()
    if word in ("since", "after", "from", "starting"):
        start = day + timedelta(days=1) if word == "after" else day
        return Window(start, None if future else today, said=match[0])
    end = day - timedelta(days=1) if word == "before" else day
    return Window(None, end, said=match[0])


def _range(match: re.Match[str], today: date, *, future: bool) -> Window:
    group = match.groupdict()
    # "from 11/01 to 11/15": the end that shows its order tells the other's.
    orders = [_order(group[key]) for key in ("anum", "bnum") if group.get(key)]
    order = next((found for found in orders if found), None)
    end_days = _one_day(match, "b", today, future=future, order=order)
    if end_days is None:
        return Window()
    last = end_days[1]
    if group.get("ad0"):  # "between 1 and 31 December": the first day shares the month
        start = _safe(last.year, last.month, _daynum(group["ad0"]), match[0])
    else:
        start_days = _one_day(match, "a", today, future=future, order=order)
        if start_days is None:
            return Window()
        start = start_days[0]
        stated_year = any(group.get(k) for k in ("ay", "ay2", "amoy")) or group.get("aiso")
        if not stated_year and start > last and start.replace(year=last.year) <= last:
            start = start.replace(year=last.year)  # "from 1 November to 30 November 2026"
        if not stated_year and start > last:
            start = start.replace(year=start.year - 1)  # "dec 28 to jan 3": the turn of a year
    if start > last:
        raise _Doubt(
            f"The window “{match[0]}” ends before it starts. Say the first day, then the last."
        )
    return Window(start, last, said=match[0])


def _edge(match: re.Match[str], today: date, *, future: bool) -> Window:
    relation = {"next": 1, "last": -1}.get((match["rel"] or "").lower(), 0)
    first, last = _period(match["span"].lower(), relation, today)
    edge = match["edge"].lower()
    point = last if edge == "end" else first
    if edge == "middle":
        point = first + (last - first) / 2
    if match["opening"]:  # "since the start of the month": from then until today
        return Window(point, None if future else today, said=match[0])
    bound = (match["bound"] or "").lower()
    if bound:  # "by the end of the month": until then
        return Window(None, point, said=match[0])
    if edge == "end" and future:  # "expiring end of month": from today until then
        return Window(today, point, said=match[0])
    return Window(point, point, said=match[0])


def _bounded(match: re.Match[str], today: date, *, future: bool) -> Window:
    word = match["word"].lower()
    starts = word in ("since", "after", "from", "starting")
    days = _one_day(match, "a", today, future=future)
    if days is None:
        return Window()
    first, last = days
    if starts:
        start = last + timedelta(days=1) if word == "after" else first
        return Window(start, None if future else today, said=match[0])
    end = first - timedelta(days=1) if word in ("before", "earlier than") else last
    return Window(None, end, said=match[0])


def window(text: str, today: date, *, future: bool = False) -> tuple[date | None, date | None]:
    """The (since, until) window a question names, or (None, None) (see ``read_window``)."""
    found = read_window(text, today, future=future)
    return found.since, found.until
