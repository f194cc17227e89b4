"""Import GS1 EPCIS 2.0 documents (JSON and JSON-LD, documents and query documents).

Each event becomes the rows the CSV importer already knows, then everything loads
in one transaction through the same loaders, so validation, idempotency and the
irregularity rules are the same as for CSV files:

* ObjectEvent ``receiving`` (or ``arriving``): a receipt of each lot named, from
  the owning or possessing party of the source list, at the business location;
* ObjectEvent ``shipping`` (or ``departing``): a shipment to the destination party;
* ObjectEvent ``inspecting``: a QC check, failed when the disposition is
  ``non_conformant`` (or damaged, expired, recalled...);
* ObjectEvent ``holding`` and ``destroying``: a hold, and an adjustment down;
* TransformationEvent: the outputs are lots made at the event's time and place,
  each input a genealogy link into each output;
* ``ilmd``: expiry (``itemExpirationDate``, ``bestBeforeDate``) and production
  (``productionDate``) dates of the lots;
* master data in the header: names of products, parties and locations.

Other events (AggregationEvent, AssociationEvent, TransactionEvent, other business
steps) are recorded and change no trace. Identifiers are EPC URNs or GS1 Digital
Link URIs; ``urn:epc:class:lgtin`` is GTIN plus lot, ``urn:epc:id:sgtin`` GTIN plus
serial (kept as a one-unit lot named by the serial).

A document with an invalid event is refused whole, with the JSON path of the
offending value and what is wrong with it; nothing is written. Every field the
importer reads must have its EPCIS type (``quantityList`` a list of objects,
``bizLocation`` an object, ``quantity`` a non-negative number...); lot codes
must pass :func:`trace_engine.codes.lot_code_problem`; a document nests at most
``MAX_DEPTH`` levels and holds at most ``MAX_VALUES`` JSON values (a file at
most ``MAX_FILE_BYTES``). Events already imported (by ``eventID``, or by a hash
of the event where it has none) are skipped.

Example:
    >>> document = {"@context": [], "type": "EPCISDocument", "epcisBody": {"eventList": [
    ...     {"type": "ObjectEvent", "eventTime": "2026-11-20T09:00:00Z", "quantityList": True}]}}
    >>> check_document(document)
    Traceback (most recent call last):
    ...
    storage.importers.epcis.EpcisError: Refused the EPCIS document: \
$.epcisBody.eventList[0].quantityList: expected a list, got true.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Required
from urllib.parse import quote, unquote

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from pydantic_core import PydanticCustomError
from sqlalchemy import insert, select
from typing_extensions import TypedDict  # pydantic needs this one on Python 3.11

from storage.errors import StorageError
from storage.importers.csv_import import import_rows
from storage.importers.epc import Epc, EpcError, parse_epc
from storage.importers.epcis_xml import (
    CONTEXT,
    XmlDocument,
    XmlError,
    looks_like_xml,
    xml_document,
)
from storage.importers.report import ImportReport
from storage.models import PARTY_KINDS
from trace_engine.codes import lot_code_problem

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "EpcisError",
    "check_document",
    "import_epcis",
    "json_path",
    "parse_epcis",
    "read_epcis",
]

MAX_DEPTH = 64
"""Objects and arrays nest at most this deep (GS1's and OpenEPCIS's examples: 15)."""
MAX_VALUES = 5_000_000
"""JSON values (objects, arrays, strings, numbers...) one document may hold: about
120 MiB of EPCIS, some 1.7 times the benchmark plant's 71 MiB document."""
MAX_FILE_BYTES = 128 * 1024 * 1024
"""The largest file ``read_epcis`` reads (the HTTP routes limit their bodies first)."""

CBV = "https://ref.gs1.org/cbv/"
UNIT_CODES = {
    "kg": "KGM",
    "g": "GRM",
    "l": "LTR",
    "ml": "MLT",
    "t": "TNE",
    "lb": "LBR",
    "ea": "EA",
    "cs": "CS",
    "case": "CS",
    "box": "BX",
    "bag": "BG",
    "carton": "CT",
    "pack": "PK",
    "bottle": "BO",
    "can": "CA",
    "dozen": "DZN",
    "oz": "ONZ",
    "gal": "GLL",
    "m": "MTR",
}
"""A plant's units as UN/CEFACT Recommendation 20/21 codes, as EPCIS gives ``uom``."""
UNITS = {"H87": "ea", "C62": "ea"} | {code: unit for unit, code in reversed(UNIT_CODES.items())}
"""A UN/CEFACT code as the plant's unit (the first unit a code has above: CS is cs)."""
FAILED = {
    "non_conformant",
    "damaged",
    "expired",
    "recalled",
    "destroyed",
    "disposed",
    "non_sellable_other",
}
NAME_ATTRIBUTES = (
    "urn:epcglobal:cbv:mda#name",
    "urn:epcglobal:cbv:mda#descriptionShort",
    "urn:epcglobal:cbv:mda#regulatedProductName",
    "cbvmda:name",
    "cbvmda:descriptionShort",
)
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "TransactionEvent",
    "AssociationEvent",
)
ACTIONS = ("ADD", "OBSERVE", "DELETE")
"""An event's action (every type but TransformationEvent has one)."""
BIZ_STEPS = frozenset(
    [
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ]
)
"""The business steps of GS1's Core Business Vocabulary 2.0, as bare words; any
other business step is a URI."""
DISPOSITIONS = frozenset(
    [
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_class",
        "mismatch_instance",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ]
)
"""The dispositions of CBV 2.0, as bare words."""
QUANTITY_FIELDS = frozenset({"epcClass", "quantity", "uom"})
MOVES = frozenset({"receiving", "arriving", "accepting", "shipping", "departing"})
"""Business steps that move goods in or out, whatever the event type."""
UNKNOWN_PARTY = "UNKNOWN"
"""The party a receipt or shipment is recorded with when its event names none."""


