"""Decoded barcodes and typed label text to GS1 fields, each element checked.

Each barcode is read element by element (GS1-128, GS1 DataMatrix, GS1 QR, DataBar,
GS1 Digital Link URIs plain or compressed, EAN/UPC, ITF-14), and every element is
checked on its own: the check digit of a GTIN, SSCC or GLN, a date that exists, the
characters a lot or serial may hold. A bad element is named in ``problems`` and the
good ones are kept, so one smudged date never empties a label. Each AI keeps its
meaning: (11) production, (12) due, (13) packaging, (15) best before, (16) sell by,
(17) expiry; a best-before date is never taken for the expiry.

The fields of all the barcodes on one label are combined, so an EAN-13 giving the
item beside a GS1-128 giving lot and expiry make one answer; two different GTINs
(or lots) on one label are kept, both, in ``gtins`` (``lots``), and ``conflict``
says so: the caller asks, it does not choose.

Example:
    >>> from intents.imaging import Decoded
    >>> label = read_label([
    ...     Decoded("EAN-13", "0614141999996"[1:], "]E0"),
    ...     Decoded("Code 128", "10L-2024-0113\\x1d17270131", "]C1"),
    ... ])
    >>> label.gtin, label.lot, label.expiry
    ('00614141999996', 'L-2024-0113', datetime.date(2027, 1, 31))
    >>> bad = read_text("(01)00614141999997(10)4471(15)270101")
    >>> bad.gtin, bad.lot, bad.best_before, bad.expiry
    (None, '4471', datetime.date(2027, 1, 1), None)
    >>> bad.problems
    ('GTIN 00614141999997 has a wrong check digit: 7, where 6 is due.',)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import biip
from biip.gs1_application_identifiers import (
    _GS1_APPLICATION_IDENTIFIERS,
    GS1ApplicationIdentifier,
)
from biip.gs1_element_strings import GS1ElementString

if TYPE_CHECKING:
    from intents.imaging import Decoded

__all__ = ["MEANINGS", "Element", "Label", "check_digit", "read_label", "read_one", "read_text"]

GS = "\x1d"
CONFIG = biip.ParseConfig(separator_chars=[GS])
# Symbology identifiers of symbols that carry GS1 element strings (FNC1 in first place).
GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]d2", "]Q3", "]J1", "]d8"})

MEANINGS = {
    "00": "SSCC",
    "01": "GTIN",
    "02": "GTIN of the trade items contained",
    "10": "lot",
    "11": "production date",
    "12": "due date",
    "13": "packaging date",
    "15": "best before date",
    "16": "sell by date",
    "17": "expiry date",
    "21": "serial",
    "37": "count of trade items",
    "410": "ship-to GLN",
    "411": "bill-to GLN",
    "412": "purchased-from GLN",
    "413": "ship-for GLN",
    "414": "location GLN",
    "415": "invoicing party GLN",
    "416": "production or service location GLN",
    "417": "party GLN",
}
"""What each AI the label fields use means, in the words answers use."""

DATE_FIELDS = {
    "11": "production_date",
    "12": "due_date",
    "13": "packaging_date",
    "15": "best_before",
    "16": "sell_by",
    "17": "expiry",
}
# The primary keys a GS1 Digital Link path may start with.
PRIMARY_KEYS = frozenset(
    {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8013"}
)
FIXED_KEYS = {"00": 18, "01": 14, "02": 14, "410": 13, "411": 13, "412": 13, "413": 13}
FIXED_KEYS |= {"414": 13, "415": 13, "416": 13, "417": 13}


def check_digit(digits: str) -> int:
    """The GS1 check digit (mod 10, weights 3 and 1 from the right) of ``digits``.

    Example:
        >>> check_digit("0061414100003")
        6
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class Element:
    """One AI and its value as read, what it means, and what is wrong with it (or None)."""

    ai: str
    value: str
    meaning: str
    problem: str | None = None
    day: date | None = None


def _key_problem(ai: str, value: str) -> str | None:
    """What is wrong with a GTIN, SSCC or GLN value: its length or check digit."""
    name = "GTIN" if ai in ("01", "02") else "SSCC" if ai == "00" else "GLN"
    length = FIXED_KEYS[ai]
    if not value.isdigit() or len(value) != length:
        return f"{name} {value!r} is not {length} digits."
    due = check_digit(value[:-1])
    if int(value[-1]) != due:
        return f"{name} {value} has a wrong check digit: {value[-1]}, where {due} is due."
    return None


