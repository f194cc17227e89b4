"""A trace, or the whole plant, as a GS1 EPCIS 2.0 JSON-LD document.

Lots are named by GS1 Digital Link URIs where their item has a GTIN
(``https://id.gs1.org/01/GTIN/10/LOT``), parties and sites by their GLN
(``/417/`` and ``/414/``); what has no GS1 key gets TraceBot's own URNs. The
header's master data carries names, kinds, units, shelf lives and contacts.
Events, in time order:

* ``creating_class_instance`` ObjectEvent per lot: its quantity, site and dates;
* ``receiving`` and ``shipping`` ObjectEvents for receipts and shipments;
* a TransformationEvent per output lot and work order, with the inputs' quantities;
* ``inspecting`` (QC checks), ``holding`` (holds), ``destroying`` or
  ``stock_taking`` (adjustments) ObjectEvents.

Details with no EPCIS field (a QC check's test, value and signer, a hold's reason
and release, the supplier's own lot code) travel as ``tracebot:`` extension
fields, which :mod:`storage.importers.epcis` reads back: exporting and importing
into a fresh database gives the same answers. Event IDs are derived from each
event's natural key, so exporting twice and importing both changes nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from storage.db import make_engine
from storage.importers.epcis import UNIT_CODES
from storage.repository import SqlStore
from storage.tables import LOTS
from trace_engine.model import ItemFacts, LotFacts, PartyFacts

__all__ = ["NAMESPACE", "export_epcis"]

NAMESPACE = "https://tracebot.example/epcis/"
CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"tracebot": NAMESPACE},
]


def un_unit(unit: str) -> str:
    """A plant's unit as the UN/CEFACT code EPCIS wants (2 or 3 capitals or digits).

    Example:
        >>> un_unit("kg"), un_unit("box"), un_unit("cs"), un_unit("pallets")
        ('KGM', 'BX', 'CS', 'pallets')
    """
    code = UNIT_CODES.get(unit.lower())
    if code is not None:
        return code
    return unit.upper() if re.fullmatch(r"[A-Za-z0-9]{2,3}", unit) else unit


NAME = "urn:epcglobal:cbv:mda#descriptionShort"


def _moment(value: date | datetime | None) -> str:
    if value is None:
        value = date(2000, 1, 1)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _event_id(*key: object) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE + "|".join(map(str, key))))


def _reference(kind: str, value: str) -> list[dict[str, str]]:
    if not value:
        return []
    return [{"type": kind, "bizTransaction": f"urn:tracebot:{kind}:{quote(value, safe='')}"}]


class _Names:
    """URIs for lots, items and parties."""

    def __init__(self, items: dict[int, ItemFacts], parties: dict[int, PartyFacts]) -> None:
        self.items = items
        self.parties = parties

    def item(self, item: ItemFacts) -> str:
        if item.gtin:
            return f"https://id.gs1.org/01/{item.gtin}"
        return f"urn:tracebot:item:{quote(item.sku, safe='')}"

    def lot(self, lot: LotFacts) -> str:
        item = self.items[lot.item_id]
        if item.gtin:
            return f"https://id.gs1.org/01/{item.gtin}/10/{quote(lot.lot_code, safe='')}"
        return f"urn:tracebot:lot:{quote(item.sku, safe='')}:{quote(lot.lot_code, safe='')}"

    def party(self, party_id: int | None) -> str | None:
        if party_id is None or party_id not in self.parties:
            return None
        party = self.parties[party_id]
        if party.gln:
            return f"https://id.gs1.org/{'414' if party.kind == 'site' else '417'}/{party.gln}"
        return f"urn:tracebot:party:{quote(party.code, safe='')}"


def _quantity(
    names: _Names, lot: LotFacts, amount: float | None, uom: str | None
) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": names.lot(lot)}
    if amount is not None:
        unit = uom or lot.uom or names.items[lot.item_id].uom
        element["quantity"] = amount
        element["uom"] = un_unit(unit) if unit else "EA"
    return element


def _object_event(
    event_id: str, when: date | datetime | None, biz_step: str, names: _Names, site: int | None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": event_id,
        "eventTime": _moment(when),
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": biz_step,
    }
    place = names.party(site)
    if place:
        event["bizLocation"] = {"id": place}
    return event


def export_epcis(url: str, lots: Collection[str] | None = None) -> dict[str, Any]:
    """The EPCIS 2.0 document of the trace of ``lots`` (both ways), or of every lot."""
    store = SqlStore(url)
    if lots is None:
        with make_engine(url).connect() as connection:
            ids: set[int] = set(connection.execute(select(LOTS.c.id)).scalars())
    else:
        from storage.repository import load_genealogy

        _, ids = load_genealogy(url, preload=False).scope(list(lots))
    items = {item.id: item for item in store.items()}
    formulas: dict[int, list[dict[str, str]]] = defaultdict(list)
    for version in store.formula_versions(list(items)):
        formulas[version.item_id].append(
            {
                "version": version.version,
                "effectiveFrom": version.effective_from.isoformat(),
                "changedBy": version.changed_by,
                "summary": version.summary,
                "ingredients": version.ingredients,
            }
        )
    parties = {party.id: party for party in store.parties()}
    names = _Names(items, parties)
    facts = {lot.id: lot for lot in store.lots(ids)}
    events: list[dict[str, Any]] = []

    for lot in facts.values():
        event = _object_event(
            _event_id("lot", lot.id),
            lot.produced_on or lot.received_on,
            "creating_class_instance",
            names,
            lot.site_id,
        )
        event["action"] = "ADD"
        event["quantityList"] = [_quantity(names, lot, lot.quantity, lot.uom)]
        ilmd = {}
        if lot.produced_on:
            ilmd["cbvmda:productionDate"] = lot.produced_on.isoformat()
        if lot.expires_on:
            ilmd["cbvmda:itemExpirationDate"] = lot.expires_on.isoformat()
        if ilmd:
            event["ilmd"] = ilmd
        if lot.status not in ("released", "on_hold"):
            event["tracebot:status"] = lot.status
        events.append(event)
    for receipt in store.receipts(ids):
        lot = facts[receipt.lot_id]
        event = _object_event(
            _event_id(
                "receipt", lot.id, receipt.supplier_id, receipt.received_on, receipt.reference
            ),
            receipt.received_on,
            "receiving",
            names,
            receipt.site_id,
        )
        event["quantityList"] = [_quantity(names, lot, receipt.quantity, receipt.uom)]
        event["sourceList"] = [{"type": "owning_party", "source": names.party(receipt.supplier_id)}]
        event["bizTransactionList"] = _reference("po", receipt.reference)
        if receipt.supplier_lot:
            event["tracebot:supplierLot"] = receipt.supplier_lot
        events.append(event)
    made: dict[tuple[int, datetime | None, str], list[Any]] = defaultdict(list)
    for link in store.links(outputs=ids):
        if link.input_id in facts and link.output_id in facts:
            made[(link.output_id, link.at, link.work_order)].append(link)
    for (output_id, at, work_order), links in made.items():
        output = facts[output_id]
        events.append(
            {
                "type": "TransformationEvent",
                "eventID": _event_id("transformation", output_id, at, work_order),
                "eventTime": _moment(at or output.produced_on),
                "eventTimeZoneOffset": "+00:00",
                "bizStep": "commissioning",
                "inputQuantityList": [
                    _quantity(names, facts[link.input_id], link.quantity, link.uom)
                    for link in links
                ],
                "outputQuantityList": [{"epcClass": names.lot(output)}],
                **(
                    {"bizLocation": {"id": names.party(output.site_id)}}
                    if names.party(output.site_id)
                    else {}
                ),
                **(
                    {"bizTransactionList": _reference("prodorder", work_order)}
                    if work_order
                    else {}
                ),
            }
        )
    for shipment in store.shipments(ids):
        lot = facts[shipment.lot_id]
        event = _object_event(
            _event_id(
                "shipment", lot.id, shipment.party_id, shipment.shipped_on, shipment.reference
            ),
            shipment.shipped_on,
            "shipping",
            names,
            shipment.from_site_id,
        )
        event["quantityList"] = [_quantity(names, lot, shipment.quantity, shipment.uom)]
        event["destinationList"] = [
            {"type": "owning_party", "destination": names.party(shipment.party_id)}
        ]
        event["bizTransactionList"] = _reference("bol", shipment.reference)
        events.append(event)
    for check in store.qc_checks(ids):
        lot = facts[check.lot_id]
        event = _object_event(
            _event_id("qc", lot.id, check.test, check.at), check.at, "inspecting", names, None
        )
        event["disposition"] = "non_conformant" if check.result == "fail" else "conformant"
        event["quantityList"] = [_quantity(names, lot, None, None)]
        event.update(
            {
                f"tracebot:{name}": value
                for name, value in (
                    ("test", check.test),
                    ("value", check.value),
                    ("spec", check.spec),
                    ("performedBy", check.performed_by),
                    ("signedOffBy", check.signed_off_by),
                )
                if value
            }
        )
        events.append(event)
    for hold in store.holds(ids):
        lot = facts[hold.lot_id]
        event = _object_event(
            _event_id("hold", lot.id, hold.placed_at), hold.placed_at, "holding", names, None
        )
        event["disposition"] = "non_sellable_other"
        event["quantityList"] = [_quantity(names, lot, None, None)]
        event.update({"tracebot:reason": hold.reason, "tracebot:placedBy": hold.placed_by})
        if hold.released_at:
            event.update(
                {
                    "tracebot:releasedAt": hold.released_at.isoformat(),
                    "tracebot:releasedBy": hold.released_by or "",
                }
            )
        events.append(event)
    for adjustment in store.adjustments(ids):
        lot = facts[adjustment.lot_id]
        step = "destroying" if adjustment.quantity < 0 else "stock_taking"
        event = _object_event(
            _event_id("adjustment", lot.id, adjustment.at, adjustment.reason),
            adjustment.at,
            step,
            names,
            None,
        )
        event["quantityList"] = [_quantity(names, lot, abs(adjustment.quantity), lot.uom)]
        event.update(
            {
                "tracebot:adjustment": adjustment.quantity,
                "tracebot:reason": adjustment.reason,
                "tracebot:by": adjustment.by,
            }
        )
        events.append(event)
    order = {"ObjectEvent": 1, "TransformationEvent": 2}
    events.sort(
        key=lambda e: (
            e["eventTime"],
            e["bizStep"] != "creating_class_instance",
            order[e["type"]],
            e["eventID"],
        )
    )
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _moment(datetime.now()),
        "epcisHeader": {
            "epcisMasterData": {"vocabularyList": _master_data(names, facts.values(), formulas)}
        },
        "epcisBody": {"eventList": events},
    }


def _master_data(
    names: _Names, lots: Collection[LotFacts], formulas: dict[int, list[dict[str, str]]]
) -> list[dict[str, Any]]:
    used_items = {lot.item_id for lot in lots}
    classes = [
        {
            "id": names.item(item),
            "attributes": [
                {"id": NAME, "attribute": item.name},
                {"id": "tracebot:sku", "attribute": item.sku},
                {"id": "tracebot:kind", "attribute": item.kind},
                {"id": "tracebot:uom", "attribute": item.uom},
                *(
                    [{"id": "tracebot:shelfLifeDays", "attribute": item.shelf_life_days}]
                    if item.shelf_life_days is not None
                    else []
                ),
                *(
                    [{"id": "tracebot:qcRelease", "attribute": str(item.qc_release).lower()}]
                    if item.qc_release is not None
                    else []
                ),
                # The formula change log has no EPCIS field: one JSON text attribute.
                *(
                    [{"id": "tracebot:formulaVersions", "attribute": json.dumps(formulas[item.id])}]
                    if formulas.get(item.id)
                    else []
                ),
            ],
        }
        for item in names.items.values()
        if item.id in used_items
    ]
    locations: list[dict[str, Any]] = []
    parties: list[dict[str, Any]] = []
    for party in names.parties.values():
        element = {
            "id": names.party(party.id),
            "attributes": [
                {"id": "urn:epcglobal:cbv:mda#name", "attribute": party.name},
                {"id": "tracebot:code", "attribute": party.code},
                {"id": "tracebot:kind", "attribute": party.kind},
                *([{"id": "tracebot:email", "attribute": party.email}] if party.email else []),
                *([{"id": "tracebot:phone", "attribute": party.phone}] if party.phone else []),
            ],
        }
        (locations if party.kind == "site" else parties).append(element)
    return [
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": classes},
        {"type": "urn:epcglobal:epcis:vtype:Location", "vocabularyElementList": locations},
        {"type": "urn:epcglobal:epcis:vtype:Party", "vocabularyElementList": parties},
    ]
