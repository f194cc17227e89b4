"""The FDA FSMA 204 electronic sortable spreadsheet of a trace.

One row per critical tracking event (CTE) in the trace of the named lots, both
ways: every receiving of an implicated input, every transformation (one row per
input used), every shipping. Each row carries the key data elements (KDEs) of its
event under 21 CFR 1.1340 to 1.1350: the traceability lot code and its source,
the product, quantity and unit, the locations, the date, and the reference
document's type and number.

For a received lot the traceability lot code is the one the supplier assigned
(their lot code) when it is on record, with the supplier as its source; our own
lot code stays beside it so the rows join up with the rest of the trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from trace_engine.genealogy import Genealogy, LotRef

__all__ = ["FSMA_COLUMNS", "fsma_rows"]

FSMA_COLUMNS: tuple[str, ...] = (
    "Critical Tracking Event",
    "Event Date",
    "Traceability Lot Code",
    "Traceability Lot Code Source",
    "Internal Lot Code",
    "Product Description",
    "Product ID (GTIN or SKU)",
    "Quantity",
    "Unit of Measure",
    "Location Description",
    "Immediate Previous Source / Ship-From",
    "Ship-To / Receiving Location",
    "Input Traceability Lot Code",
    "Input Product Description",
    "Input Quantity",
    "Input Unit of Measure",
    "Reference Document Type",
    "Reference Document Number",
)


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def fsma_rows(genealogy: Genealogy, lots: LotRef) -> list[dict[str, Any]]:
    """The sortable spreadsheet's rows for the trace of ``lots``, by date then event."""
    _, scope = genealogy.scope(lots)
    rows: list[dict[str, Any]] = []

    def party(party_id: int | None) -> str:
        if party_id is None:
            return ""
        found = genealogy.party(party_id)
        return f"{found.name} (GLN {found.gln})" if found.gln else found.name

    def product(lot_id: int) -> tuple[str, str]:
        item = genealogy.item(genealogy.lot(lot_id).item_id)
        return item.name, item.gtin or item.sku

    received_codes: dict[int, str] = {}
    for receipt in genealogy.receipts_of(scope):
        lot = genealogy.lot(receipt.lot_id)
        name, product_id = product(lot.id)
        code = receipt.supplier_lot or lot.lot_code
        received_codes[lot.id] = code
        rows.append(
            {
                "Critical Tracking Event": "Receiving",
                "Event Date": _day(receipt.received_on),
                "Traceability Lot Code": code,
                "Traceability Lot Code Source": party(receipt.supplier_id)
                if receipt.supplier_lot
                else party(receipt.site_id or lot.site_id),
                "Internal Lot Code": lot.lot_code,
                "Product Description": name,
                "Product ID (GTIN or SKU)": product_id,
                "Quantity": receipt.quantity,
                "Unit of Measure": receipt.uom or lot.uom or "",
                "Location Description": party(receipt.site_id or lot.site_id),
                "Immediate Previous Source / Ship-From": party(receipt.supplier_id),
                "Ship-To / Receiving Location": party(receipt.site_id or lot.site_id),
                "Reference Document Type": "Purchase Order" if receipt.reference else "",
                "Reference Document Number": receipt.reference,
            }
        )
    for link in genealogy.links_into(scope):
        if link.input_id not in scope:
            continue
        output = genealogy.lot(link.output_id)
        name, product_id = product(output.id)
        input_name, _ = product(link.input_id)
        rows.append(
            {
                "Critical Tracking Event": "Transformation",
                "Event Date": _day(link.at or output.produced_on),
                "Traceability Lot Code": output.lot_code,
                "Traceability Lot Code Source": party(output.site_id),
                "Internal Lot Code": output.lot_code,
                "Product Description": name,
                "Product ID (GTIN or SKU)": product_id,
                "Quantity": output.quantity,
                "Unit of Measure": output.uom or "",
                "Location Description": party(output.site_id),
                "Input Traceability Lot Code": received_codes.get(
                    link.input_id, genealogy.code(link.input_id)
                ),
                "Input Product Description": input_name,
                "Input Quantity": link.quantity,
                "Input Unit of Measure": link.uom or genealogy.lot(link.input_id).uom or "",
                "Reference Document Type": "Work Order" if link.work_order else "",
                "Reference Document Number": link.work_order,
            }
        )
    for shipment in genealogy.shipments_of(scope):
        lot = genealogy.lot(shipment.lot_id)
        name, product_id = product(lot.id)
        rows.append(
            {
                "Critical Tracking Event": "Shipping",
                "Event Date": _day(shipment.shipped_on),
                "Traceability Lot Code": received_codes.get(lot.id, lot.lot_code),
                "Traceability Lot Code Source": party(lot.site_id),
                "Internal Lot Code": lot.lot_code,
                "Product Description": name,
                "Product ID (GTIN or SKU)": product_id,
                "Quantity": shipment.quantity,
                "Unit of Measure": shipment.uom or lot.uom or "",
                "Location Description": party(shipment.from_site_id or lot.site_id),
                "Immediate Previous Source / Ship-From": party(
                    shipment.from_site_id or lot.site_id
                ),
                "Ship-To / Receiving Location": party(shipment.party_id),
                "Reference Document Type": "Bill of Lading" if shipment.reference else "",
                "Reference Document Number": shipment.reference,
            }
        )
    order = {"Receiving": 0, "Transformation": 1, "Shipping": 2}
    rows.sort(
        key=lambda row: (
            row["Event Date"],
            order[row["Critical Tracking Event"]],
            row["Internal Lot Code"],
        )
    )
    return [{column: row.get(column, "") for column in FSMA_COLUMNS} for row in rows]


def as_table(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Header and rows as lists, for writers."""
    return [list(FSMA_COLUMNS), *([row[column] for column in FSMA_COLUMNS] for row in rows)]