class EpcisError(StorageError):
    """A document this importer refuses, with the JSON path of what is wrong.

    Example:
        >>> str(EpcisError("$.epcisBody.eventList[0].eventTime", "missing"))
        'Refused the EPCIS document: $.epcisBody.eventList[0].eventTime: missing.'
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"Refused the EPCIS document: {path}: {reason}.")


_NAME = re.compile(r"[A-Za-z_@$][\w@$:#-]*", re.ASCII)


def json_path(base: str, *steps: str | int) -> str:
    """``base`` followed by keys (``.key``, or ``['key']`` when it is no plain name)
    and array indexes (``[3]``).

    Example:
        >>> json_path("$.epcisBody", "eventList", 3, "quantityList", 0, "quantity")
        '$.epcisBody.eventList[3].quantityList[0].quantity'
        >>> print(json_path("$", "ilmd", "example:best before"))
        $.ilmd['example:best before']
    """
    parts = [base]
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _NAME.fullmatch(step):
            parts.append(f".{step}")
        else:
            quoted = step.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{quoted}']")
    return "".join(parts)


def _shown(value: Any) -> str:
    """A short JSON rendering of a bad value, for a refusal's reason."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_document(document: Any) -> None:
    """Refuse a document that is not an object, nests deeper than ``MAX_DEPTH``,
    holds more than ``MAX_VALUES`` values, or holds what JSON cannot (NaN, infinity,
    keys that are not strings, Python objects); then the shapes of its header and
    of every event, as :func:`import_epcis` reads them.

    The walk keeps its own stack, so no nesting makes it recurse.

    Raises:
        EpcisError: at the JSON path of the first value at fault.

    Example:
        >>> deep: list[object] = []
        >>> for _ in range(100_000):
        ...     deep = [deep]
        >>> try:
        ...     check_document({"type": "EPCISDocument", "epcisBody": {"eventList": deep}})
        ... except EpcisError as err:
        ...     print(err.path[:32], err.reason)
        $.epcisBody.eventList[0][0][0][0 nested deeper than 64 levels
    """
    if not isinstance(document, dict):
        raise EpcisError("$", "not a JSON object")
    count = _count_if_sound(document)
    if count is None:
        steps, reason = _first_fault(document) or ([], "not a JSON document")
        raise EpcisError(json_path("$", *steps), reason)
    if count > MAX_VALUES:
        raise EpcisError("$", f"more than {MAX_VALUES:,} JSON values (the limit of one document)")
    for path, event in _events(document):
        _check_event(path, event)


_SCALARS = frozenset({str, int, bool, type(None)})  # and finite floats


def _count_if_sound(document: dict[str, Any]) -> int | None:
    """How many values the document holds (stopping past ``MAX_VALUES``), or None
    when a value is too deep or no JSON. The quick walk: it keeps no paths."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    count = 1
    while stack and count <= MAX_VALUES:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            return None
        if isinstance(container, dict):
            if not all(type(key) is str for key in container):
                return None
            children = container.values()
        else:
            children = container
        count += len(children)
        for child in children:
            kind = type(child)
            if kind in _SCALARS:
                continue
            if kind is dict or kind is list or isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif isinstance(child, float):
                if not math.isfinite(child):
                    return None
            elif not isinstance(child, str | int):
                return None
    return count


_Trail = tuple[Any, str | int] | None
"""The way to a value: (the way to its parent, its key or index); None for the root."""


def _first_fault(document: dict[str, Any]) -> tuple[list[str | int], str] | None:
    """The steps to the first value (in document order) that is too deep or no JSON,
    and what is wrong with it; None when all is well. The slow walk, for a refusal."""
    stack: list[tuple[Any, int, _Trail]] = [(document, 1, None)]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            return _steps(trail), f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict):
            children: list[tuple[str | int, Any]] = list(value.items())
            if not all(type(key) is str for key in value):
                return _steps(trail), "an object whose keys are not all strings"
        elif isinstance(value, list):
            children = list(enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            return _steps(trail), f"{json.dumps(value)} is not a number JSON allows"
        elif value is None or isinstance(value, str | int | float):
            continue  # True and False are ints too
        else:
            return _steps(trail), f"not a JSON value ({type(value).__name__})"
        stack.extend((child, depth + 1, (trail, key)) for key, child in reversed(children))
    return None


def _steps(trail: _Trail) -> list[str | int]:
    steps: list[str | int] = []
    while trail is not None:
        trail, step = trail
        steps.append(step)
    return steps[::-1]


def _short(value: str) -> str:
    """A CBV value in its short form ("receiving" for its URI and CURIE forms too)."""
    for prefix in (
        CBV + "BizStep-",
        CBV + "Disp-",
        CBV + "BTT-",
        CBV + "SDT-",
        "urn:epcglobal:cbv:bizstep:",
        "urn:epcglobal:cbv:disp:",
        "urn:epcglobal:cbv:btt:",
        "urn:epcglobal:cbv:sdt:",
        "cbv:BizStep-",
        "cbv:Disp-",
        "cbv:BTT-",
        "cbv:SDT-",
    ):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


@dataclass
class _Tables:
    """The CSV-shaped rows an EPCIS document becomes, and where each came from."""

    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    paths: dict[str, list[str]] = field(default_factory=dict)
    items: dict[str, dict[str, str]] = field(default_factory=dict)
    parties: dict[str, dict[str, str]] = field(default_factory=dict)
    lots: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # The JSON path that first named each item, party and lot (a rejection names it).
    named: dict[str, dict[Any, str]] = field(
        default_factory=lambda: {"items.csv": {}, "parties.csv": {}, "lots.csv": {}}
    )

    def add(self, name: str, path: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(name, []).append(
            {key: "" if value is None else str(value) for key, value in row.items()}
        )
        self.paths.setdefault(name, []).append(path)

    def all_rows(self) -> tuple[dict[str, list[dict[str, str]]], dict[str, list[str]]]:
        """Every table's rows, and the JSON path of each row, by CSV file name."""
        rows = {
            "items.csv": list(self.items.values()),
            "parties.csv": list(self.parties.values()),
            "lots.csv": list(self.lots.values()),
            **self.rows,
        }
        paths = {
            "items.csv": [self.named["items.csv"][sku] for sku in self.items],
            "parties.csv": [self.named["parties.csv"][code] for code in self.parties],
            "lots.csv": [self.named["lots.csv"][key] for key in self.lots],
            **self.paths,
        }
        return rows, paths


@dataclass(frozen=True)
class _Line:
    """One lot a quantity element or EPC names, with its amount and where it is named."""

    sku: str
    lot: str
    quantity: float | None
    uom: str | None
    where: str = ""


# What the importer reads, and the type each field must have (extra fields are free).
_STRICT = ConfigDict(strict=True)


@with_config(_STRICT)
class _Place(TypedDict):
    id: str


@with_config(_STRICT)
class _QuantityElement(TypedDict, total=False):
    epcClass: Required[str]
    quantity: Annotated[float, Field(ge=0)]
    uom: str


@with_config(_STRICT)
class _Source(TypedDict, total=False):
    type: str
    source: str


@with_config(_STRICT)
class _Destination(TypedDict, total=False):
    type: str
    destination: str


@with_config(_STRICT)
class _BizTransaction(TypedDict, total=False):
    type: str
    bizTransaction: Required[str]


@with_config(_STRICT)
class _SensorMetadata(TypedDict, total=False):
    time: str
    deviceID: str


