"""Label photos: the barcodes decoded, their GS1 fields combined, the lot answered.

GTIN and lot find the lot; a lot code alone where it is unique; an SSCC finds what
the pallet or case holds and where it went.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from intents.barcode import Label, read_label
from intents.imaging import Decoded, ImagingError, decode_image
from intents.model import Intent
from trace_engine import TraceError
from trace_engine.model import Answer

if TYPE_CHECKING:
    from bot.service.core import TraceService

__all__ = ["RETAKE", "ScanResult", "scan"]

RETAKE = (
    "I couldn't read a barcode in that photo. Take it again closer to the label, "
    "square on, in good light, with the whole barcode in the frame and in focus."
)


@dataclass(frozen=True)
class ScanResult:
    """What a label photo says and what TraceBot answers about it."""

    barcodes: tuple[Decoded, ...]
    label: Label
    answer: Answer

    def as_dict(self, image: str) -> dict[str, Any]:
        label = self.label
        return {
            "image": image,
            "barcodes": [{"format": b.format, "text": b.text} for b in self.barcodes],
            "gtin": label.gtin,
            "lot": label.lot,
            "expiry": label.expiry.isoformat() if label.expiry else None,
            "production_date": label.production_date.isoformat() if label.production_date else None,
            "serial": label.serial,
            "sscc": label.sscc,
            "answer": self.answer.as_dict(),
        }


def scan(service: TraceService, data: bytes, *, today: date) -> ScanResult:
    """Decode a label photo, read its GS1 data and answer about the lot it names."""
    try:
        barcodes = tuple(decode_image(data))
    except ImagingError as err:
        answer = Answer(
            "lot_info", {"image": True}, False, str(err), str(err), {"reason": str(err)}
        )
        return ScanResult((), Label(), answer)
    label = read_label(barcodes)
    if not barcodes:
        answer = Answer(
            "lot_info",
            {"image": True},
            False,
            RETAKE,
            "I couldn't read a barcode.",
            {"reason": "no barcode"},
        )
        return ScanResult(barcodes, label, answer)
    genealogy = service.genealogy
    if label.lot:
        sku = next(
            (item.sku for item in genealogy.items() if label.gtin and item.gtin == label.gtin), None
        )
        intent = Intent("lot_info", lots=(label.lot,), confidence=1.0)
        if sku is not None:
            try:
                code = genealogy.code(genealogy.resolve(label.lot, sku=sku))
                return ScanResult(
                    barcodes,
                    label,
                    service.answer(replace(intent, lots=(code,)), today=today, sku=sku),
                )
            except TraceError:
                pass
        return ScanResult(barcodes, label, service.answer(intent, today=today))
    if label.sscc:
        lots = tuple(genealogy.unit_lots(label.sscc))
        if lots:
            intent = Intent("trace_forward", lots=lots, confidence=1.0)
            return ScanResult(barcodes, label, service.answer(intent, today=today))
        message = f"I can't find what pallet or case {label.sscc} holds."
        return ScanResult(
            barcodes,
            label,
            Answer(
                "trace_forward", {"sscc": label.sscc}, False, message, message, {"reason": message}
            ),
        )
    if label.gtin:
        message = (
            f"The label names item {label.gtin} but no lot: photograph the lot (10) barcode too."
        )
    else:
        message = "The barcodes in that photo hold no GS1 item, lot or SSCC."
    return ScanResult(
        barcodes,
        label,
        Answer("lot_info", {"gtin": label.gtin}, False, message, message, {"reason": message}),
    )
