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
offending field; events already imported (by ``eventID``, or by a hash of the
event where it has none) are skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import insert, select

from storage.errors import StorageError
from storage.importers.csv_import import import_rows
from storage.importers.epc import Epc, EpcError, parse_epc
from storage.importers.report import ImportReport
from storage.models import PARTY_KINDS

__all__ = ["EpcisError", "import_epcis", "read_epcis"]

CBV = "https://ref.gs1.org/cbv/"
UNITS = {
    "KGM": "kg",
    "GRM": "g",
    "LTR": "l",
    "MLT": "ml",
    "EA": "ea",
    "H87": "ea",
    "C62": "ea",
    "TNE": "t",
    "LBR": "lb",
}
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


def _short(value: str) -> str:
    """A CBV value in its short form ("receiving" for its URI form too)."""
    for prefix in (
        CBV + "BizStep-",
        CBV + "Disp-",
        CBV + "BTT-",
        CBV + "SDT-",
        "urn:epcglobal:cbv:bizstep:",
        "urn:epcglobal:cbv:disp:",
        "urn:epcglobal:cbv:btt:",
        "urn:epcglobal:cbv:sdt:",
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

    def add(self, name: str, path: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(name, []).append(
            {key: "" if value is None else str(value) for key, value in row.items()}
        )
        self.paths.setdefault(name, []).append(path)


@dataclass(frozen=True)
class _Line:
    """One lot a quantity element or EPC names, with its amount."""

    sku: str
    lot: str
    quantity: float | None
    uom: str | None


def read_epcis(path: Path) -> dict[str, Any]:
    """The JSON document in ``path``; bad JSON is an EpcisError with its place."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise EpcisError(
            f"$ (line {err.lineno}, column {err.colno})", f"not JSON: {err.msg}"
        ) from err
    except UnicodeDecodeError as err:
        raise EpcisError("$", "not UTF-8 text") from err
    if not isinstance(document, dict):
        raise EpcisError("$", "not a JSON object")
    return document


def _events(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = document.get("type")
    body = document.get("epcisBody")
    if kind not in ("EPCISDocument", "EPCISQueryDocument"):
        raise EpcisError("$.type", f"expected EPCISDocument or EPCISQueryDocument, got {kind!r}")
    if not isinstance(body, dict):
        raise EpcisError("$.epcisBody", "missing")
    if kind == "EPCISQueryDocument":
        results = body.get("queryResults", {}).get("resultsBody", {})
        base, events = "$.epcisBody.queryResults.resultsBody.eventList", results.get("eventList")
    else:
        base, events = "$.epcisBody.eventList", body.get("eventList")
    if not isinstance(events, list):
        raise EpcisError(base, "missing or not a list")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise EpcisError(f"{base}[{index}]", "not an object")
        yield f"{base}[{index}]", event


def _master_data(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Attributes of each master-data element, by element id, under short names
    ("name" for the CBV name or short description, "kind" for ``tracebot:kind``)."""
    found: dict[str, dict[str, str]] = {}
    header = document.get("epcisHeader")
    data = header.get("epcisMasterData", {}) if isinstance(header, dict) else {}
    vocabularies = data.get("vocabularyList", []) if isinstance(data, dict) else []
    for vocabulary in vocabularies if isinstance(vocabularies, list) else []:
        for element in vocabulary.get("vocabularyElementList", []) or []:
            attributes = found.setdefault(str(element.get("id", "")), {})
            for attribute in element.get("attributes", []) or []:
                name, value = str(attribute.get("id", "")), attribute.get("attribute")
                if not isinstance(value, str | int | float):
                    continue
                if name in NAME_ATTRIBUTES:
                    attributes.setdefault("name", str(value))
                elif name.startswith("tracebot:"):
                    attributes[name.removeprefix("tracebot:")] = str(value)
    return found


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
        try:
            local = datetime.fromisoformat(f"2000-01-01T00:00:00{offset}").tzinfo
        except ValueError as err:
            raise EpcisError(
                path.rsplit(".", 1)[0] + ".eventTimeZoneOffset", f"not an offset: {offset!r}"
            ) from err
        moment = moment.astimezone(local)
    # Plant time, as the CSV files give it.
    return moment.replace(tzinfo=None)


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
    def __init__(
        self, master: dict[str, dict[str, str]], skus: dict[str, str], parties: dict[str, str]
    ) -> None:
        self.master = master
        self.skus = skus  # GTIN -> the SKU of an item already stored
        self.known_parties = parties  # GLN -> the id of a party already stored
        self.tables = _Tables()
        # What each SSCC holds: packed in this document, or looked up in the database.
        self.containers: dict[str, list[_Line | str]] = {}
        self.stored_container: Callable[[str], list[_Line | str]] = lambda _sscc: []

    # identifiers -> items, lots and parties

    def _epc(self, value: Any, path: str) -> Epc:
        if not isinstance(value, str):
            raise EpcisError(path, "expected an identifier (a string)")
        try:
            return parse_epc(value)
        except EpcError as err:
            raise EpcisError(path, str(err)) from err

    def _item(self, epc: Epc, uri: str, kind: str, uom: str | None) -> str:
        if epc.gtin is not None and epc.gtin in self.skus:
            return self.skus[epc.gtin]
        key = (
            f"https://id.gs1.org/01/{epc.gtin}"
            if epc.gtin
            else f"urn:tracebot:item:{quote(epc.sku or '', safe='')}"
        )
        facts = self.master.get(key) or self.master.get(uri) or {}
        sku = facts.get("sku") or epc.sku or epc.gtin or ""
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
            },
        )
        return sku

    def party(self, uri: str, path: str, kind: str) -> str:
        epc = self._epc(uri, path)
        if epc.kind not in ("sgln", "pgln", "party") or epc.code is None:
            raise EpcisError(path, f"expected a party or location (GLN), got {uri!r}")
        if epc.kind != "party" and epc.serial is None and epc.code in self.known_parties:
            return self.known_parties[epc.code]
        facts = self.master.get(uri, {})
        code = facts.get("code") or (epc.code if epc.serial is None else f"{epc.code}-{epc.serial}")
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
            epc = self._epc(uri, f"{path}.{epcs}[{index}]")
            if epc.kind in ("lgtin", "sgtin"):
                sku = self._item(epc, uri, kind, "ea")
                lines.append(_Line(sku, epc.lot or epc.serial or "", 1.0, "ea"))
            elif epc.kind == "sscc" and epc.code and expand:
                lines.extend(self._contents(epc.code))
        for index, element in enumerate(event.get(quantities) or []):
            where = f"{path}.{quantities}[{index}]"
            if not isinstance(element, dict) or "epcClass" not in element:
                raise EpcisError(where, "expected an object with epcClass")
            epc = self._epc(element["epcClass"], f"{where}.epcClass")
            amount = element.get("quantity")
            if amount is not None and (not isinstance(amount, int | float) or amount < 0):
                raise EpcisError(
                    f"{where}.quantity", f"expected a non-negative number, got {amount!r}"
                )
            uom = UNITS.get(
                str(element.get("uom", "")), str(element.get("uom", "")).lower() or "ea"
            )
            if epc.kind == "gtin":
                self._item(epc, element["epcClass"], kind, uom)
                continue  # a class without a lot names no lot to trace
            if epc.kind not in ("lgtin", "sgtin"):
                raise EpcisError(
                    f"{where}.epcClass", f"expected a product class, got {element['epcClass']!r}"
                )
            sku = self._item(epc, element["epcClass"], kind, uom)
            lines.append(
                _Line(
                    sku, epc.lot or epc.serial or "", None if amount is None else float(amount), uom
                )
            )
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
            self.tables.add("packing.csv", path, row)

    def _lot(self, line: _Line, **facts: str) -> None:
        key = (line.sku, line.lot)
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
            raise EpcisError(f"{path}.type", f"an event type this importer does not read: {kind!r}")
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
        elif kind == "ObjectEvent":
            self._object(event, path, moment, site, facts, biz_step, disposition)

    def _sensors(self, event: dict[str, Any], path: str, moment: datetime) -> None:
        """Keep each sensor report with the lots the event names (its outputs for a
        transformation)."""
        if event.get("type") == "TransformationEvent":
            lines = self._lines(event, path, "outputEPCList", "outputQuantityList", "finished")
        else:
            lines = self._lines(event, path, "epcList", "quantityList", "finished")
        for index, element in enumerate(event["sensorElementList"]):
            where = f"{path}.sensorElementList[{index}]"
            if not isinstance(element, dict):
                raise EpcisError(where, "expected an object")
            metadata = element.get("sensorMetadata") or {}
            for number, report in enumerate(element.get("sensorReport") or []):
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
            if isinstance(place, dict) and "id" in place:
                return self.party(place["id"], f"{path}.{key}.id", "site")
        return ""

    def _ilmd(self, event: dict[str, Any], path: str) -> dict[str, str]:
        ilmd = event.get("ilmd") or {}
        facts: dict[str, str] = {}
        for key, value in ilmd.items() if isinstance(ilmd, dict) else []:
            name = key.split(":")[-1]
            if name in (
                "itemExpirationDate",
                "bestBeforeDate",
                "sellByDate",
                "useByDate",
            ) and isinstance(value, str):
                facts.setdefault("expires_on", value[:10])
            elif name in ("productionDate", "dateOfManufacture", "harvestStartDate") and isinstance(
                value, str
            ):
                facts.setdefault("produced_on", value[:10])
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
    ) -> None:
        day = moment.date().isoformat()
        stamp = moment.isoformat(timespec="seconds")
        if biz_step in ("receiving", "arriving", "accepting"):
            lines = self._lines(event, path, "epcList", "quantityList", "raw")
            supplier = self._party_in(event, path, "sourceList", "source", "supplier")
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
            lines = self._lines(event, path, "epcList", "quantityList", "finished")
            customer = self._party_in(event, path, "destinationList", "destination", "customer")
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
            self._lot(output, produced_on=day, site=site, **facts)
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
    url: str, document: dict[str, Any], *, source: str = "document", actor: str = "cli"
) -> ImportReport:
    """Load an EPCIS document; all or nothing.

    Raises:
        EpcisError: the document is refused; nothing was loaded.
    """
    from storage.db import make_engine, require_schema
    from storage.tables import EPCIS_EVENTS, ITEMS, PARTIES

    require_schema(url)
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
    for uri, facts in master.items():
        # Parties the master data describes fully load even when no event names them.
        if facts.get("code") and facts.get("kind") in PARTY_KINDS:
            translator.party(uri, "$.epcisHeader.epcisMasterData", facts["kind"])
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
    for facts in master.values():
        if facts.get("sku") and facts.get("formulaVersions"):
            try:
                versions = json.loads(facts["formulaVersions"])
            except json.JSONDecodeError as err:
                raise EpcisError(
                    "$.epcisHeader.epcisMasterData", "tracebot:formulaVersions is not JSON"
                ) from err
            for version in versions:
                tables.add(
                    "formulas.csv",
                    "$.epcisHeader.epcisMasterData",
                    {
                        "sku": facts["sku"],
                        "version": version.get("version"),
                        "effective_from": version.get("effectiveFrom"),
                        "changed_by": version.get("changedBy"),
                        "summary": version.get("summary"),
                        "ingredients": version.get("ingredients"),
                    },
                )
    rows = {
        "items.csv": list(tables.items.values()),
        "parties.csv": list(tables.parties.values()),
        "lots.csv": list(tables.lots.values()),
        **tables.rows,
    }
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
        paths=tables.paths,
        source=source,
        actor=actor,
        reason=f"EPCIS import of {source}",
        also=record_events,
    )
    report.events = len(fresh)
    report.skipped_events = len(events) - len(fresh)
    if report.rejected:
        first = report.rejected[0]
        raise EpcisError(first.file, first.reason)
    return report