def _reading(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("float_type", "expected a number")
    return value


_Reading = Annotated[Any, AfterValidator(_reading)]
"""A sensor value: a number, or a number in a string (as some publishers write it)."""


@with_config(_STRICT)
class _SensorReport(TypedDict, total=False):
    type: str
    time: str
    value: _Reading
    minValue: _Reading
    maxValue: _Reading
    uom: str


@with_config(_STRICT)
class _SensorElement(TypedDict, total=False):
    sensorMetadata: _SensorMetadata
    sensorReport: list[_SensorReport]


@with_config(_STRICT)
class _Event(TypedDict, total=False):
    type: Required[str]
    eventTime: Required[str]
    eventTimeZoneOffset: str
    eventID: str
    errorDeclaration: dict[str, Any]
    action: str
    bizStep: str
    disposition: str
    parentID: str
    transformationID: str
    readPoint: _Place
    bizLocation: _Place
    epcList: list[str]
    childEPCs: list[str]
    inputEPCList: list[str]
    outputEPCList: list[str]
    quantityList: list[_QuantityElement]
    childQuantityList: list[_QuantityElement]
    inputQuantityList: list[_QuantityElement]
    outputQuantityList: list[_QuantityElement]
    sourceList: list[_Source]
    destinationList: list[_Destination]
    bizTransactionList: list[_BizTransaction]
    ilmd: dict[str, Any]
    sensorElementList: list[_SensorElement]


@with_config(_STRICT)
class _Attribute(TypedDict, total=False):
    id: str
    attribute: Any


@with_config(_STRICT)
class _VocabularyElement(TypedDict, total=False):
    id: str
    attributes: list[_Attribute]


@with_config(_STRICT)
class _Vocabulary(TypedDict, total=False):
    type: str
    vocabularyElementList: list[_VocabularyElement]


@with_config(_STRICT)
class _MasterData(TypedDict, total=False):
    vocabularyList: list[_Vocabulary]


@with_config(_STRICT)
class _Header(TypedDict, total=False):
    epcisMasterData: _MasterData


@with_config(_STRICT)
class _ResultsBody(TypedDict, total=False):
    eventList: list[dict[str, Any]]


@with_config(_STRICT)
class _QueryResults(TypedDict, total=False):
    resultsBody: _ResultsBody


@with_config(_STRICT)
class _Body(TypedDict, total=False):
    eventList: list[dict[str, Any]]
    queryResults: _QueryResults


@with_config(_STRICT)
class _Document(TypedDict, total=False):
    type: Required[str]
    epcisHeader: _Header
    epcisBody: Required[_Body]


@with_config(_STRICT)
class _FormulaVersion(TypedDict, total=False):
    version: str
    effectiveFrom: str
    changedBy: str
    summary: str
    ingredients: str


_DOCUMENT = TypeAdapter(_Document)
_EVENT = TypeAdapter(_Event)
_FORMULAS = TypeAdapter(list[_FormulaVersion])
_EXPECTED = {
    "missing": "missing",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "string_type": "expected a string",
    "float_type": "expected a number",
    "greater_than_equal": "expected a non-negative number",
}


def _validate(shape: TypeAdapter[Any], value: Any, path: str) -> None:
    """Refuse ``value`` unless it has ``shape``, naming the first field at fault."""
    try:
        shape.validate_python(value)
    except ValidationError as err:
        first = err.errors()[0]
        expected = _EXPECTED.get(first["type"], first["msg"])
        reason = (
            expected if first["type"] == "missing" else f"{expected}, got {_shown(first['input'])}"
        )
        raise EpcisError(json_path(path, *first["loc"]), reason) from err


def as_document(value: Any) -> Any:
    """A bare event, or a list of events, as the EPCIS document that holds them
    (capture interfaces and test suites send both); anything else as it is.

    Example:
        >>> as_document({"type": "ObjectEvent", "eventTime": "2026-11-20T09:00:00Z"})["type"]
        'EPCISDocument'
        >>> len(as_document([{"type": "ObjectEvent"}, {"type": "AggregationEvent"}])
        ...     ["epcisBody"]["eventList"])
        2
    """
    if isinstance(value, list):
        events = value
    elif (
        isinstance(value, dict)
        and value.get("type")
        not in (
            "EPCISDocument",
            "EPCISQueryDocument",
        )
        and ("eventTime" in value or value.get("type") in EVENT_TYPES)
    ):
        events = [value]
    else:
        return value
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="seconds"),
        "epcisBody": {"eventList": events},
    }