def element(ai: str, value: str) -> Element:
    """One element string checked: key check digits, dates that exist, allowed characters.

    Example:
        >>> element("17", "270231").problem
        'The expiry date (17) 270231 is no date that exists.'
        >>> element("15", "270200").day
        datetime.date(2027, 2, 28)
    """
    meaning = MEANINGS.get(ai, f"AI ({ai})")
    if ai in FIXED_KEYS:
        return Element(ai, value, meaning, _key_problem(ai, value))
    try:
        parsed = GS1ElementString.parse(f"{ai}{value}", config=CONFIG)
    except biip.ParseError:
        if ai in DATE_FIELDS:
            if re.fullmatch(r"\d{6}", value):
                return Element(
                    ai, value, meaning, f"The {meaning} ({ai}) {value} is no date that exists."
                )
            return Element(ai, value, meaning, f"The {meaning} ({ai}) {value!r} is not YYMMDD.")
        return Element(
            ai, value, meaning, f"The {meaning} ({ai}) {value!r} is not valid for AI ({ai})."
        )
    return Element(ai, parsed.value, meaning, None, parsed.date)


@dataclass(frozen=True)
class Label:
    """What a label says, combined; fields not on the label (or not valid) are None.

    ``gtins`` and ``lots`` list every different valid GTIN and lot read, in order;
    ``problems`` names each element that was read but is not valid.
    """

    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    production_date: date | None = None
    serial: str | None = None
    sscc: str | None = None
    best_before: date | None = None
    sell_by: date | None = None
    due_date: date | None = None
    packaging_date: date | None = None
    gln: str | None = None
    gtins: tuple[str, ...] = ()
    lots: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    elements: tuple[Element, ...] = field(default=(), compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def conflict(self) -> dict[str, list[str]] | None:
        """The keys read twice with different values (``{"gtins": [...]}``), or None."""
        found = {
            name: list(values) for name, values in (("gtins", self.gtins), ("lots", self.lots))
        }
        clashing = {name: values for name, values in found.items() if len(values) > 1}
        return clashing or None

    @property
    def empty(self) -> bool:
        """Whether nothing valid was read (problems may still say what was seen)."""
        return not (self.gtins or self.lots or self.sscc or self.serial or self.gln)

    def merged(self, other: Label) -> Label:
        """This label's fields, completed with ``other``'s where missing."""
        values: dict[str, Any] = {}
        for name in (
            "gtin", "lot", "expiry", "production_date", "serial", "sscc",
            "best_before", "sell_by", "due_date", "packaging_date", "gln",
        ):  # fmt: skip
            values[name] = getattr(self, name) or getattr(other, name)
        return replace(
            self,
            **values,
            gtins=tuple(dict.fromkeys(self.gtins + other.gtins)),
            lots=tuple(dict.fromkeys(self.lots + other.lots)),
            problems=tuple(dict.fromkeys(self.problems + other.problems)),
            elements=self.elements + other.elements,
            notes=self.notes + other.notes,
        )

    def fields(self) -> dict[str, Any]:
        """Every field as JSON values (dates ISO), for answers."""
        out: dict[str, Any] = {}
        for name in (
            "gtin", "lot", "expiry", "production_date", "serial", "sscc",
            "best_before", "sell_by", "due_date", "packaging_date", "gln",
        ):  # fmt: skip
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, date) else value
        out["gtins"] = list(self.gtins)
        out["lots"] = list(self.lots)
        out["problems"] = list(self.problems)
        return out

    def describe(self) -> str:
        """The label's valid elements in words, each with its meaning ("lot 4471, best
        before 2027-01-01")."""
        parts = []
        for item in self.elements:
            if item.problem is None and item.ai in MEANINGS:
                shown = item.day.isoformat() if item.day else item.value
                parts.append(f"{item.meaning} {shown}")
        return ", ".join(dict.fromkeys(parts))


def from_elements(elements: Iterable[Element]) -> Label:
    """The label fields of checked elements: valid ones kept, invalid ones named."""
    values: dict[str, Any] = {}
    gtins: list[str] = []
    lots: list[str] = []
    problems: list[str] = []
    kept: list[Element] = []
    for item in elements:
        kept.append(item)
        if item.problem is not None:
            problems.append(item.problem)
            continue
        if item.ai == "01":
            gtins.append(item.value)
        elif item.ai == "10":
            lots.append(item.value)
        elif item.ai in DATE_FIELDS:
            values.setdefault(DATE_FIELDS[item.ai], item.day)
        elif item.ai == "21":
            values.setdefault("serial", item.value)
        elif item.ai == "00":
            values.setdefault("sscc", item.value)
        elif item.ai in ("414", "417", "410"):
            values.setdefault("gln", item.value)
    gtins = list(dict.fromkeys(gtins))
    lots = list(dict.fromkeys(lots))
    return Label(
        gtin=gtins[0] if gtins else None,
        lot=lots[0] if lots else None,
        gtins=tuple(gtins),
        lots=tuple(lots),
        problems=tuple(problems),
        elements=tuple(kept),
        **values,
    )


