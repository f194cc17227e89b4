"""EPCIS 1.2 and 2.0 XML as the JSON the EPCIS importer reads, with each value's line.

Most deployed EPCIS systems speak XML. A document (``EPCISDocument``) or query
document (``EPCISQueryDocument``) is parsed with lxml (no DTDs, entities or
network) and turned into the JSON-LD form of EPCIS 2.0: events keep their
fields under the same names (``epcList``, ``quantityList``, ``sourceList``…),
EPCIS 1.2's ``extension`` and ``baseExtension`` wrappers are unwrapped, and
a user extension element is kept as ``prefix:name``. The line of every event and
field is kept, so a refusal names the XML line as well as the JSON path.

An element without a namespace that the standard does not define, directly in an
event, is refused; field order is not held (systems write fields in any order).

Example:
    >>> document = xml_document(b'''<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"
    ...   schemaVersion="2.0"><EPCISBody><EventList><ObjectEvent>
    ...   <eventTime>2026-11-20T09:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
    ...   <epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>OBSERVE</action>
    ... </ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>''')
    >>> document["epcisBody"]["eventList"][0]["epcList"], document.lines["$.epcisBody.eventList[0]"]
    (['urn:epc:id:sgtin:4012345.011111.1'], 2)
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from storage.errors import StorageError

__all__ = ["CONTEXT", "XmlDocument", "XmlError", "looks_like_xml", "xml_document"]

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
COMMON = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration")
TAIL = ("persistentDisposition", "readPoint", "bizLocation")
FIELDS = {
    "ObjectEvent": (
        *COMMON, "certificationInfo", "epcList", "action", "bizStep", "disposition", *TAIL,
        "bizTransactionList", "quantityList", "sourceList", "destinationList",
        "sensorElementList", "ilmd",
    ),
    "AggregationEvent": (
        *COMMON, "certificationInfo", "parentID", "childEPCs", "action", "bizStep",
        "disposition", *TAIL, "bizTransactionList", "childQuantityList", "sourceList",
        "destinationList", "sensorElementList",
    ),
    "TransactionEvent": (
        *COMMON, "certificationInfo", "bizTransactionList", "parentID", "epcList", "action",
        "bizStep", "disposition", *TAIL, "quantityList", "sourceList", "destinationList",
        "sensorElementList",
    ),
    "TransformationEvent": (
        *COMMON, "certificationInfo", "inputEPCList", "inputQuantityList", "outputEPCList",
        "outputQuantityList", "transformationID", "bizStep", "disposition", *TAIL,
        "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd",
    ),
    "AssociationEvent": (
        *COMMON, "certificationInfo", "parentID", "childEPCs", "childQuantityList", "action",
        "bizStep", "disposition", *TAIL, "bizTransactionList", "sourceList",
        "destinationList", "sensorElementList",
    ),
}  # fmt: skip
"""The fields of each event type, as the EPCIS 2.0 XSD lists them."""
EPC_LISTS = {"epcList", "childEPCs", "inputEPCList", "outputEPCList"}
QUANTITY_LISTS = {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
WRAPPERS = {"extension", "baseExtension"}
NUMBERS = {"quantity", "value", "minValue", "maxValue", "meanValue", "sDev", "percRank"}
PREFIXES = {
    "urn:epcglobal:cbv:mda": "cbvmda",
    "urn:epcglobal:cbv:mda:": "cbvmda",
    "https://ref.gs1.org/cbv/": "cbv",
    "https://gs1.org/voc/": "gs1",
}


class XmlError(StorageError):
    """XML that is no EPCIS document; ``line`` is where (0: the whole document)."""

    def __init__(self, line: int, reason: str) -> None:
        self.line, self.reason = line, reason
        super().__init__(f"line {line}: {reason}" if line else reason)


class XmlDocument(dict[str, Any]):
    """An EPCIS document read from XML; ``lines`` maps JSON paths to XML lines."""

    lines: dict[str, int]
    notes: list[str]
    """What was read and not loaded (a query asked rather than its results)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines, self.notes = {}, []

    def line_of(self, path: str) -> int | None:
        """The line of the longest part of ``path`` read from the XML."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                return None
            path = path[:cut]
        return None


def looks_like_xml(data: bytes) -> bool:
    """True when the bytes start (after a byte-order mark and blanks) with ``<``."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _local(element: Any) -> str:
    return etree.QName(element).localname


STANDARD = frozenset(
    {
        "urn:epcglobal:epcis:xsd:1",
        "urn:epcglobal:epcis:xsd:2",
        "urn:epcglobal:epcis-query:xsd:1",
        "urn:epcglobal:epcis-query:xsd:2",
    }
)
"""EPCIS's own namespaces: an element in them is a standard one, however prefixed."""


