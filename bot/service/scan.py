"""Label photos and typed label text: the barcodes decoded, their GS1 fields checked
and combined, the lot answered.

GTIN and lot find the lot; a lot code alone where it is unique; an SSCC finds what
the pallet or case holds and where it went. What does not fit is said, never
settled silently: two different GTINs (or lots) on one label, or a GTIN that is not
the lot's item, is answered with both and a question (``data.conflict``); an
element that is not valid (a wrong check digit, a date that does not exist) is
named (``data.label.problems``) and the rest of the label is still used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from intents.barcode import Label, read_label
from intents.imaging import Decoded, ImagingError, decode_image
from intents.model import Intent
from trace_engine import TraceError
from trace_engine.errors import AmbiguousLot
from trace_engine.model import Answer, ItemFacts

if TYPE_CHECKING:
    from bot.service.core import TraceService

__all__ = ["NO_LOOKUP", "RETAKE", "ScanResult", "lookup", "scan"]

RETAKE = (
    "I couldn't read a barcode in that photo. Take it again closer to the label, "
    "square on, in good light, with the whole barcode in the frame and in focus."
)
NO_LOOKUP = "No lookup was possible: there is no TraceBot database here ({reason})."


@dataclass(frozen=True)
class ScanResult:
    """What a label photo says and what TraceBot answers about it (``looked_up`` is
    False when there was no plant to look it up in: ``answer`` then says so)."""

    barcodes: tuple[Decoded, ...]
    label: Label
    answer: Answer
    looked_up: bool = True

    def as_dict(self, image: str) -> dict[str, Any]:
        label = self.label.fields()
        return {
            "image": image,
            "barcodes": [{"format": b.format, "text": b.text} for b in self.barcodes],
            **{key: label[key] for key in ("gtin", "lot", "expiry", "production_date")},
            **{key: label[key] for key in ("serial", "sscc")},
            **{key: label[key] for key in ("best_before", "sell_by", "due_date")},
            **{key: label[key] for key in ("packaging_date", "gln", "gtins", "lots")},
            "problems": label["problems"],
            "conflict": self.label.conflict,
            "answer": self.answer.as_dict() if self.looked_up else None,
            "note": None if self.looked_up else self.answer.text,
        }


def _refusal(intent: str, query: dict[str, Any], message: str, **data: Any) -> Answer:
    return Answer(
        intent, query, False, message, message.replace("`", ""), {"reason": message} | data
    )


def decode(data: bytes) -> tuple[tuple[Decoded, ...], Label, Answer | None]:
    """The barcodes and label of a photo, and the refusal when none could be read."""
    try:
        barcodes = tuple(decode_image(data))
    except ImagingError as err:
        return (), Label(), _refusal("lot_info", {"image": True}, str(err))
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
        return barcodes, label, answer
    return barcodes, label, None


def scan(service: TraceService | None, data: bytes, *, today: date, reason: str = "") -> ScanResult:
    """Decode a label photo, read its GS1 data and answer about the lot it names.

    Without a ``service`` (no database) the photo is decoded all the same, and the
    answer says that no lookup was possible (``reason`` says why).
    """
    barcodes, label, refused = decode(data)
    if refused is not None:
        return ScanResult(barcodes, label, refused, looked_up=service is not None)
    if service is None:
        message = NO_LOOKUP.format(reason=reason or "none was given")
        found = label.describe()
        text = f"Label read: {found}. {message}" if found else message
        problems = _problems(label)
        answer = _refusal("lot_info", {"image": True}, text + problems, label=label.fields())
        return ScanResult(barcodes, label, answer, looked_up=False)
    return ScanResult(barcodes, label, lookup(service, label, today=today))


def _problems(label: Label) -> str:
    if not label.problems:
        return ""
    return " Not valid on the label: " + " ".join(label.problems)


def _item_of_gtin(items: list[ItemFacts], gtin: str | None) -> ItemFacts | None:
    return next((item for item in items if gtin and item.gtin == gtin), None)


def _named(gtin: str, item: ItemFacts | None) -> str:
    return f"{gtin} ({item.name})" if item else f"{gtin} (no item of the plant)"


def lookup(
    service: TraceService, label: Label, *, today: date, query: dict[str, Any] | None = None
) -> Answer:
    """The answer about what a label names; conflicts and invalid elements said out loud."""
    asked = query if query is not None else {"image": True}
    answer = _lookup(service, label, today, asked)
    data = answer.data | {"label": label.fields()}
    text, speech = answer.text, answer.speech
    found = label.describe()
    if found and answer.ok:
        text += f"\n_Label read: {found}._"
    if label.problems:
        text += "\n" + _problems(label).strip()
        speech += " Part of the label is not valid."
    return replace(answer, text=text, speech=speech, data=data)


def _lookup(service: TraceService, label: Label, today: date, query: dict[str, Any]) -> Answer:
    genealogy = service.genealogy
    items = genealogy.items()
    if len(label.gtins) > 1:
        named = [(gtin, _item_of_gtin(items, gtin)) for gtin in label.gtins]
        listed = " and ".join(_named(gtin, item) for gtin, item in named)
        lot = f" Its lot is {label.lot}." if label.lot else ""
        question = "Which item is it?"
        message = f"This label carries {len(named)} different GTINs: {listed}.{lot} {question}"
        return _refusal(
            "lot_info",
            query,
            message,
            conflict={
                "kind": "gtins",
                "gtins": [
                    {"gtin": g, "item": i.name if i else None, "sku": i.sku if i else None}
                    for g, i in named
                ],
                "lot": label.lot,
            },
            clarify=question,
        )
    if len(label.lots) > 1:
        question = "Which lot is it?"
        message = f"This label carries {len(label.lots)} different lots: {' and '.join(label.lots)}. {question}"
        return _refusal(
            "lot_info",
            query,
            message,
            conflict={"kind": "lots", "lots": list(label.lots), "gtin": label.gtin},
            clarify=question,
        )
    if label.lot:
        return _lot_answer(service, label, label.lot, items, today, query)
    if label.sscc:
        lots = tuple(genealogy.unit_lots(label.sscc))
        if lots:
            intent = Intent("trace_forward", lots=lots, confidence=1.0)
            return service.answer(intent, today=today)
        message = f"I can't find what pallet or case {label.sscc} holds."
        return _refusal("trace_forward", query | {"sscc": label.sscc}, message)
    if label.gtin:
        item = _item_of_gtin(items, label.gtin)
        called = f" ({item.name})" if item else ""
        message = (
            f"The label names item {label.gtin}{called} but no lot: "
            "photograph the lot (10) barcode too."
        )
    elif label.problems:
        message = "The label could not be used."
    else:
        message = "The barcodes in that photo hold no GS1 item, lot or SSCC."
    return _refusal("lot_info", query | {"gtin": label.gtin}, message)


def _lot_answer(
    service: TraceService,
    label: Label,
    code: str,
    items: list[ItemFacts],
    today: date,
    query: dict[str, Any],
) -> Answer:
    genealogy = service.genealogy
    intent = Intent("lot_info", lots=(code,), confidence=1.0)
    labelled = _item_of_gtin(items, label.gtin)
    if labelled is not None:
        try:
            found = genealogy.lot(genealogy.resolve(code, sku=labelled.sku))
        except TraceError:
            found = None  # no lot, or no lot of the labelled item: said below
        if found is not None and found.item_id == labelled.id:
            real = replace(intent, lots=(found.lot_code,))
            return service.answer(real, today=today, sku=labelled.sku)
    try:
        lot = genealogy.lot(genealogy.resolve(code))
    except AmbiguousLot:
        return service.answer(intent, today=today)
    except TraceError:
        return service.answer(intent, today=today)
    item = genealogy.item(lot.item_id)
    if label.gtin and item.gtin and item.gtin != label.gtin:
        said = _named(label.gtin, labelled)
        question = f"Is it lot {lot.lot_code} of {item.name}, or is the label wrong" + (
            f" and it is a {labelled.name} lot?" if labelled else "?"
        )
        message = (
            f"The label's GTIN {said} does not match lot {lot.lot_code}, which is "
            f"{item.name} (GTIN {item.gtin}). {question}"
        )
        return _refusal(
            "lot_info",
            query | {"lots": [lot.lot_code]},
            message,
            conflict={
                "kind": "gtin_not_lot_item",
                "label_gtin": label.gtin,
                "label_item": labelled.name if labelled else None,
                "lot": lot.lot_code,
                "lot_item": item.name,
                "lot_gtin": item.gtin,
            },
            candidates=[{"lot": lot.lot_code, "item": item.name, "sku": item.sku}],
            clarify=question,
        )
    answer = service.answer(intent, today=today)
    if label.gtin and not item.gtin and answer.ok:
        note = f"\n_The plant records no GTIN for {item.name}; the label's is {label.gtin}._"
        answer = replace(answer, text=answer.text + note)
    return answer