def _ai_of(text: str) -> GS1ApplicationIdentifier | None:
    try:
        return GS1ApplicationIdentifier.extract(text)
    except biip.ParseError:
        return None


def _data_length(ai: GS1ApplicationIdentifier) -> int:
    """The fixed data length of an AI whose format is fixed ("N2+N14" is 14)."""
    parts = ai.format.split("+")[1:]
    return sum(int(part.lstrip("NX")) for part in parts)


def split_elements(text: str) -> tuple[list[Element], str | None]:
    """A GS1 element string (``GS`` separating variable-length fields) as elements, and
    what could not be split (None when all of it was).

    A separator just after an AI is skipped, so typed text with spaces between AI and
    value ("01 00614141000036 10 4471", spaces read as ``GS``) splits too.
    """
    found: list[Element] = []
    rest = text.strip(GS)
    while rest:
        ai = _ai_of(rest)
        if ai is None:
            return found, f"No GS1 Application Identifier at {rest[:20]!r}."
        rest = rest[len(ai.ai) :].lstrip(GS)
        if ai.separator_required:
            value, _, rest = rest.partition(GS)
        else:
            length = _data_length(ai)
            value, rest = rest[:length], rest[length:]
        found.append(element(ai.ai, value))
        rest = rest.lstrip(GS)
    return found, None


def _element_string(text: str) -> Label:
    elements, leftover = split_elements(text)
    label = from_elements(elements)
    if leftover:
        label = replace(label, problems=(*label.problems, leftover))
    return label


# --- GS1 Digital Link --------------------------------------------------------------------

# Every AI beginning with the same two digits has the same width.
AI_WIDTH = {ai[:2]: len(ai) for ai in _GS1_APPLICATION_IDENTIFIERS}
SAFE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# GS1 Digital Link compression: one hex pair standing for a sequence of AIs.
SEQUENCES = {
    "0A": ("01", "22"),
    "0B": ("01", "10"),
    "0C": ("01", "21"),
    "0D": ("01", "17"),
    "0E": ("01", "7003"),
    "0F": ("01", "30"),
    "1A": ("01", "10", "21", "17"),
    "1B": ("01", "15"),
    "1C": ("01", "11"),
    "1D": ("01", "16"),
    "1E": ("01", "91"),
    "1F": ("01", "10", "15"),
}


class _Bits:
    def __init__(self, text: str) -> None:
        self.bits = "".join(f"{SAFE64.index(c):06b}" for c in text)
        self.at = 0

    def left(self) -> int:
        return len(self.bits) - self.at

    def take(self, count: int) -> int:
        if count > self.left():
            raise ValueError("the compressed data ends too soon")
        value = int(self.bits[self.at : self.at + count] or "0", 2)
        self.at += count
        return value


def _value_bits(digits: int) -> int:
    """Bits holding a number of ``digits`` decimal digits: ceil(digits * log2(10))."""
    return math.ceil(digits * math.log2(10) + 0.01)


def _length_bits(longest: int) -> int:
    """Bits holding a length up to ``longest``."""
    return longest.bit_length()


def _chars(bits: _Bits, encoding: int, count: int) -> str:
    if encoding == 0:
        return str(bits.take(_value_bits(count))).zfill(count) if count else ""
    if encoding in (1, 2):
        text = "".join("0123456789ABCDEF"[bits.take(4)] for _ in range(count))
        return text.lower() if encoding == 1 else text
    if encoding == 3:
        return "".join(SAFE64[bits.take(6)] for _ in range(count))
    if encoding == 4:
        return "".join(chr(bits.take(7)) for _ in range(count))
    raise ValueError(f"unknown character encoding {encoding}")


