"""One call from a question to an Answer, used by every adapter.

``TraceService.ask`` parses the text, asks the engine, and renders the result as
Slack text and speech, with the contract's ``data``. Domain errors become polite
answers with ``ok: false``; an unexpected failure is logged with its traceback and
the user gets a short apology.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from bot.render.speech import render_speech, spell
from bot.render.text import HELP, render_text
from intents.barcode import Label, read_label
from intents.imaging import Decoded, ImagingError, decode_image
from intents.model import LOT_INTENTS, Intent
from intents.text import Gazetteer, clarifying_question, parse
from storage import load_genealogy
from storage.writes import set_hold
from trace_engine import AmbiguousLot, Genealogy, TraceError
from trace_engine.model import Answer, HoldChange, to_data

__all__ = ["ScanResult", "TraceService", "scan"]

log = logging.getLogger(__name__)

EXPIRY_DAYS = 14
THREADS_KEPT = 5000


class Threads:
    """The last question of each conversation (Slack thread, phone call, chat), bounded.

    A follow-up ("and where did it go?") is parsed with it as context.
    """

    def __init__(self, size: int = THREADS_KEPT) -> None:
        self.size = size
        self._last: OrderedDict[str, Intent] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str | None) -> Intent | None:
        if key is None:
            return None
        with self._lock:
            return self._last.get(key)

    def remember(self, key: str | None, intent: Intent) -> None:
        if key is None or intent.intent in ("unknown", "help"):
            return
        with self._lock:
            self._last[key] = intent
            self._last.move_to_end(key)
            while len(self._last) > self.size:
                self._last.popitem(last=False)


@dataclass
class TraceService:
    """Answers questions about one plant."""

    genealogy: Genealogy
    database_url: str
    admins: Sequence[str] = ()
    gazetteer_cache: dict[str, Any] = field(default_factory=dict)
    threads: Threads = field(default_factory=Threads)

    @classmethod
    def open(
        cls, database_url: str, *, admins: Sequence[str] = (), preload: bool = True
    ) -> TraceService:
        """The service for the plant in ``database_url`` (``preload``: the whole genealogy
        now, else each lot when first asked about)."""
        return cls(load_genealogy(database_url, preload=preload), database_url, admins=admins)

    def gazetteer(self) -> Gazetteer:
        parties = self.genealogy.parties()
        items = self.genealogy.items()
        key = (len(parties), len(items))
        if self.gazetteer_cache.get("key") != key:
            self.gazetteer_cache = {
                "key": key,
                "value": Gazetteer.of([(p.name, p.kind) for p in parties], [i.name for i in items]),
            }
        gazetteer: Gazetteer = self.gazetteer_cache["value"]
        return gazetteer

    def parse(self, text: str, *, today: date, thread: str | None = None) -> Intent:
        """The intent of a question; a follow-up in ``thread`` reuses its last lots."""
        return parse(
            text, today=today, gazetteer=self.gazetteer(), context=self.threads.get(thread)
        )

    def may_change(self, user: str | None) -> bool:
        """Whether ``user`` may place and lift holds and start recalls."""
        return user is not None and user in self.admins

    def ask(
        self,
        text: str,
        *,
        today: date,
        user: str | None = None,
        thread: str | None = None,
        confirm: bool = False,
        actor: str | None = None,
    ) -> Answer:
        """Answer one question; never raises for bad input.

        ``thread`` names the conversation (a Slack thread, a call) whose context a
        follow-up reuses; an unclear question gets a clarifying question back.
        With ``confirm``, a hold or release by someone allowed is not made yet: the
        answer asks to confirm it (``data.confirm``). ``actor`` names the person in
        the audit log (default: ``user``).
        """
        try:
            intent = self.parse(text, today=today, thread=thread)
            question = clarifying_question(intent)
            if question is not None:
                options = [intent.intent, *(name for name, _ in intent.alternatives[:1])]
                return Answer(
                    intent.intent,
                    intent.as_dict(),
                    False,
                    question,
                    question,
                    {"reason": "unclear", "clarify": question, "options": options},
                )
            self.threads.remember(thread, intent)
            changes = intent.intent in ("hold", "release") and bool(intent.lots)
            if confirm and changes and self.may_change(user):
                return self._confirmation(intent)
            return self.answer(intent, today=today, user=user, actor=actor)
        except Exception:
            log.exception("could not answer %r", text)
            return Answer(
                intent="unknown",
                query={"text": text},
                ok=False,
                text="Sorry, something went wrong on my side while answering that. It has been logged.",
                speech="Sorry, something went wrong. Please try again.",
                data={"reason": "internal error"},
            )

    def _confirmation(self, intent: Intent) -> Answer:
        lots = list(intent.lots)
        try:
            real = [self.genealogy.match_code(code) for code in lots]
            named = [f"`{code}` ({self.genealogy.lot_info(code).lot.item})" for code in real]
        except TraceError as err:
            return Answer(intent.intent, intent.as_dict(), False, str(err), str(err), {})
        verb = "Put" if intent.intent == "hold" else "Release"
        tail = " on hold?" if intent.intent == "hold" else " from hold?"
        text = f"{verb} lot {', '.join(named)}{tail}"
        return Answer(
            intent.intent,
            intent.as_dict() | {"lots": real},
            False,
            text,
            text.replace("`", ""),
            {"reason": "confirm", "confirm": {"intent": intent.intent, "lots": real}},
        )

    def answer(
        self,
        intent: Intent,
        *,
        today: date,
        user: str | None = None,
        sku: str | None = None,
        actor: str | None = None,
    ) -> Answer:
        """Answer a parsed intent."""
        query = intent.as_dict()
        name = intent.intent
        if name == "help":
            return Answer(
                name,
                query,
                True,
                HELP,
                "Ask me who got a lot, what went into it, or what expires this week.",
            )
        if name == "unknown":
            return Answer(
                name,
                query,
                False,
                "I didn't get that. " + HELP,
                "Sorry, I didn't get that. Ask me who got a lot, or what went into it.",
                {"reason": "not a traceability question"},
            )
        if name in LOT_INTENTS and not intent.lots:
            message = "Which lot? Tell me its code, for example: who got lot 4471?"
            return Answer(
                name, query, False, message, "Which lot do you mean?", {"reason": "no lot named"}
            )
        if name == "common_source" and len(intent.lots) < 2:
            message = "Name at least two lots to compare, for example: what do 4471 and 4480 have in common?"
            return Answer(
                name,
                query,
                False,
                message,
                "Which two lots should I compare?",
                {"reason": "one lot named"},
            )
        try:
            if intent.lots:  # what was typed or heard, as the real codes ("L2024-0113")
                real = tuple(self.genealogy.match_code(code, sku=sku) for code in intent.lots)
                if real != intent.lots:
                    query = query | {"lots": list(real), "heard": list(intent.lots)}
                    intent = replace(intent, lots=real)
            if name in ("hold", "release"):
                return self._hold(intent, query, user=user, actor=actor or user)
            result = self._dispatch(intent, today, sku=sku)
        except AmbiguousLot as err:
            candidates = [{"lot": c.lot, "item": c.item, "sku": c.sku} for c in err.candidates]
            return Answer(name, query, False, str(err), str(err), {"candidates": candidates})
        except TraceError as err:
            return Answer(name, query, False, str(err), str(err), {"reason": str(err)})
        lots = list(intent.lots)
        return Answer(
            intent=name,
            query=query,
            ok=True,
            text=render_text(name, lots, result),
            speech=render_speech(name, lots, result),
            data=_data(name, result),
        )

    def _dispatch(self, intent: Intent, today: date, *, sku: str | None = None) -> Any:
        genealogy = self.genealogy
        lots = list(intent.lots)
        calls: dict[str, Callable[[], Any]] = {
            "trace_forward": lambda: genealogy.downstream(lots, sku=sku),
            "trace_backward": lambda: genealogy.upstream(lots, sku=sku),
            "lot_info": lambda: genealogy.lot_info(lots[0], sku=sku),
            "qc_status": lambda: genealogy.qc_status(lots[0], sku=sku),
            "recall": lambda: genealogy.recall(lots),
            "common_source": lambda: genealogy.common_source(lots),
            "mass_balance": lambda: genealogy.mass_balance(lots[0]),
            "expiring": lambda: genealogy.expiring(
                intent.since or today,
                intent.until or (intent.since or today) + timedelta(days=EXPIRY_DAYS),
            ),
            "supplier_lots": lambda: genealogy.supplier_lots(
                intent.party or "", intent.since, intent.until
            ),
            "customer_lots": lambda: genealogy.customer_lots(
                intent.party or "", intent.since, intent.until
            ),
            "formula_changes": lambda: genealogy.formula_changes(
                intent.item, lot=lots[0] if lots else None
            ),
        }
        if intent.intent in ("supplier_lots", "customer_lots") and not intent.party:
            raise _Missing(
                "Which supplier or customer? For example: what did Sysco get last month?"
            )
        if intent.intent == "formula_changes" and not intent.item and not lots:
            raise _Missing("Which product? For example: what changed in the granola recipe?")
        return calls[intent.intent]()

    def _hold(
        self, intent: Intent, query: dict[str, Any], *, user: str | None, actor: str | None
    ) -> Answer:
        name = intent.intent
        verb = "place holds" if name == "hold" else "release holds"
        if not self.admins:
            message = (
                f"No one may {verb} yet: an administrator must list people in TRACEBOT_ADMINS."
            )
            return Answer(name, query, False, message, message, {"reason": message})
        if not self.may_change(user):
            who = ", ".join(self.admins)
            message = f"Only {who} may {verb}. Ask one of them."
            return Answer(
                name, query, False, message, f"Sorry, you may not {verb}.", {"reason": message}
            )
        ids = [self.genealogy.resolve(code) for code in intent.lots]
        changed = set(
            set_hold(
                self.database_url,
                ids,
                hold=name == "hold",
                actor=actor or user or "unknown",
                reason=f"asked: {name}",
            )
        )
        self.genealogy.refresh()
        status = "on_hold" if name == "hold" else "released"
        result = HoldChange(
            lots=tuple(self.genealogy.code(i) for i in ids if i in changed), status=status
        )
        if not result.lots:
            state = "already on hold" if name == "hold" else "not on hold"
            message = f"Lot(s) {', '.join(intent.lots)} {'are' if len(ids) > 1 else 'is'} {state}; nothing changed."
            spoken = f"Lot {' and '.join(spell(c) for c in intent.lots)} is {state}."
            return Answer(name, query, True, message, spoken, {"lots": [], "status": status})
        return Answer(
            name,
            query,
            True,
            render_text(name, list(intent.lots), result),
            render_speech(name, list(intent.lots), result),
            _data(name, result),
        )


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
    """Decode a label photo, read its GS1 data and answer about the lot it names.

    GTIN and lot find the lot; a lot code alone where it is unique; an SSCC finds
    what the pallet or case holds and where it went.
    """
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


class _Missing(TraceError):
    """A question lacks what it needs; the message asks for it."""


def _data(intent: str, result: Any) -> dict[str, Any]:
    """The contract's ``data`` for an intent's result (field names are the same)."""
    data: dict[str, Any] = to_data(result)
    return data