def read_epcis(path: Path) -> dict[str, Any]:
    """The EPCIS document in ``path``: JSON or JSON-LD (a byte-order mark is skipped;
    a bare event or a list of events is taken as the document holding them), or
    EPCIS 1.2 or 2.0 XML.

    Raises:
        EpcisError: the file is larger than ``MAX_FILE_BYTES``, not UTF-8, not JSON
            (with its line and column) nor XML (with its line), nested too deep to
            read, or not an object.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise EpcisError("$", f"a file of {size:,} bytes; at most {MAX_FILE_BYTES:,} are read")
    return parse_epcis(path.read_bytes())


def parse_epcis(data: bytes) -> dict[str, Any]:
    """The EPCIS document in ``data``, JSON or XML, as :func:`read_epcis` reads files."""
    if looks_like_xml(data):
        try:
            return xml_document(data)
        except XmlError as err:
            raise EpcisError(f"line {err.line}" if err.line else "$", err.reason) from err
    try:
        document = as_document(json.loads(data.decode("utf-8-sig")))
    except json.JSONDecodeError as err:
        raise EpcisError(
            f"$ (line {err.lineno}, column {err.colno})", f"not JSON: {err.msg}"
        ) from err
    except UnicodeDecodeError as err:
        raise EpcisError("$", "not UTF-8 text") from err
    except RecursionError as err:
        raise EpcisError("$", f"nested deeper than {MAX_DEPTH} levels") from err
    except ValueError as err:  # a number of more than 4,300 digits
        raise EpcisError("$", f"not JSON this importer reads: {err}") from err
    if not isinstance(document, dict):
        raise EpcisError("$", "not a JSON object")
    return document


def _events(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = document.get("type")
    if kind not in ("EPCISDocument", "EPCISQueryDocument"):
        raise EpcisError(
            "$.type", f"expected EPCISDocument or EPCISQueryDocument, got {_shown(kind)}"
        )
    if not isinstance(document.get("epcisBody"), dict):
        raise EpcisError(
            "$.epcisBody", "missing" if "epcisBody" not in document else "expected an object"
        )
    _validate(_DOCUMENT, document, "$")
    if "@context" not in document:
        raise EpcisError("$.@context", "missing (a JSON-LD document names its context)")
    body = document["epcisBody"]
    if kind == "EPCISQueryDocument":
        results = body.get("queryResults", {}).get("resultsBody", {})
        base, events = "$.epcisBody.queryResults.resultsBody.eventList", results.get("eventList")
    else:
        base, events = "$.epcisBody.eventList", body.get("eventList")
    if not isinstance(events, list):
        raise EpcisError(base, "missing")
    for index, event in enumerate(events):
        yield f"{base}[{index}]", event


def _check_event(path: str, event: dict[str, Any]) -> None:
    """Refuse an event whose fields do not have the types the importer reads, or
    that breaks the standard where a reader depends on it: an action other than
    ADD, OBSERVE or DELETE (or none), a business step or disposition that is
    neither CBV's word nor a URI, a quantity element with a field it does not
    define (its quantity's type is the shape's), an ``ilmd`` field without a namespace,
    an ObjectEvent that names nothing."""
    _validate(_EVENT, event, path)
    kind = event.get("type")
    if kind not in EVENT_TYPES and ":" not in str(kind):
        # an extension's own event type is a URI (or a prefixed name), never a bare word
        raise EpcisError(f"{path}.type", f"an event type this importer does not read: {kind!r}")
    if kind in EVENT_TYPES and kind != "TransformationEvent":
        action = event.get("action")
        if action not in ACTIONS:
            raise EpcisError(
                f"{path}.action",
                "missing"
                if action is None
                else f"expected ADD, OBSERVE or DELETE, got {_shown(action)}",
            )
    for key, words in (("bizStep", BIZ_STEPS), ("disposition", DISPOSITIONS)):
        value = event.get(key)
        if isinstance(value, str) and ":" not in value and value not in words:
            raise EpcisError(
                f"{path}.{key}", f"{_shown(value)} is no CBV {key} (use CBV's word or a URI)"
            )
    for key in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        for index, element in enumerate(event.get(key) or []):
            extra = sorted(set(element) - QUANTITY_FIELDS)
            if extra:
                raise EpcisError(
                    json_path(path, key, index, extra[0]), "not a field of a quantity element"
                )
    for key in event.get("ilmd") or {}:
        if ":" not in key and key not in ("@context", "type"):
            raise EpcisError(json_path(path, "ilmd", key), "an ilmd field needs a namespace prefix")
    if kind == "ObjectEvent" and "epcList" not in event and "quantityList" not in event:
        raise EpcisError(path, "an ObjectEvent names no epcList or quantityList")
    for key, value in event.items():
        if key.startswith("tracebot:") and isinstance(value, dict | list):
            raise EpcisError(
                json_path(path, key), f"expected text or a number, got {_shown(value)}"
            )
    _parse_time(event["eventTime"], event.get("eventTimeZoneOffset"), f"{path}.eventTime")


@dataclass
class _Master:
    """Master data: attributes under short names by element id, and their places."""

    facts: dict[str, dict[str, str]] = field(default_factory=dict)
    # (element id, short name) -> JSON path of that attribute; name "" for the element
    where: dict[tuple[str, str], str] = field(default_factory=dict)


def _master_data(document: dict[str, Any]) -> _Master:
    """Attributes of each master-data element, by element id, under short names
    ("name" for the CBV name or short description, "kind" for ``tracebot:kind``)."""
    master = _Master()
    vocabularies = document.get("epcisHeader", {}).get("epcisMasterData", {})
    base = "$.epcisHeader.epcisMasterData"
    for number, vocabulary in enumerate(vocabularies.get("vocabularyList") or []):
        elements = vocabulary.get("vocabularyElementList") or []
        for index, element in enumerate(elements):
            element_id = element.get("id", "")
            here = json_path(base, "vocabularyList", number, "vocabularyElementList", index)
            master.where.setdefault((element_id, ""), here)
            attributes = master.facts.setdefault(element_id, {})
            for position, attribute in enumerate(element.get("attributes") or []):
                name, value = attribute.get("id", ""), attribute.get("attribute")
                if isinstance(value, bool) or not isinstance(value, str | int | float):
                    continue  # a complex attribute names nothing TraceBot keeps
                short = "name" if name in NAME_ATTRIBUTES else name.removeprefix("tracebot:")
                if short == "name" and "name" in attributes:
                    continue
                if short == "name" or name.startswith("tracebot:"):
                    attributes[short] = str(value)
                    where = json_path(here, "attributes", position, "attribute")
                    master.where[(element_id, short)] = where
    return master


def _extension(event: dict[str, Any], name: str) -> str:
    """A ``tracebot:`` extension field of an event, as text ("" when absent)."""
    value = event.get(f"tracebot:{name}")
    return "" if value is None else str(value)


def _parse_time(value: Any, offset: Any, path: str) -> datetime:
    """An EPCIS time as naive plant time, at the event's time zone offset."""
    if not isinstance(value, str):
        raise EpcisError(path, "missing")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise EpcisError(path, f"not a date and time: {value!r}") from err
    if moment.tzinfo is not None and isinstance(offset, str):
        where = path.rsplit(".", 1)[0] + ".eventTimeZoneOffset"
        try:
            local = datetime.fromisoformat(f"2000-01-01T00:00:00{offset}").tzinfo
        except ValueError as err:
            raise EpcisError(where, f"not an offset: {offset!r}") from err
        if local is None:
            raise EpcisError(where, f"not an offset: {offset!r}")
        try:
            moment = moment.astimezone(local)
        except OverflowError as err:
            raise EpcisError(path, f"out of range at offset {offset}: {value!r}") from err
    # Plant time, as the CSV files give it.
    return moment.replace(tzinfo=None)


def _date(value: Any, path: str) -> str:
    """The ISO day an ilmd date (or date and time) names."""
    if not isinstance(value, str):
        raise EpcisError(path, f"expected a date (a string), got {_shown(value)}")
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError as err:
        raise EpcisError(path, f"not a date: {_shown(value)}") from err


def _lot_code(epc: Epc, path: str) -> str:
    """The lot (or serial) an EPC names, as the one rule for lot codes allows it."""
    code = epc.lot or epc.serial or ""
    problem = lot_code_problem(code)
    if problem is not None:
        raise EpcisError(path, problem)
    return code


def _declares_error(event: dict[str, Any]) -> bool:
    return isinstance(event.get("errorDeclaration"), dict) and isinstance(event.get("eventID"), str)