def _compressed_value(bits: _Bits, ai: GS1ApplicationIdentifier) -> str:
    value = ""
    for kind, variable, size in re.findall(r"([NX])(\.\.)?(\d+)", ai.format.split("+", 1)[1]):
        longest = int(size)
        if kind == "N" and not variable:
            number = bits.take(_value_bits(longest))
            value += str(number).zfill(longest)
        elif kind == "N":
            count = bits.take(_length_bits(longest))
            value += str(bits.take(_value_bits(count))).zfill(count) if count else ""
        else:
            encoding = bits.take(3)
            count = longest if not variable else bits.take(_length_bits(longest))
            value += _chars(bits, encoding, count)
    return value


def decompress(payload: str) -> list[tuple[str, str]]:
    """The AIs and values of a compressed GS1 Digital Link path segment.

    Raises:
        ValueError: the segment is no compressed GS1 data.
    """
    if not payload or any(c not in SAFE64 for c in payload):
        raise ValueError("not URI-safe base64")
    bits = _Bits(payload)
    pairs: list[tuple[str, str]] = []
    while bits.left() > 8:
        high, low = bits.take(4), bits.take(4)
        code = f"{high:X}{low:X}"
        if high <= 9 and low <= 9:
            width = AI_WIDTH.get(code)
            if width is None:
                raise ValueError(f"no AI begins {code}")
            digits = code + "".join(str(bits.take(4)) for _ in range(width - 2))
            known = _ai_of(digits)
            if known is None or known.ai != digits:
                raise ValueError(f"no AI ({digits})")
            pairs.append((digits, _compressed_value(bits, known)))
        elif code in SEQUENCES:
            for digits in SEQUENCES[code]:
                known = _ai_of(digits)
                assert known is not None
                pairs.append((digits, _compressed_value(bits, known)))
        else:
            raise ValueError(f"unsupported compression code {code}")
    if not pairs:
        raise ValueError("no data")
    return pairs


# EPC binary partitions: (company prefix bits, digits, reference bits, digits).
SGTIN_PARTITIONS = (
    (40, 12, 4, 1), (37, 11, 7, 2), (34, 10, 10, 3), (30, 9, 14, 4),
    (27, 8, 17, 5), (24, 7, 20, 6), (20, 6, 24, 7),
)  # fmt: skip
SSCC_PARTITIONS = (
    (40, 12, 18, 5), (37, 11, 21, 6), (34, 10, 24, 7), (30, 9, 28, 8),
    (27, 8, 31, 9), (24, 7, 34, 10), (20, 6, 38, 11),
)  # fmt: skip


def epc_binary(payload: str) -> list[tuple[str, str]]:
    """The AIs of an EPC binary string in a compressed Digital Link (``eh`` and the hex
    of an SGTIN-96 or SSCC-96, GS1's EPC binary compression).

    Example:
        >>> epc_binary("eh30164596f40c0e5cbe991a83")
        [('01', '09528765123457'), ('21', '123456789123')]

    Raises:
        ValueError: the segment is no EPC binary string TraceBot reads.
    """
    if not re.fullmatch(r"eh(?:[0-9a-fA-F]{24})", payload):
        raise ValueError("no EPC binary string")
    bits = format(int(payload[2:], 16), "096b")
    header, partition = int(bits[:8], 2), int(bits[11:14], 2)
    if header not in (0x30, 0x31) or partition > 6:
        raise ValueError("no SGTIN-96 or SSCC-96")
    table = SGTIN_PARTITIONS if header == 0x30 else SSCC_PARTITIONS
    company_bits, company_digits, reference_bits, reference_digits = table[partition]
    company = str(int(bits[14 : 14 + company_bits], 2)).zfill(company_digits)
    end = 14 + company_bits + reference_bits
    reference = str(int(bits[14 + company_bits : end], 2)).zfill(reference_digits)
    key = reference[0] + company + reference[1:]
    key += str(check_digit(key))
    if header == 0x31:
        return [("00", key)]
    return [("01", key), ("21", str(int(bits[end:], 2)))]


def _digital_link(uri: str) -> Label:
    """A GS1 Digital Link URI's label: any case of scheme and host, a trailing slash, a
    stem before the key, the compressed form."""
    parts = urlsplit(uri.strip())
    segments = [unquote(s) for s in parts.path.split("/") if s]
    pairs: list[tuple[str, str]] = []
    start = next((i for i, s in enumerate(segments) if s in PRIMARY_KEYS), None)
    if start is not None and (len(segments) - start) % 2 == 0:
        path = segments[start:]
        pairs = [(path[i], path[i + 1]) for i in range(0, len(path), 2)]
    elif segments:
        try:
            last = segments[-1]
            pairs = (
                epc_binary(last) if re.fullmatch(r"eh[0-9a-fA-F]{24}", last) else decompress(last)
            )
        except ValueError:
            pairs = []
    if not pairs:
        return Label(notes=(f"a web address that is not a GS1 Digital Link: {uri}",))
    pairs += [(key, value) for key, value in parse_qsl(parts.query) if key.isdigit()]
    elements = []
    for ai, value in pairs:
        if ai in ("01", "02") and value.isdigit() and len(value) in (8, 12, 13):
            value = value.zfill(14)  # a Digital Link may carry GTIN-8, -12 or -13
        elements.append(element(ai, value))
    return from_elements(elements)


