"""Decoded barcodes to GS1 fields: GTIN, lot, expiry, production date, serial, SSCC.

Each barcode is read with biip (GS1-128, GS1 DataMatrix, GS1 QR, DataBar, GS1
Digital Link URIs, EAN/UPC, ITF-14); the fields of all the barcodes on one label
are combined, so an EAN-13 giving the item beside a GS1-128 giving lot and expiry
make one answer.

Example:
    >>> from intents.imaging import Decoded
    >>> label = read_label([
    ...     Decoded("EAN-13", "0614141999996"[1:], "]E0"),
    ...     Decoded("Code 128", "10L-2024-0113\\x1d17270131", "]C1"),
    ... ])
    >>> label.gtin, label.lot, label.expiry
    ('00614141999996', 'L-2024-0113', datetime.date(2027, 1, 31))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import biip

from intents.imaging import Decoded

__all__ = ["Label", "read_label"]

CONFIG = biip.ParseConfig(separator_chars=["\x1d"])
# Symbology identifiers of symbols that carry GS1 element strings (FNC1 in first place).
GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]d2", "]Q3", "]J1"})


@dataclass(frozen=True)
class Label:
    """What a label's barcodes say, combined; fields not on the label are None."""

    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    production_date: date | None = None
    serial: str | None = None
    sscc: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    def merged(self, other: Label) -> Label:
        """This label's fields, completed with ``other``'s where missing."""
        return replace(
            self,
            gtin=self.gtin or other.gtin,
            lot=self.lot or other.lot,
            expiry=self.expiry or other.expiry,
            production_date=self.production_date or other.production_date,
            serial=self.serial or other.serial,
            sscc=self.sscc or other.sscc,
            notes=self.notes + other.notes,
        )


def _from_elements(elements: Sequence[object]) -> Label:
    values: dict[str, object] = {}
    for element in elements:
        ai = element.ai.ai  # type: ignore[attr-defined]
        if ai == "01" or ai == "02":
            values["gtin"] = element.gtin.as_gtin_14() if element.gtin else element.value  # type: ignore[attr-defined]
        elif ai == "10":
            values["lot"] = element.value  # type: ignore[attr-defined]
        elif ai in ("17", "15", "16"):
            values.setdefault("expiry", element.date)  # type: ignore[attr-defined]
        elif ai == "11":
            values["production_date"] = element.date  # type: ignore[attr-defined]
        elif ai == "21":
            values["serial"] = element.value  # type: ignore[attr-defined]
        elif ai == "00":
            values["sscc"] = element.value  # type: ignore[attr-defined]
    return Label(**values)  # type: ignore[arg-type]


def read_one(decoded: Decoded) -> Label:
    """The GS1 fields of one barcode (an empty Label when it holds none)."""
    text = decoded.text.strip()
    if text.startswith(("http://", "https://")):
        result = biip.parse(text, config=CONFIG)
        if result.gs1_digital_link_uri is not None:
            return _from_elements(result.gs1_digital_link_uri.element_strings)
        return Label(notes=(f"a web address that is not a GS1 Digital Link: {text}",))
    gs1 = decoded.symbology in GS1_SYMBOLOGIES
    result = biip.parse(decoded.gs1_text if gs1 else text, config=CONFIG)
    if gs1 and result.gs1_message is not None:
        return _from_elements(result.gs1_message.element_strings)
    if result.sscc is not None:
        return Label(sscc=result.sscc.value)
    if result.gtin is not None:
        return Label(gtin=result.gtin.as_gtin_14())
    if result.upc is not None:
        return Label(gtin=result.upc.as_upc_a().zfill(14))
    return Label(notes=(f"{decoded.format} holds no GS1 data: {text[:40]}",))


def read_label(decoded: Sequence[Decoded]) -> Label:
    """The GS1 fields of every barcode on one label, combined."""
    label = Label()
    for barcode in decoded:
        label = label.merged(read_one(barcode))
    return label