def _namespace(element: Any) -> str | None:
    """An element's namespace; None for EPCIS's own elements."""
    namespace = etree.QName(element).namespace
    return None if namespace in STANDARD else namespace


def _text(element: Any) -> str:
    return (element.text or "").strip()


class _Reader:
    def __init__(self) -> None:
        self.lines: dict[str, int] = {}

    def at(self, path: str, element: Any) -> str:
        self.lines.setdefault(path, element.sourceline or 0)
        return path

    def _key(self, element: Any) -> str:
        """A user extension element's name, as JSON-LD gives it: ``prefix:name``."""
        namespace = _namespace(element)
        prefix = element.prefix or PREFIXES.get(namespace or "") or "ext"
        return f"{prefix}:{_local(element)}"

    def _value(self, element: Any, path: str) -> Any:
        """A user extension's content: text, or an object of its children."""
        children = [child for child in element if isinstance(child.tag, str)]
        if not children:
            return _text(element)
        found: dict[str, Any] = {}
        for child in children:
            key = self._key(child) if _namespace(child) else _local(child)
            found[key] = self._value(child, self.at(f"{path}.{key}", child))
        return found

    def event(self, element: Any, path: str) -> dict[str, Any]:
        kind = _local(element)
        event: dict[str, Any] = {"type": kind}
        self.at(path, element)
        known = FIELDS.get(kind, ())
        for child in self._fields(element):
            name = _local(child)
            where = self.at(f"{path}.{name}", child)
            if _namespace(child) is not None:
                key = self._key(child)
                event[key] = self._value(child, self.at(f"{path}.{key}", child))
                continue
            if name not in known:
                if child.getparent() is element:
                    raise XmlError(child.sourceline or 0, f"<{name}> is no element of a {kind}")
                # EPCIS 1.2 put vendors' fields without a namespace inside <extension>
                event[f"ext:{name}"] = self._value(child, where)
                continue
            event[name] = self._field(name, child, where)
        return event

    def _fields(self, element: Any) -> list[Any]:
        """The event's fields, with 1.2's ``extension`` and ``baseExtension`` unwrapped."""
        found = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if _namespace(child) is None and _local(child) in WRAPPERS:
                found.extend(self._fields(child))
            else:
                found.append(child)
        return found

    def _field(self, name: str, element: Any, path: str) -> Any:
        children = [child for child in element if isinstance(child.tag, str)]
        if name in EPC_LISTS:
            return [_text(child) for child in children if _local(child) == "epc"]
        if name in QUANTITY_LISTS:
            return [
                self._quantity(child, self.at(f"{path}[{index}]", child))
                for index, child in enumerate(children)
            ]
        if name in ("readPoint", "bizLocation"):
            ids = [child for child in children if _local(child) == "id"]
            return {"id": _text(ids[0])} if ids else {}
        if name == "bizTransactionList":
            return [
                {**self._type(child), "bizTransaction": _text(child)}
                for child in children
                if _local(child) == "bizTransaction"
            ]
        if name in ("sourceList", "destinationList"):
            single = name.removesuffix("List")
            return [
                {**self._type(child), single: _text(child)}
                for child in children
                if _local(child) == single
            ]
        if name == "ilmd":
            found: dict[str, Any] = {}
            for child in self._fields(element):
                key = self._key(child) if _namespace(child) else _local(child)
                found[key] = self._value(child, self.at(f"{path}.{key}", child))
            return found
        if name == "sensorElementList":
            return [self._sensor(child, f"{path}[{index}]") for index, child in enumerate(children)]
        if name == "errorDeclaration":
            declaration: dict[str, Any] = {}
            for child in children:
                key = _local(child)
                if key == "correctiveEventIDs":
                    declaration[key] = [
                        _text(grand) for grand in child if isinstance(grand.tag, str)
                    ]
                elif _namespace(child) is None:
                    declaration[key] = _text(child)
            return declaration
        if name == "certificationInfo":
            return _text(element) or self._value(element, path)
        return _text(element)

    @staticmethod
    def _type(element: Any) -> dict[str, str]:
        kind = element.get("type")
        return {"type": kind} if kind else {}

    def _quantity(self, element: Any, path: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = _local(child)
            self.at(f"{path}.{name}", child)
            if name == "quantity":
                if child.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true":
                    continue
                found[name] = _number(_text(child))
            else:
                found[name] = _text(child)
        return found

    def _sensor(self, element: Any, path: str) -> dict[str, Any]:
        self.at(path, element)
        sensor: dict[str, Any] = {}
        reports: list[dict[str, Any]] = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = _local(child)
            attributes = {
                etree.QName(key).localname: (
                    _number(value) if etree.QName(key).localname in NUMBERS else value
                )
                for key, value in child.attrib.items()
            }
            if name == "sensorMetadata":
                sensor["sensorMetadata"] = attributes
            elif name == "sensorReport":
                self.at(f"{path}.sensorReport[{len(reports)}]", child)
                reports.append(attributes)
        sensor["sensorReport"] = reports
        return sensor

    def master_data(self, header: Any) -> dict[str, Any] | None:
        lists = [
            e for e in header.iter() if isinstance(e.tag, str) and _local(e) == "VocabularyList"
        ]
        if not lists:
            return None
        vocabularies = []
        for vocabulary in lists[0]:
            if not isinstance(vocabulary.tag, str):
                continue
            elements = []
            for element in vocabulary.iter():
                if not isinstance(element.tag, str) or _local(element) != "VocabularyElement":
                    continue
                attributes = [
                    {"id": attribute.get("id", ""), "attribute": _text(attribute)}
                    for attribute in element
                    if isinstance(attribute.tag, str) and _local(attribute) == "attribute"
                ]
                elements.append({"id": element.get("id", ""), "attributes": attributes})
            vocabularies.append(
                {"type": vocabulary.get("type", ""), "vocabularyElementList": elements}
            )
        return {"vocabularyList": vocabularies}


def _check_poll(asked: Any) -> None:
    """Refuse a query (``Poll``) that names no query or gives a parameter no value."""
    if _local(asked) != "Poll":
        raise XmlError(asked.sourceline or 0, f"<{_local(asked)}> is no query result or query")
    children = {_local(e): e for e in asked if isinstance(e.tag, str)}
    if "queryName" not in children or not _text(children["queryName"]):
        raise XmlError(asked.sourceline or 0, "a <Poll> names no <queryName>")
    for param in asked.iter():
        if not isinstance(param.tag, str) or _local(param) != "param":
            continue
        parts = {_local(e): e for e in param if isinstance(e.tag, str)}
        if "name" not in parts or "value" not in parts:
            missing = "name" if "name" not in parts else "value"
            raise XmlError(param.sourceline or 0, f"a query <param> without its <{missing}>")


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # the importer refuses it, naming its place


def xml_document(data: bytes) -> XmlDocument:
    """The EPCIS document an XML file holds, in its JSON form.

    Raises:
        XmlError: not well-formed XML (with its line), or no EPCIS document.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise XmlError(err.lineno or 0, f"not well-formed XML: {err.msg}") from err
    kind = _local(root)
    if kind not in ("EPCISDocument", "EPCISQueryDocument"):
        raise XmlError(root.sourceline or 0, f"expected EPCISDocument, got <{kind}>")
    reader = _Reader()
    document = XmlDocument(
        {
            "@context": CONTEXT,
            "type": kind,
            "schemaVersion": root.get("schemaVersion", ""),
            "creationDate": root.get("creationDate", ""),
        }
    )
    header = next((e for e in root if isinstance(e.tag, str) and _local(e) == "EPCISHeader"), None)
    if header is not None:
        master = reader.master_data(header)
        if master is not None:
            document["epcisHeader"] = {"epcisMasterData": master}
    body = next((e for e in root if isinstance(e.tag, str) and _local(e) == "EPCISBody"), None)
    if body is None:
        raise XmlError(root.sourceline or 0, "no <EPCISBody>")
    base = "$.epcisBody"
    found = [e for e in body.iter() if isinstance(e.tag, str) and _local(e) == "EventList"]
    events: list[dict[str, Any]] = []
    if kind == "EPCISQueryDocument":
        base += ".queryResults.resultsBody"
    for event_list in found[:1]:
        for child in reader._fields(event_list):
            events.append(reader.event(child, f"{base}.eventList[{len(events)}]"))
    if kind == "EPCISQueryDocument":
        results = next(
            (e for e in body.iter() if isinstance(e.tag, str) and _local(e) == "QueryResults"), None
        )
        if results is None:
            asked = next((e for e in body if isinstance(e.tag, str)), body)
            _check_poll(asked)
            document.notes.append(
                f"line {asked.sourceline}: <{_local(asked)}> asks a query: no events to load"
            )
            results = asked
        names = [e for e in results if isinstance(e.tag, str) and _local(e) == "queryName"]
        name = _text(names[0]) if names else ""
        document["epcisBody"] = {
            "queryResults": {"queryName": name, "resultsBody": {"eventList": events}}
        }
    else:
        document["epcisBody"] = {"eventList": events}
    document.lines = reader.lines
    return document