def event_key(event: dict[str, Any]) -> str:
    """The event's ``eventID`` (with ``#error`` for its error declaration), or a
    hash of its canonical JSON when it has none."""
    event_id = event.get("eventID")
    if isinstance(event_id, str) and event_id:
        return f"{event_id}#error" if _declares_error(event) else event_id
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class _Translator:
    def __init__(self, master: _Master, skus: dict[str, str], parties: dict[str, str]) -> None:
        self.master = master.facts
        self.master_paths = master.where
        self.skus = skus  # GTIN -> the SKU of an item already stored
        self.known_parties = parties  # GLN -> the id of a party already stored
        self.tables = _Tables()
        # What each SSCC holds: packed in this document, or looked up in the database.
        self.containers: dict[str, list[_Line | str]] = {}
        self.stored_container: Callable[[str], list[_Line | str]] = lambda _sscc: []
        self.warnings: list[str] = []
        """What was recorded without being traced, and why, at its JSON path."""

    def warn(self, path: str, what: str) -> None:
        line = f"{path}: {what}"
        if line not in self.warnings:
            self.warnings.append(line)

    # identifiers -> items, lots and parties

    def _epc(self, value: Any, path: str) -> Epc:
        """What an identifier names; one that cannot be read is ``other`` (said as a
        warning where it is used), so one bad identifier costs only itself."""
        if not isinstance(value, str):
            raise EpcisError(path, "expected an identifier (a string)")
        try:
            return parse_epc(value)
        except EpcError as err:
            return Epc("other", code=f"unreadable ({err})")

    def _item(self, epc: Epc, uri: str, kind: str, uom: str | None, where: str) -> str:
        if epc.gtin is not None and epc.gtin in self.skus:
            return self.skus[epc.gtin]
        key = (
            f"https://id.gs1.org/01/{epc.gtin}"
            if epc.gtin
            else f"urn:tracebot:item:{quote(epc.sku or '', safe='')}"
        )
        described = key if self.master.get(key) else uri
        facts = self.master.get(described) or {}
        sku = facts.get("sku") or epc.sku or epc.gtin or ""
        # A bad fact of the item is the master data's; otherwise the first EPC naming it.
        self.tables.named["items.csv"].setdefault(
            sku, self.master_paths.get((described, ""), where) if facts else where
        )
        self.tables.items.setdefault(
            sku,
            {
                "sku": sku,
                "name": facts.get("name") or (f"GTIN {epc.gtin}" if epc.gtin else sku),
                "kind": facts.get("kind") or kind,
                "uom": facts.get("uom") or uom or "ea",
                "shelf_life_days": facts.get("shelfLifeDays", ""),
                "gtin": epc.gtin or "",
                "temperature_min": facts.get("temperatureMin", ""),
                "temperature_max": facts.get("temperatureMax", ""),
                # A partner's goods are never ours to release by QC; TraceBot's own
                # documents say what the item's master data said.
                "qc_release": facts.get("qcRelease", "") if "sku" in facts else "false",
            },
        )
        return sku

    def party(self, uri: str, path: str, kind: str) -> str:
        epc = self._epc(uri, path)
        if epc.kind == "other":
            self.warn(path, f"{uri!r} is {epc.code}: no party or place recorded for it")
            return ""
        if epc.kind not in ("sgln", "pgln", "party") or epc.code is None:
            raise EpcisError(path, f"expected a party or location (GLN), got {uri!r}")
        if epc.kind != "party" and epc.serial is None and epc.code in self.known_parties:
            return self.known_parties[epc.code]
        facts = self.master.get(uri, {})
        code = facts.get("code") or (epc.code if epc.serial is None else f"{epc.code}-{epc.serial}")
        self.tables.named["parties.csv"].setdefault(
            code, self.master_paths.get((uri, ""), path) if facts else path
        )
        self.tables.parties.setdefault(
            code,
            {
                "id": code,
                "name": facts.get("name") or (f"GLN {code}" if epc.kind != "party" else code),
                "kind": facts.get("kind") or kind,
                "gln": epc.code if epc.kind != "party" else "",
                "email": facts.get("email", ""),
                "phone": facts.get("phone", ""),
            },
        )
        return code

    def _lines(
        self,
        event: dict[str, Any],
        path: str,
        epcs: str,
        quantities: str,
        kind: str,
        *,
        expand: bool = True,
    ) -> list[_Line]:
        """The lots an event's EPC and quantity lists name; SSCCs by their contents."""
        lines: list[_Line] = []
        for index, uri in enumerate(event.get(epcs) or []):
            where = f"{path}.{epcs}[{index}]"
            epc = self._epc(uri, where)
            if epc.kind in ("lgtin", "sgtin"):
                sku = self._item(epc, uri, kind, "ea", where)
                lines.append(_Line(sku, _lot_code(epc, where), 1.0, "ea", where))
            elif epc.kind == "sscc" and epc.code and expand:
                lines.extend(
                    replace(line, where=line.where or where) for line in self._contents(epc.code)
                )
            elif epc.kind == "other":
                self.warn(where, f"{uri!r} is {epc.code}: recorded with its event, not traced")
        for index, element in enumerate(event.get(quantities) or []):
            where = f"{path}.{quantities}[{index}]"
            epc = self._epc(element["epcClass"], f"{where}.epcClass")
            amount = element.get("quantity")
            uom = UNITS.get(
                str(element.get("uom", "")), str(element.get("uom", "")).lower() or "ea"
            )
            if epc.kind == "other":
                self.warn(
                    f"{where}.epcClass",
                    f"{element['epcClass']!r} is {epc.code}: recorded with its event, not traced",
                )
                continue
            if epc.kind == "gtin":
                self._item(epc, element["epcClass"], kind, uom, f"{where}.epcClass")
                self.warn(
                    f"{where}.epcClass",
                    f"{element['epcClass']!r} is a product class without a lot: its item is "
                    "recorded, no lot to trace",
                )
                continue
            if epc.kind not in ("lgtin", "sgtin"):
                raise EpcisError(
                    f"{where}.epcClass", f"expected a product class, got {element['epcClass']!r}"
                )
            sku = self._item(epc, element["epcClass"], kind, uom, f"{where}.epcClass")
            lot = _lot_code(epc, f"{where}.epcClass")
            quantity = None if amount is None else float(amount)
            lines.append(_Line(sku, lot, quantity, uom, f"{where}.epcClass"))
        return lines

    def _contents(self, sscc: str, depth: int = 0) -> list[_Line]:
        """The lots a logistic unit holds, through nested units."""
        if depth > 8:
            return []
        held = self.containers.get(sscc)
        if held is None:
            held = self.containers[sscc] = self.stored_container(sscc)
        lines: list[_Line] = []
        for content in held:
            lines.extend(
                self._contents(content, depth + 1) if isinstance(content, str) else [content]
            )
        return lines

    def _aggregation(
        self, event: dict[str, Any], path: str, moment: datetime, site: str, facts: dict[str, str]
    ) -> None:
        parent = event.get("parentID")
        lines = self._lines(event, path, "childEPCs", "childQuantityList", "finished", expand=False)
        for line in lines:
            self._lot(line, site=site, **facts)
        if not isinstance(parent, str) or event.get("action") == "DELETE":
            return  # unpacking is recorded with the event; contents stay traced
        container = self._epc(parent, f"{path}.parentID")
        if container.kind != "sscc" or container.code is None:
            return
        children: list[_Line | str] = list(lines)
        for index, uri in enumerate(event.get("childEPCs") or []):
            child = self._epc(uri, f"{path}.childEPCs[{index}]")
            if child.kind == "sscc" and child.code:
                children.append(child.code)
        self.containers[container.code] = children
        stamp = moment.isoformat(timespec="seconds")
        for content in children:
            row: dict[str, Any] = {"sscc": container.code, "packed_at": stamp}
            if isinstance(content, str):
                row.update(child_sscc=content, lot_code="", sku="", quantity=None, uom=None)
            else:
                row.update(
                    child_sscc="",
                    lot_code=content.lot,
                    sku=content.sku,
                    quantity=content.quantity,
                    uom=content.uom,
                )
            self.tables.add("packing.csv", f"{path}.parentID", row)

    def _lot(self, line: _Line, **facts: str) -> None:
        key = (line.sku, line.lot)
        self.tables.named["lots.csv"].setdefault(key, line.where)
        lot = self.tables.lots.setdefault(
            key,
            {
                "lot_code": line.lot,
                "sku": line.sku,
                "quantity": "",
                "uom": line.uom or "",
                "produced_on": "",
                "received_on": "",
                "expires_on": "",
                "site": "",
            },
        )
        for name, value in facts.items():
            if value and not lot.get(name):
                lot[name] = value

    # events

    def translate(self, path: str, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind not in EVENT_TYPES:
            self.warn(f"{path}.type", f"{kind!r} is no EPCIS event type: recorded, not traced")
            return
        moment = self._time(event, path)
        biz_step = _short(str(event.get("bizStep", "")))
        disposition = _short(str(event.get("disposition", "")))
        site = self._location(event, path)
        facts = self._ilmd(event, path)
        if isinstance(event.get("sensorElementList"), list):
            self._sensors(event, path, moment)
        if kind == "TransformationEvent":
            self._transformation(event, path, moment, site, facts)
        elif kind == "AggregationEvent":
            self._aggregation(event, path, moment, site, facts)
            if biz_step in MOVES and event.get("action") != "DELETE":
                # receiving or shipping a packed unit (GS1 US FSMA 204 receives so)
                children = ("childEPCs", "childQuantityList")
                self._object(event, path, moment, site, facts, biz_step, disposition, children)
        elif kind == "ObjectEvent" or (kind == "TransactionEvent" and biz_step in MOVES):
            self._object(event, path, moment, site, facts, biz_step, disposition)

    def _someone(self, path: str, key: str, kind: str) -> str:
        """The unknown party a receipt or shipment whose event names none is recorded
        with, said as a warning."""
        self.warn(path, f"no {kind} in {key}: recorded from an unknown {kind}")
        self.tables.named["parties.csv"].setdefault(UNKNOWN_PARTY, path)
        self.tables.parties.setdefault(
            UNKNOWN_PARTY,
            {
                "id": UNKNOWN_PARTY,
                "name": "Unknown party (not named in EPCIS)",
                "kind": "distributor",
                "gln": "",
                "email": "",
                "phone": "",
            },
        )
        return UNKNOWN_PARTY

    def _sensors(self, event: dict[str, Any], path: str, moment: datetime) -> None:
        """Keep each sensor report with the lots the event names (its outputs for a
        transformation)."""
        if event.get("type") == "TransformationEvent":
            lines = self._lines(event, path, "outputEPCList", "outputQuantityList", "finished")
        else:
            lines = self._lines(event, path, "epcList", "quantityList", "finished")
        for found in lines:
            self._lot(found)  # a reading names a lot, which then exists
        for index, element in enumerate(event["sensorElementList"]):
            where = f"{path}.sensorElementList[{index}]"
            metadata = element.get("sensorMetadata") or {}
            for number, report in enumerate(element.get("sensorReport") or []):
                if not report.get("type"):
                    self.warn(
                        f"{where}.sensorReport[{number}]",
                        "a sensor report with no type (what was measured): recorded, not kept",
                    )
                    continue
                at = report.get("time") or metadata.get("time")
                place = (
                    f"{where}.sensorReport[{number}].time"
                    if report.get("time")
                    else f"{where}.sensorMetadata.time"
                )
                when = _parse_time(at, event.get("eventTimeZoneOffset"), place) if at else moment
                reading = {
                    "type": str(report.get("type", "")).split(":")[-1].split("-")[-1],
                    "value": report.get("value"),
                    "min_value": report.get("minValue"),
                    "max_value": report.get("maxValue"),
                    "uom": report.get("uom", ""),
                    "at": when.isoformat(timespec="seconds"),
                    "device": metadata.get("deviceID", ""),
                }
                named: list[_Line | None] = [*lines] if lines else [None]
                for line in named:
                    row = {
                        **reading,
                        "lot_code": line.lot if line else "",
                        "sku": line.sku if line else "",
                    }
                    self.tables.add("sensor_readings.csv", f"{where}.sensorReport[{number}]", row)

    def _time(self, event: dict[str, Any], path: str) -> datetime:
        return _parse_time(
            event.get("eventTime"), event.get("eventTimeZoneOffset"), f"{path}.eventTime"
        )

    def _location(self, event: dict[str, Any], path: str) -> str:
        for key in ("bizLocation", "readPoint"):
            place = event.get(key)
            if place is not None:
                return self.party(place["id"], f"{path}.{key}.id", "site")
        return ""

    def _ilmd(self, event: dict[str, Any], path: str) -> dict[str, str]:
        ilmd = event.get("ilmd") or {}
        facts: dict[str, str] = {}
        for key, value in ilmd.items():
            name = key.split(":")[-1]
            if name in ("itemExpirationDate", "bestBeforeDate", "sellByDate", "useByDate"):
                facts.setdefault("expires_on", _date(value, json_path(path, "ilmd", key)))
            elif name in ("productionDate", "dateOfManufacture", "harvestStartDate"):
                facts.setdefault("produced_on", _date(value, json_path(path, "ilmd", key)))
        return facts

    def _party_in(
        self, event: dict[str, Any], path: str, key: str, field_name: str, kind: str
    ) -> str:
        entries = event.get(key) or []
        best = ""
        for index, entry in enumerate(entries):
            entry_type = _short(str(entry.get("type", "")))
            if entry_type in ("owning_party", "possessing_party") and field_name in entry:
                return self.party(entry[field_name], f"{path}.{key}[{index}].{field_name}", kind)
            if entry_type == "location" and field_name in entry and not best:
                best = self.party(entry[field_name], f"{path}.{key}[{index}].{field_name}", kind)
        return best

    def _reference(self, event: dict[str, Any], *kinds: str) -> str:
        for entry in event.get("bizTransactionList") or []:
            if _short(str(entry.get("type", ""))) in kinds:
                return unquote(str(entry.get("bizTransaction", "")).rsplit(":", 1)[-1])
        entries = event.get("bizTransactionList") or []
        return (
            unquote(str(entries[0].get("bizTransaction", "")).rsplit(":", 1)[-1]) if entries else ""
        )

    def _object(
        self,
        event: dict[str, Any],
        path: str,
        moment: datetime,
        site: str,
        facts: dict[str, str],
        biz_step: str,
        disposition: str,
        lists: tuple[str, str] = ("epcList", "quantityList"),
    ) -> None:
        day = moment.date().isoformat()
        stamp = moment.isoformat(timespec="seconds")
        if biz_step in ("receiving", "arriving", "accepting"):
            lines = self._lines(event, path, *lists, "raw")
            supplier = self._party_in(event, path, "sourceList", "source", "supplier")
            if lines and not supplier:
                supplier = self._someone(f"{path}.sourceList", "sourceList", "supplier")
            for line in lines:
                self._lot(line, received_on=day, site=site, **facts)
                if supplier:
                    self.tables.add(
                        "receipts.csv",
                        path,
                        {
                            "lot_code": line.lot,
                            "sku": line.sku,
                            "supplier": supplier,
                            "supplier_lot": _extension(event, "supplierLot") or line.lot,
                            "quantity": line.quantity,
                            "uom": line.uom,
                            "received_on": day,
                            "site": site,
                            "reference": self._reference(event, "po", "desadv", "recadv"),
                        },
                    )
        elif biz_step in ("shipping", "departing"):
            lines = self._lines(event, path, *lists, "finished")
            customer = self._party_in(event, path, "destinationList", "destination", "customer")
            if lines and not customer:
                customer = self._someone(f"{path}.destinationList", "destinationList", "customer")
            for line in lines:
                self._lot(line, **facts)
                if customer:
                    self.tables.add(
                        "shipments.csv",
                        path,
                        {
                            "lot_code": line.lot,
                            "sku": line.sku,
                            "to": customer,
                            "from_site": site,
                            "quantity": line.quantity,
                            "uom": line.uom,
                            "shipped_on": day,
                            "reference": self._reference(event, "bol", "desadv", "inv"),
                        },
                    )
        elif biz_step == "inspecting":
            result = "fail" if disposition in FAILED else "pass"
            for line in self._lines(event, path, "epcList", "quantityList", "finished"):
                self._lot(line, **facts)
                self.tables.add(
                    "qc.csv",
                    path,
                    {
                        "lot_code": line.lot,
                        "sku": line.sku,
                        "test": _extension(event, "test") or "inspection",
                        "result": result,
                        "value": _extension(event, "value") or disposition,
                        "spec": _extension(event, "spec"),
                        "performed_by": _extension(event, "performedBy") or site,
                        "signed_off_by": _extension(event, "signedOffBy"),
                        "at": stamp,
                    },
                )
        elif biz_step == "holding":
            for line in self._lines(event, path, "epcList", "quantityList", "finished"):
                self._lot(line, **facts)
                self.tables.add(
                    "holds.csv",
                    path,
                    {
                        "lot_code": line.lot,
                        "sku": line.sku,
                        "reason": _extension(event, "reason")
                        or f"EPCIS holding ({disposition or 'no disposition'})",
                        "placed_by": _extension(event, "placedBy") or site,
                        "placed_at": stamp,
                        "released_by": _extension(event, "releasedBy"),
                        "released_at": _extension(event, "releasedAt"),
                    },
                )
        elif biz_step in ("destroying", "stock_taking", "cycle_counting") and (
            biz_step == "destroying" or _extension(event, "adjustment")
        ):
            for line in self._lines(event, path, "epcList", "quantityList", "finished"):
                self._lot(line, **facts)
                self.tables.add(
                    "adjustments.csv",
                    path,
                    {
                        "lot_code": line.lot,
                        "sku": line.sku,
                        "quantity": _extension(event, "adjustment") or -(line.quantity or 0.0),
                        "reason": _extension(event, "reason") or "destroyed (EPCIS)",
                        "at": stamp,
                        "by": _extension(event, "by") or site,
                    },
                )
        elif biz_step in ("commissioning", "creating_class_instance"):
            for line in self._lines(event, path, "epcList", "quantityList", "finished"):
                quantity = "" if line.quantity is None else str(line.quantity)
                self._lot(
                    line, site=site, quantity=quantity, status=_extension(event, "status"), **facts
                )
        else:
            for line in self._lines(event, path, "epcList", "quantityList", "finished"):
                self._lot(line, site=site, **facts)

    def _transformation(
        self, event: dict[str, Any], path: str, moment: datetime, site: str, facts: dict[str, str]
    ) -> None:
        inputs = self._lines(event, path, "inputEPCList", "inputQuantityList", "raw")
        outputs = self._lines(event, path, "outputEPCList", "outputQuantityList", "finished")
        day = moment.date().isoformat()
        through = {(line.sku, line.lot) for line in inputs} & {
            (line.sku, line.lot) for line in outputs
        }
        for line in inputs:
            self._lot(line)
        for output in outputs:
            self._lot(output, **({"produced_on": day, "site": site} | facts))
            if output.quantity is not None:
                lot = self.tables.lots[(output.sku, output.lot)]
                lot["quantity"] = str(float(lot["quantity"] or 0) + output.quantity)
            for line in inputs:
                if (line.sku, line.lot) in through and (output.sku, output.lot) in through:
                    continue  # lots named on both sides carry on through the event
                self.tables.add(
                    "consumption.csv",
                    path,
                    {
                        "output_lot": output.lot,
                        "output_sku": output.sku,
                        "input_lot": line.lot,
                        "input_sku": line.sku,
                        "quantity": line.quantity if len(outputs) == 1 else None,
                        "uom": line.uom,
                        "at": moment.isoformat(timespec="seconds"),
                        "work_order": self._reference(event, "prodorder")
                        or str(event.get("transformationID", "")).rsplit(":", 1)[-1],
                    },
                )


def _undo(
    connection: Any, rows: dict[str, list[dict[str, str]]], *, actor: str, source: str
) -> None:
    """Delete what a retracted event had written (matched by natural keys) and audit it."""
    from sqlalchemy import and_, delete

    from storage.importers.csv_import import Catalog, parse_date, parse_datetime
    from storage.tables import (
        ADJUSTMENTS,
        AUDIT,
        HOLDS,
        LINKS,
        PACKING,
        QC_CHECKS,
        RECEIPTS,
        SHIPMENTS,
    )

    catalog = Catalog(connection)
    removed = 0

    def lot(code: str, sku: str) -> int | None:
        return (
            catalog.lots.get(code, {}).get(catalog.items[sku].id) if sku in catalog.items else None
        )

    def moment(value: str) -> Any:
        return parse_datetime(value, "at")

    for row in rows.get("consumption.csv", []):
        at = moment(row["at"])
        removed += connection.execute(
            delete(LINKS).where(
                LINKS.c.input_lot_id == lot(row["input_lot"], row["input_sku"]),
                LINKS.c.output_lot_id == lot(row["output_lot"], row["output_sku"]),
                LINKS.c.work_order == row["work_order"],
                LINKS.c.at == at if at is not None else LINKS.c.at.is_(None),
            )
        ).rowcount
    simple = {
        "shipments.csv": (
            SHIPMENTS,
            lambda r: and_(
                SHIPMENTS.c.party_id == catalog.parties.get(r["to"]),
                SHIPMENTS.c.shipped_on == parse_date(r["shipped_on"], "shipped_on"),
                SHIPMENTS.c.reference == r["reference"],
            ),
        ),
        "receipts.csv": (
            RECEIPTS,
            lambda r: and_(
                RECEIPTS.c.supplier_id == catalog.parties.get(r["supplier"]),
                RECEIPTS.c.received_on == parse_date(r["received_on"], "received_on"),
                RECEIPTS.c.reference == r["reference"],
            ),
        ),
        "qc.csv": (
            QC_CHECKS,
            lambda r: and_(QC_CHECKS.c.test == r["test"], QC_CHECKS.c.at == moment(r["at"])),
        ),
        "holds.csv": (HOLDS, lambda r: HOLDS.c.placed_at == moment(r["placed_at"])),
        "adjustments.csv": (
            ADJUSTMENTS,
            lambda r: and_(
                ADJUSTMENTS.c.at == moment(r["at"]), ADJUSTMENTS.c.reason == r["reason"]
            ),
        ),
        "packing.csv": (
            PACKING,
            lambda r: and_(
                PACKING.c.sscc == r["sscc"], PACKING.c.packed_at == moment(r["packed_at"])
            ),
        ),
    }
    for name, (table, match) in simple.items():
        for row in rows.get(name, []):
            lot_id = lot(row.get("lot_code", ""), row.get("sku", ""))
            removed += connection.execute(
                delete(table).where(table.c.lot_id == lot_id, match(row))
            ).rowcount
    connection.execute(
        insert(AUDIT),
        {
            "at": datetime.now(UTC),
            "actor": actor,
            "action": "retract",
            "entity": "epcis_event",
            "entity_key": source,
            "detail": json.dumps({"rows_removed": removed}),
            "reason": "EPCIS error declaration",
        },
    )


def _stored_container(url: str, sscc: str) -> list[_Line | str]:
    """What a logistic unit already in the database holds."""
    from storage.db import make_engine
    from storage.tables import ITEMS, LOTS, PACKING

    statement = (
        select(
            PACKING.c.child_sscc, LOTS.c.lot_code, ITEMS.c.sku, PACKING.c.quantity, PACKING.c.uom
        )
        .join_from(PACKING, LOTS, LOTS.c.id == PACKING.c.lot_id, isouter=True)
        .join_from(LOTS, ITEMS, ITEMS.c.id == LOTS.c.item_id, isouter=True)
        .where(PACKING.c.sscc == sscc, PACKING.c.unpacked_at.is_(None))
    )
    with make_engine(url).connect() as connection:
        return [
            child if child else _Line(sku, code, quantity, uom)
            for child, code, sku, quantity, uom in connection.execute(statement)
        ]


def import_epcis(
    url: str,
    document: Any,
    *,
    source: str = "document",
    actor: str = "cli",
    horizon: int = 7,
) -> ImportReport:
    """Load an EPCIS document (or a bare event, or a list of events); all or nothing.

    Identifiers and event types that mean nothing for traceability are recorded
    with their event and listed in ``report.warnings``, as are receipts and
    shipments whose event names no party (recorded from an unknown one).

    Raises:
        EpcisError: the document is refused (see :func:`check_document`), with the
            JSON path of the value at fault; nothing was loaded.
    """
    from storage.db import require_schema

    require_schema(url)
    if isinstance(document, bytes):
        document = parse_epcis(document)
    try:
        report = _import(url, as_document(document), source=source, actor=actor, horizon=horizon)
    except EpcisError as err:
        line = document.line_of(err.path) if isinstance(document, XmlDocument) else None
        if line is None:
            raise
        raise EpcisError(f"line {line} ({err.path})", err.reason) from err
    if isinstance(document, XmlDocument):
        report.warnings = [*document.notes, *report.warnings]
    return report


def _import(url: str, document: Any, *, source: str, actor: str, horizon: int) -> ImportReport:
    from storage.db import make_engine
    from storage.tables import EPCIS_EVENTS, ITEMS, PARTIES

    check_document(document)
    events = list(_events(document))
    keys = [event_key(event) for _, event in events]
    with make_engine(url).connect() as connection:
        asked = keys + [event["eventID"] for _, event in events if _declares_error(event)]
        statement = select(EPCIS_EVENTS.c.event_key).where(EPCIS_EVENTS.c.event_key.in_(asked))
        known = set(connection.execute(statement).scalars()) if keys else set()
        skus = {
            gtin: sku for gtin, sku in connection.execute(select(ITEMS.c.gtin, ITEMS.c.sku)) if gtin
        }
        glns = {
            gln: code
            for gln, code in connection.execute(select(PARTIES.c.gln, PARTIES.c.code))
            if gln
        }
    master = _master_data(document)
    translator = _Translator(master, skus, glns)
    translator.stored_container = lambda sscc: _stored_container(url, sscc)
    for uri, facts in master.facts.items():
        # Parties the master data describes fully load even when no event names them.
        if facts.get("code") and facts.get("kind") in PARTY_KINDS:
            translator.party(uri, json_path(master.where[(uri, "")], "id"), facts["kind"])
    # An event sent again with an errorDeclaration retracts the event of that ID:
    # its effects are undone if it was loaded, and it is never loaded afterwards.
    declared = {event["eventID"] for _, event in events if _declares_error(event)}
    retract = _Translator(master, skus, glns)
    fresh: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for (path, event), key in zip(events, keys, strict=True):
        if key in known or key in seen:
            continue
        seen.add(key)
        fresh.append((key, event))
        if _declares_error(event):
            original = event["eventID"]
            if original in known:
                retract.translate(path, {k: v for k, v in event.items() if k != "errorDeclaration"})
            elif original not in seen:
                seen.add(original)
                fresh.append((original, {**event, "tracebot:retracted": True}))
        elif key not in declared:
            translator.translate(path, event)
    tables = translator.tables
    for uri, facts in master.facts.items():
        if facts.get("sku") and facts.get("formulaVersions"):
            where = master.where[(uri, "formulaVersions")]
            for version in _formula_versions(facts["formulaVersions"], where):
                tables.add(
                    "formulas.csv",
                    where,
                    {
                        "sku": facts["sku"],
                        "version": version.get("version"),
                        "effective_from": version.get("effectiveFrom"),
                        "changed_by": version.get("changedBy"),
                        "summary": version.get("summary"),
                        "ingredients": version.get("ingredients"),
                    },
                )
    rows, paths = tables.all_rows()
    records = [
        {
            "event_key": key,
            "event_type": event.get("type", ""),
            "event_time": datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")),
            "biz_step": _short(str(event.get("bizStep", ""))),
            "body": json.dumps(event, sort_keys=True),
        }
        for key, event in fresh
    ]

    def record_events(connection: Any) -> None:
        if records:
            connection.execute(insert(EPCIS_EVENTS), records)
        if retract.tables.rows:
            _undo(connection, retract.tables.rows, actor=actor, source=source)

    report = import_rows(
        url,
        rows,
        paths=paths,
        source=source,
        actor=actor,
        reason=f"EPCIS import of {source}",
        also=record_events,
        horizon=horizon,
    )
    report.events = len(fresh)
    report.skipped_events = len(events) - len(fresh)
    report.warnings = list(translator.warnings)
    if report.rejected:
        first = report.rejected[0]
        raise EpcisError(first.file if first.file.startswith("$") else "$", first.reason)
    return report


def _formula_versions(text: str, path: str) -> list[dict[str, Any]]:
    """The versions a ``tracebot:formulaVersions`` attribute (JSON text) lists."""
    try:
        versions = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise EpcisError(path, "tracebot:formulaVersions is not JSON") from err
    try:
        _validate(_FORMULAS, versions, "")
    except EpcisError as err:
        raise EpcisError(path, f"tracebot:formulaVersions{err.path}: {err.reason}") from err
    return list(versions)