# --- barcodes and typed text --------------------------------------------------------------


def read_one(decoded: Decoded) -> Label:
    """The GS1 fields of one barcode (an empty Label when it holds none)."""
    text = decoded.text.strip()
    if text.lower().startswith(("http://", "https://")):
        return _digital_link(text)
    if decoded.symbology in GS1_SYMBOLOGIES:
        return _element_string(decoded.text)
    result = biip.parse(text, config=CONFIG)
    if result.sscc is not None:
        return from_elements([element("00", result.sscc.value)])
    if result.gtin is not None:
        return from_elements([element("01", result.gtin.as_gtin_14())])
    if result.upc is not None:
        return from_elements([element("01", result.upc.as_upc_a().zfill(14))])
    if result.gtin_error and text.isdigit() and len(text) in (8, 12, 13, 14):
        return from_elements([element("01", text.zfill(14))])
    return Label(notes=(f"{decoded.format} holds no GS1 data: {text[:40]}",))


def read_label(decoded: Sequence[Decoded]) -> Label:
    """The GS1 fields of every barcode on one label, combined."""
    label = Label()
    for barcode in decoded:
        label = label.merged(read_one(barcode))
    return label


_SEPARATORS = re.compile(
    r"&lt;\s*gs\s*&gt;|<\s*gs\s*>|\[\s*gs\s*\]|\{\s*gs\s*\}|\\x1d|\bFNC1\b|\^|\x1d", re.I
)
_BRACKETED = re.compile(r"(?:\(\s*\d{2,4}\s*\)\s*[^()\s]+\s*){1,}")
_URI = re.compile(r"https?://[^\s<>\"']+", re.I)
_BARE = re.compile(r"^(?:0[01]|414|253|255)[\d\s\x1d]*(?:[\x1d\s]\d{2,4}[\x1d\s]*[^\s\x1d]+)*$")


def read_text(text: str) -> Label | None:
    """The label typed as text, or None when the text is no label.

    Understood: element strings with the AIs in brackets ("(01)00614141000036(10)4471"),
    with spaces between AIs and values ("01 00614141000036 10 4471"), unbracketed with
    the FNC1 written ``<GS>`` (or ``^``, ``[GS]``, a space), and GS1 Digital Link URIs.
    Unbracketed text counts only when all of it is the label and it starts with a key
    (SSCC, GTIN, GLN...), so "lot 4471" or a date is never taken for one.

    Example:
        >>> read_text("01 00614141000036 10 4471").lot
        '4471'
        >>> read_text("who got lot 4471?") is None
        True
    """
    said = text.strip().strip("`'\"").strip()
    uri = _URI.search(said)
    if uri is not None:
        label = _digital_link(uri.group(0).rstrip(".,;:!?)"))
        return None if label.empty and not label.problems else label
    bracketed = _BRACKETED.search(said)
    if bracketed is not None and bracketed.group(0).count("(") >= 1:
        elements = [
            element(ai, value.strip())
            for ai, value in re.findall(r"\(\s*(\d{2,4})\s*\)\s*([^()]*)", bracketed.group(0))
        ]
        whole = len(bracketed.group(0).strip()) >= 0.8 * len(said)
        if any(item.ai in MEANINGS and item.problem is None for item in elements) or whole:
            return from_elements(elements)
        return None
    flat = _SEPARATORS.sub(GS, said)
    flat = re.sub(r"\s+", GS, flat.strip())
    if not re.fullmatch(r"[0-9A-Za-z!\"%&'()*+,\-./:;<=>?_\x1d]+", flat) or not _BARE.match(
        flat.replace(GS, " ")
    ):
        return None
    elements, leftover = split_elements(flat)
    if leftover or not elements or elements[0].ai not in FIXED_KEYS:
        return None
    if (
        elements[0].problem
        and len(elements) == 1
        and len(flat) != FIXED_KEYS[elements[0].ai] + len(elements[0].ai)
    ):
        return None
    return from_elements(elements)
