"""The one door: every channel asks, confirms and changes through ``TraceService``.

An adapter (CLI, Slack, phone, intercom, REST, web console) converts its request
into one call here and renders the ``Answer`` it gets back. The service parses
the text (``intents``), answers it on the genealogy (``trace_engine``) from what
``storage`` holds, decides permission by the ``Caller``, keeps each
conversation's context, and makes every change of state in two steps: a request
that stores a pending action and asks to confirm it, then a confirmation that
makes the change once, with its one audit-log row, and says what was written.

Domain errors become polite answers with ``ok: false``; an unreachable database
raises ``DatabaseUnavailable`` (adapters answer 503 or "try again"); any other
failure is logged with its traceback and the person gets a short apology.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rapidfuzz import fuzz
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.render.markup import code as code_span
from bot.render.speech import render_speech, spell
from bot.render.text import HELP, render_text, window_words
from bot.service.caller import Caller
from bot.service.conversation import NO, YES, Ambiguity, Conversations
from bot.service.heard import Heard, Suggestion, UnconfirmedLot, choose, index_for, spoken_lot
from bot.service.heard import question as heard_question
from bot.service.scan import ScanResult, lookup, scan
from intents.model import LOT_INTENTS, Intent
from intents.text import LISTS, WINDOWED, Gazetteer, clarifying_question, parse
from storage import load_genealogy
from storage.actions import (
    ACTIONS,
    ALERT_ACTIONS,
    Applied,
    apply_action,
    cancel_action,
    detach,
    find_pending,
    get_pending,
)
from storage.actions import request_action as store_request
from storage.errors import DatabaseUnavailable
from storage.importers import ImportReport
from storage.writes import failed_checks, holds_in_place, recent_lot_codes
from trace_engine import AmbiguousLot, Genealogy, TraceError
from trace_engine.codes import lot_code_problem
from trace_engine.errors import UnknownLot
from trace_engine.model import (
    AlertLine,
    Alerts,
    Answer,
    Candidate,
    FailedCheck,
    HeldLot,
    HoldChange,
    Holds,
    QcFailures,
    to_data,
)
from trace_engine.narrow import narrow
from trace_engine.rules import severity

if TYPE_CHECKING:
    from bot.service.alerts import AlertDesk

__all__ = ["CONFIDENCE_FLOOR", "CONFIRM_FOR", "EXPIRY_DAYS", "TraceService", "UnknownLotOfItem"]

log = logging.getLogger(__name__)

EXPIRY_DAYS = 14
"""The window of "what expires soon?" when the question names none."""
RECENT_DAYS = 30
"""The window of "what failed QC?" when the question names none: the last 30 days."""
CONFIRM_FOR = timedelta(minutes=15)
"""How long a requested change waits for its confirmation."""
CONFIDENCE_FLOOR = 0.35
"""Below this recogniser confidence a spoken question is asked again, not answered."""
RECENT_CODES = 3000
"""Lots a heard code may stand for when it names none exactly: the most recent."""
APOLOGY = "Sorry, something went wrong on my side while answering that. It has been logged."
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}


class UnknownLotOfItem(TraceError):
    """No lot of this code is of the item (SKU) asked for (the code may be another's).

    Example:
        >>> str(UnknownLotOfItem("4471", "NO-SUCH-SKU"))
        "I can't find lot 4471 of item NO-SUCH-SKU."
    """

    def __init__(self, code: str, sku: str) -> None:
        self.code = code
        self.sku = sku
        super().__init__(f"I can't find lot {code} of item {sku}.")


def _answer(
    intent: str, query: dict[str, Any], text: str, speech: str | None = None, **data: Any
) -> Answer:
    """An answer that is not ok: ``data`` says why (``reason``) and what to pick."""
    return Answer(intent, query, False, text, speech or text.replace("`", ""), data)


@dataclass
class TraceService:
    """Answers questions about one plant and makes the changes people confirm."""

    genealogy: Genealogy
    database_url: str
    admins: Sequence[str] = ()
    conversations: Conversations = field(default_factory=Conversations)
    confirm_for: timedelta = CONFIRM_FOR
    alert_horizon: int = 7
    """Events recorded older than this many days are history (TRACEBOT_ALERT_HORIZON)."""
    _names: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(
        cls, database_url: str, *, admins: Sequence[str] = (), preload: bool = True
    ) -> TraceService:
        """The service for the plant in ``database_url`` (``preload``: the whole genealogy
        now, else each lot when first asked about)."""
        with _database(database_url):
            return cls(load_genealogy(database_url, preload=preload), database_url, admins=admins)

    # --- reading what was said ---------------------------------------------------------

    def gazetteer(self) -> Gazetteer:
        """The party and item names people may say, kept current."""
        parties = self.genealogy.parties()
        items = self.genealogy.items()
        key = (len(parties), len(items))
        if self._names.get("key") != key:
            self._names = {
                "key": key,
                "value": Gazetteer.of([(p.name, p.kind) for p in parties], [i.name for i in items]),
                "skus": {item.sku.upper(): item.sku for item in items},
            }
        gazetteer: Gazetteer = self._names["value"]
        return gazetteer

    def parse(self, text: str, *, today: date, conversation: str | None = None) -> Intent:
        """The intent of a question; a follow-up in ``conversation`` reuses its last lots."""
        return parse(
            text,
            today=today,
            gazetteer=self.gazetteer(),
            context=self.conversations.last_intent(conversation),
            is_lot=self._has_lot,
        )

    def _has_lot(self, code: str) -> bool:
        """Whether the plant has a lot of this code (its own codes are codes, whatever
        their shape)."""
        return _is_lot(self.genealogy, code)

    def may_change(self, caller: Caller | None) -> bool:
        """Whether ``caller`` may place and lift holds and start recalls."""
        return caller is not None and caller.permitted(self.admins)

    # --- asking --------------------------------------------------------------------------

    def ask(
        self,
        text: str,
        *,
        today: date,
        caller: Caller | None = None,
        conversation: str | None = None,
        sku: str | None = None,
    ) -> Answer:
        """Answer one typed question; never raises for bad input.

        In a ``conversation`` (a Slack thread, a call, a chat) a follow-up reuses the
        question before it, a reply naming an item settles a shared lot code, and
        "yes" or "no" answers a pending confirmation. A hold or release is not made
        here: the answer asks to confirm it (``data.confirm.token``).

        Raises:
            DatabaseUnavailable: the database cannot be reached.
        """
        return self._safely(
            text, lambda: self._ask(text, today, caller, conversation, sku, spoken=None)
        )

    def hear(
        self,
        transcript: str,
        *,
        today: date,
        caller: Caller | None = None,
        conversation: str | None = None,
        confidence: float | None = None,
        codes: Sequence[tuple[str, Sequence[float]]] = (),
    ) -> Answer:
        """Answer a spoken question (a recogniser's transcript and its confidence, and
        ``codes``: each code heard with how sure the recogniser is of each character).

        A poorly recognised question is asked again. A heard lot code is answered
        only when it is an exact and sure match of one real lot (the answer says the
        lot heard); otherwise the answer asks which lot was meant (``bot.service.heard``).

        Raises:
            DatabaseUnavailable: the database cannot be reached.
        """
        heard = transcript.strip()
        query: dict[str, Any] = {"transcript": heard}
        if not heard:
            message = "I couldn't make out a question. Please ask again, closer to the microphone."
            return _answer("unknown", query, message, reason="nothing heard")
        if confidence is not None and confidence < CONFIDENCE_FLOOR:
            return _answer(
                "unknown",
                query | {"speech_confidence": confidence},
                f"I'm not sure I heard that right (“{heard}”). Please say it again.",
                "Sorry, I didn't catch that. Please say it again.",
                reason="not heard clearly",
            )
        answer = self._safely(
            heard,
            lambda: self._ask(
                heard,
                today,
                caller,
                conversation,
                None,
                spoken=Heard({code: tuple(sure) for code, sure in codes}, confidence),
            ),
        )
        return replace(answer, query=answer.query | query)

    def _safely(self, text: str, call: Callable[[], Answer]) -> Answer:
        try:
            with _database(self.database_url):
                return call()
        except DatabaseUnavailable:
            raise
        except Exception:
            log.exception("could not answer %r", text)
            return _answer(
                "unknown",
                {"text": text},
                APOLOGY,
                "Sorry, something went wrong. Please try again.",
                reason="internal error",
            )

    def _ask(
        self,
        text: str,
        today: date,
        caller: Caller | None,
        conversation: str | None,
        sku: str | None,
        *,
        spoken: Heard | None,
    ) -> Answer:
        if conversation is not None:
            replied = self._reply(text, today, caller, conversation, spoken)
            if replied is not None:
                return replied
        text, named_sku = self._strip_skus(text)
        intent = self.parse(text, today=today, conversation=conversation)
        if intent.label is not None:  # label text typed or said: looked up as a scan is
            self.conversations.remember(conversation, intent)
            return lookup(self, intent.label, today=today, query=intent.as_dict())
        question = clarifying_question(intent)
        if question is not None:
            options = [intent.intent, *(name for name, _ in intent.alternatives[:1])]
            if not intent.doubt:
                self.conversations.update(conversation, clarify=intent)
            return _answer(
                intent.intent,
                intent.as_dict(),
                question,
                reason="unclear",
                clarify=question,
                options=options,
            )
        self.conversations.remember(conversation, intent)
        answer = self.answer(
            intent,
            today=today,
            caller=caller,
            sku=sku or named_sku,
            conversation=conversation,
            said=text,
            spoken=spoken,
        )
        self.conversations.update(conversation, answer=answer)
        return answer

    def _reply(
        self,
        text: str,
        today: date,
        caller: Caller | None,
        conversation: str,
        spoken: Heard | None = None,
    ) -> Answer | None:
        """The answer to a reply that settles what the conversation asked, if it is one."""
        suggestion = self.conversations.get(conversation).suggestion
        if isinstance(suggestion, Suggestion):
            return self._heard_reply(suggestion, text, today, caller, conversation, spoken)
        pending = None
        if caller is not None:  # only the person who asked confirms by "yes"
            pending = find_pending(
                self.database_url, conversation=conversation, requested_by=caller.key
            )
        if pending is not None and caller is not None:
            if YES.match(text):
                return self.confirm(pending.token, today=today, caller=caller)
            if NO.match(text):
                return self.cancel(pending.token, caller=caller)
            # Anything else moves on: a later "yes" must not confirm a stale question
            # (its button or token still does).
            detach(self.database_url, conversation=conversation, requested_by=caller.key)
        elif YES.match(text):
            message = "Nothing of yours is waiting for a yes here. Ask me something."
            return _answer("unknown", {"text": text}, message, reason="nothing to confirm")
        clarify = self.conversations.get(conversation).clarify
        if clarify is not None:
            self.conversations.update(conversation, clarify=None)
            chosen_intent = self._choice(clarify, text, today)
            if chosen_intent is not None:
                self.conversations.remember(conversation, chosen_intent)
                return self.answer(
                    chosen_intent, today=today, caller=caller, conversation=conversation, said=text
                )
        ambiguity = self.conversations.get(conversation).ambiguity
        if ambiguity is not None:
            chosen = (
                _pick(ambiguity.candidates, text, ordinals=True)
                if _names_only(ambiguity, text)
                else None
            )
            self.conversations.update(conversation, ambiguity=None)
            if chosen is not None:
                return self.answer(
                    ambiguity.intent,
                    today=today,
                    caller=caller,
                    sku=chosen.sku,
                    conversation=conversation,
                    said=text,
                )
        return None

    def _heard_reply(
        self,
        suggestion: Suggestion,
        text: str,
        today: date,
        caller: Caller | None,
        conversation: str,
        spoken: Heard | None,
    ) -> Answer | None:
        """A reply to "Did you mean lot …?": yes or a pick answers the question about
        that lot; no asks for the code again; anything else is a new question."""
        self.conversations.update(conversation, suggestion=None)
        said = self.parse(text, today=today)
        chosen = choose(suggestion, text, list(said.lots))
        if chosen is not None:
            intent = replace(suggestion.intent, lots=(chosen.code,))
            self.conversations.remember(conversation, intent)
            answer = self.answer(
                intent, today=today, caller=caller, sku=suggestion.sku, conversation=conversation
            )
            return replace(answer, query=answer.query | {"heard": [suggestion.heard]})
        if YES.match(text) and not said.lots and len(suggestion.candidates) > 1:
            self.conversations.update(conversation, suggestion=suggestion)  # which one?
            typed, speech = heard_question(suggestion.heard, suggestion.candidates)
            return _answer(
                suggestion.intent.intent, {"text": text}, typed, speech, reason="confirm lot"
            )
        if NO.match(text) or (YES.match(text) and not said.lots):
            message = "Please say the lot code again, one character at a time."
            return _answer(suggestion.intent.intent, {"text": text}, message, reason="say again")
        return None

    def _choice(self, asked: Intent, reply: str, today: date) -> Intent | None:
        """The question asked back, settled by a reply that picks one of its options
        ("where it went", "the first one"); None when the reply asks something else."""
        options = [asked.intent, *(name for name, _ in asked.alternatives[:1])]
        words = re.findall(r"[a-z0-9]+", reply.lower())
        for word, index in ORDINALS.items():
            if word in words and index < len(options) and len(words) <= 4:
                return replace(asked, intent=options[index], confidence=1.0, alternatives=())
        said = parse(
            reply, today=today, gazetteer=self.gazetteer(), context=asked, is_lot=self._has_lot
        )
        if said.intent in options and not (set(said.lots) - set(asked.lots)):
            # what the reply adds (a party, a window) is kept
            return replace(
                asked,
                intent=said.intent,
                party=said.party or asked.party,
                item=said.item or asked.item,
                since=said.since or asked.since,
                until=said.until or asked.until,
                confidence=1.0,
                alternatives=(),
            )
        return None

    def _strip_skus(self, text: str) -> tuple[str, str | None]:
        """The text without an item's SKU written in it ("lot 12 BAR-TRAIL-12"), and the SKU.

        Only a token typed as a code (upper case, or with a digit or dash) that is no
        lot code counts: "bar" is a word, "BAR" a SKU.
        """
        self.gazetteer()
        skus: dict[str, str] = self._names["skus"]
        for said in re.findall(r"[A-Za-z0-9][\w\-./]*", text):
            token = said.rstrip(".")  # "GRAN-HA." ends a sentence
            sku = skus.get(token.upper())
            # A number is a quantity or a lot ("100 cases"), never taken for a SKU.
            coded = not token.isdigit() and (
                token.isupper() or any(c.isdigit() or c in "-./" for c in token)
            )
            if sku is None or not coded or _is_lot(self.genealogy, token):
                continue
            stripped = re.sub(rf"(?<![\w-]){re.escape(token)}(?![\w-])", " ", text)
            return " ".join(stripped.split()), sku
        return text, None

    def answer(
        self,
        intent: Intent,
        *,
        today: date,
        caller: Caller | None = None,
        sku: str | None = None,
        conversation: str | None = None,
        said: str = "",
        spoken: Heard | bool | None = False,
    ) -> Answer:
        """Answer a parsed intent (a button's next step, a picked item).

        A hold or release asks for its confirmation; a lot code several items share
        is settled by ``sku``, or by the item named in ``said``, or asked back; a
        ``spoken`` code that is no sure match of one lot is asked back.
        """
        heard = spoken if isinstance(spoken, Heard) else (Heard() if spoken else None)
        with _database(self.database_url):
            return self._answer_intent(intent, today, caller, sku, conversation, said, heard)

    def _answer_intent(
        self,
        intent: Intent,
        today: date,
        caller: Caller | None,
        sku: str | None,
        conversation: str | None,
        said: str,
        spoken: Heard | None,
    ) -> Answer:
        query = intent.as_dict() | ({"sku": sku} if sku else {})
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
            return _answer(
                name,
                query,
                "I didn't get that. " + HELP,
                "Sorry, I didn't get that. Ask me who got a lot, or what went into it.",
                reason="not a traceability question",
            )
        notes: list[str] = []
        if name in ("recall", "trace_forward", "trace_backward") and not intent.lots:
            scoped = self._supplied(intent)
            if isinstance(scoped, Answer):
                return scoped
            if scoped is not None:
                intent, note = scoped
                query = query | {"lots": list(intent.lots)}
                notes.append(note)
        if name in LOT_INTENTS and not intent.lots:
            return _answer(
                name,
                query,
                "Which lot? Tell me its code, for example: who got lot 4471?",
                "Which lot do you mean?",
                reason="no lot named",
            )
        if name == "common_source" and len(intent.lots) < 2:
            return _answer(
                name,
                query,
                "Name at least two lots to compare, for example: what do 4471 and 4480 have in common?",
                "Which two lots should I compare?",
                reason="one lot named",
            )
        try:
            if intent.lots:
                real, sku = self._real_codes(intent.lots, sku, said, spoken, notes, intent.item)
                if real != intent.lots:
                    query = query | {"lots": list(real), "heard": list(intent.lots)}
                    intent = replace(intent, lots=real)
                if sku:
                    query = query | {"sku": sku}
            if name in ("hold", "release"):
                return self.request(
                    name, intent.lots, caller=caller, conversation=conversation, sku=sku
                )
            result = self._dispatch(intent, today, sku=sku)
        except UnconfirmedLot as err:
            self.conversations.update(
                conversation, suggestion=Suggestion(intent, err.heard, err.candidates, sku)
            )
            text, speech = heard_question(err.heard, err.candidates)
            return _answer(
                name,
                query | {"heard": [err.heard]},
                text,
                speech,
                reason="confirm lot",
                candidates=[
                    {"lot": c.code, "item": c.item, "probability": round(c.probability, 3)}
                    for c in err.candidates[:2]
                ],
            )
        except AmbiguousLot as err:
            # The question as it will be asked again: a heard code stands for the shared one.
            asked = replace(intent, lots=self._as_asked(intent.lots, err.code))
            self.conversations.update(conversation, ambiguity=Ambiguity(asked, err.candidates))
            text = str(err)
            if conversation is not None:
                text += " Reply with the item, or its SKU."
            return _answer(
                name, query, text, str(err), reason="ambiguous", candidates=_candidates(err)
            )
        except TraceError as err:
            return _answer(name, query, str(err), reason=str(err))
        lots = list(intent.lots)
        narrowed = self._narrowed(intent, result)
        result = narrowed.result
        text = render_text(name, lots, result)
        speech = render_speech(name, lots, result)
        if narrowed.lead:
            text, speech = f"*{narrowed.lead}*\n{text}", f"{narrowed.lead} {speech}"
        data: dict[str, Any] = to_data(result)
        if narrowed.applied:
            data["narrowed"] = narrowed.applied
        window = _window(intent, today)
        if window is not None:
            data["window"] = {"since": _iso(window[0]), "until": _iso(window[1])}
        notes += _window_notes(intent)
        if notes:
            text = text + "\n_" + " ".join(notes) + "_"
        if spoken and query.get("heard"):
            said_lots = " and ".join(spell(code) for code in intent.lots)
            speech = f"I understood lot {said_lots}. {speech}"
        return Answer(name, query, True, text, speech, data)

    def _real_codes(
        self,
        lots: tuple[str, ...],
        sku: str | None,
        said: str,
        spoken: Heard | None,
        notes: list[str],
        item: str | None = None,
    ) -> tuple[tuple[str, ...], str | None]:
        """The real codes of typed or heard ``lots``, and the SKU that settled a shared one.

        ``notes`` gains each assumption made: a heard code taken for the nearest real
        one, the item a shared code was read as.
        """
        real = []
        for code in lots:
            problem = lot_code_problem(code)
            if problem is not None:  # "lot <a 200-character paste>": said, not looked up
                shown = code if len(code) <= 40 else code[:40] + "…"
                raise TraceError(f"“{shown}” is no lot code: {problem}.")
            if spoken is not None:  # a heard code is a real lot only when sure (else asked)
                index = index_for(self.database_url).current()
                sure = spoken_lot(index, code, spoken, item=item)
                if sure is None:
                    raise UnknownLot(code)
                notes.append(f"Heard: lot {sure}.")
                code = sure
            try:
                real.append(self.genealogy.match_code(code, sku=sku))
            except AmbiguousLot as err:
                chosen = _pick(err.candidates, said, ordinals=False) if sku is None else None
                if chosen is None:
                    raise
                sku = chosen.sku
                real.append(self.genealogy.match_code(code, sku=sku))
                notes.append(f"Lot {chosen.lot} of {chosen.item} ({chosen.sku}), as you named it.")
        return tuple(real), sku

    def _supplied(self, intent: Intent) -> tuple[Intent, str] | Answer | None:
        """A recall or trace asked of a supplier's goods rather than a lot ("how exposed
        are we if the almonds from Valley Nut were bad"): the lots received from that
        supplier (of the item and in the window named), or why there are none."""
        if intent.party is None or intent.party not in self.gazetteer().suppliers:
            return None
        received = self.genealogy.supplier_lots(intent.party, intent.since, intent.until)
        lines = [line for line in received.lots if intent.item in (None, line.item)]
        what = f"{intent.item} " if intent.item else ""
        window = window_words(intent.since, intent.until)
        if not lines:
            return _answer(
                intent.intent,
                intent.as_dict(),
                f"No {what}lots from {intent.party} on record{window}.",
                reason="no lots of that supplier",
            )
        codes = tuple(dict.fromkeys(line.lot for line in lines))
        shown = ", ".join(codes[:12]) + (f" and {len(codes) - 12} more" if len(codes) > 12 else "")
        note = f"The {what}lots received from {intent.party}{window}: {shown}."
        return replace(intent, lots=codes, party=None, item=None), note

    def _narrowed(self, intent: Intent, result: Any) -> Any:
        """``result`` kept to the party, item or site the question named."""
        gazetteer = self.gazetteer()
        party = intent.party
        if intent.intent in ("trace_forward", "expiring") and party not in gazetteer.customers:
            party = None  # what a supplier sent is no shipment of ours
        if intent.intent == "trace_backward" and party not in gazetteer.suppliers:
            party = None
        return narrow(
            result,
            intent.lots,
            party=party,
            item=intent.item,
            site=intent.site,
            item_of=self._item_of,
        )

    def _item_of(self, code: str) -> str | None:
        try:
            lot = self.genealogy.lot(self.genealogy.resolve(code))
        except TraceError:
            return None
        return self.genealogy.item(lot.item_id).name

    def _as_asked(self, lots: tuple[str, ...], shared: str) -> tuple[str, ...]:
        """``lots`` with a code that names no lot (a heard one) replaced by ``shared``."""
        return tuple(code if _is_lot(self.genealogy, code) else shared for code in lots)

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
            "expiring": lambda: genealogy.expiring(*_expiry_window(intent, today)),
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
        if intent.intent in LISTS:
            return self._plant_list(intent, today)
        if intent.intent in ("supplier_lots", "customer_lots") and not intent.party:
            raise _Missing(
                "Which supplier or customer? For example: what did Sysco get last month?"
            )
        if intent.intent == "formula_changes" and not intent.item and not lots:
            raise _Missing("Which product? For example: what changed in the granola recipe?")
        return calls[intent.intent]()

    def _plant_list(self, intent: Intent, today: date) -> Holds | Alerts | QcFailures:
        """What is on hold, which alerts are open, which QC checks failed."""
        url = self.database_url
        if intent.intent == "alerts":
            from storage.alerts import open_alerts

            return Alerts(
                tuple(
                    AlertLine(
                        id=int(alert["id"]),
                        kind=str(alert["kind"]),
                        severity=severity(str(alert["kind"]), alert.get("detail")),
                        state=str(alert["state"]),
                        lot=alert["lot"],
                        summary=str(alert["message"]),
                        raised_at=str(alert["created_at"]),
                    )
                    for alert in open_alerts(url)
                    if not intent.lots or alert["lot"] in intent.lots  # "any alerts on 5133?"
                )
            )
        if intent.intent == "qc_failures":
            since, until = _failure_window(intent, today)
            rows = failed_checks(url, since, until)
            checks = tuple(FailedCheck(**cast(dict[str, Any], row)) for row in rows)
            return QcFailures(checks, since, until)
        held = []
        for row in holds_in_place(url):
            placed = str(row["placed_at"])[:10]
            if (intent.since and placed < intent.since.isoformat()) or (
                intent.until and placed > intent.until.isoformat()
            ):
                continue
            try:
                facts = self.genealogy.lot_info(str(row["lot"]), sku=str(row["sku"])).lot
                on_hand, location, uom = facts.on_hand, facts.location, facts.uom
            except TraceError:
                on_hand, location, uom = None, None, None
            held.append(
                HeldLot(
                    lot=str(row["lot"]),
                    item=str(row["item"]),
                    reason=str(row["reason"] or ""),
                    placed_by=str(row["placed_by"] or ""),
                    placed_at=str(row["placed_at"]),
                    on_hand=on_hand,
                    location=location,
                    uom=uom,
                )
            )
        return Holds(tuple(held), intent.since, intent.until)

    # --- changing ----------------------------------------------------------------------

    def request(
        self,
        action: str,
        lots: Sequence[str] = (),
        *,
        caller: Caller | None,
        conversation: str | None = None,
        sku: str | None = None,
        detail: dict[str, Any] | None = None,
        label: str | None = None,
        downstream: bool = False,
    ) -> Answer:
        """Ask to confirm a change of state: hold, release, recall (start one) or
        acknowledge (``detail["alert"]``, shown as ``label``); nothing changes yet.

        With ``downstream`` the change covers every lot made from ``lots`` too. The
        answer's ``data.confirm`` carries the token that ``confirm`` takes; in
        ``conversation`` a plain "yes" confirms it too.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown change {action!r}")
        query = {"intent": action, "lots": list(lots)}
        refusal = self._refusal(action, caller, query)
        if refusal is not None:
            return refusal
        with _database(self.database_url):
            try:
                ids = list(dict.fromkeys(self.genealogy.resolve(code, sku=sku) for code in lots))
                if downstream and ids:
                    below = self.genealogy.descendants(ids) - set(ids)
                    ids += sorted(below, key=self.genealogy.code)
                codes = [self.genealogy.code(lot_id) for lot_id in ids]
                items = [self.genealogy.item(self.genealogy.lot(i).item_id).name for i in ids]
            except AmbiguousLot as err:
                return _answer(
                    action, query, str(err), reason="ambiguous", candidates=_candidates(err)
                )
            except TraceError as err:
                return _answer(action, query, str(err), reason=str(err))
            status = {"hold": "on_hold", "release": "released"}.get(action)
            if status and all(self.genealogy.lot(i).status == status for i in ids):
                return _unchanged(action, query | {"lots": codes}, codes, status, {})
            assert caller is not None  # _refusal lets no one else through
            pending = store_request(
                self.database_url,
                action=action,
                lots=codes,
                lot_ids=ids,
                requested_by=caller.key,
                conversation=conversation,
                ttl=self.confirm_for,
                detail=detail,
            )
        text, speech = _question(action, codes, items, label, spoken_yes=conversation is not None)
        confirm: dict[str, Any] = {
            "token": pending.token,
            "intent": action,
            "lots": codes,
            "expires_at": pending.expires_at.isoformat(timespec="seconds") + "Z",
        }
        if detail:
            confirm["detail"] = detail
        return _answer(
            action, query | {"lots": codes}, text, speech, reason="confirm", confirm=confirm
        )

    def _refusal(self, action: str, caller: Caller | None, query: dict[str, Any]) -> Answer | None:
        if action in ALERT_ACTIONS:  # whoever reads the alert channel may deal with an alert
            if caller is None:
                message = f"Who is asking to {action} the alert? Say who you are."
                return _answer(action, query, message, reason="no caller", refused=True)
            return None
        verb = {"hold": "place holds", "release": "release holds"}.get(action, "start a recall")
        if not self.admins:
            message = (
                f"No one may {verb} yet: an administrator must list people in TRACEBOT_ADMINS."
            )
            return _answer(action, query, message, reason=message, refused=True, verb=verb)
        if not self.may_change(caller):
            message = f"Only {', '.join(self.admins)} may {verb}. Ask one of them."
            return _answer(
                action,
                query,
                message,
                f"Sorry, you may not {verb}.",
                reason=message,
                refused=True,
                verb=verb,
            )
        return None

    def confirm(self, token: str, *, caller: Caller | None, today: date | None = None) -> Answer:
        """Make the change ``token`` stands for, once, and say what was written.

        A token used before, expired or unknown changes nothing, and the answer says so.
        """
        del today  # the change is dated by the clock; kept for the adapters' one signature
        with _database(self.database_url):
            pending = get_pending(self.database_url, token)
            action = pending.action if pending else "hold"
            refusal = self._refusal(
                action, caller, {"intent": action, "lots": list(pending.lots) if pending else []}
            )
            if refusal is not None:
                return refusal
            assert caller is not None
            applied = apply_action(self.database_url, token, actor=caller.key)
        if applied.state == "done":
            try:
                self.genealogy.refresh()
            except Exception:  # the change is written: say so; the next question catches up
                log.warning("could not refresh the genealogy after %s", token, exc_info=True)
        return _outcome(applied, caller)

    def cancel(self, token: str, *, caller: Caller | None) -> Answer:
        """Drop a pending change (for those who may confirm it); nothing is written."""
        with _database(self.database_url):
            pending = get_pending(self.database_url, token)
            if pending is not None:
                query = {"intent": pending.action, "lots": list(pending.lots)}
                refusal = self._refusal(pending.action, caller, query)
                if refusal is not None:
                    return refusal
            actor = caller.key if caller else "unknown"
            applied = cancel_action(self.database_url, token, actor=actor)
        return _outcome(applied, caller)

    # --- what adapters show besides answers ----------------------------------------------

    def last_answer(self, conversation: str | None) -> Answer | None:
        """The last answer given in a conversation ("send it to Slack")."""
        return self.conversations.get(conversation).answer

    def lot(self, code: str, *, sku: str | None = None) -> dict[str, Any]:
        """One lot's facts, as ``data.lot`` of ``lot_info``.

        Raises:
            TraceError: no such lot (``UnknownLot``), none of item ``sku``
                (``UnknownLotOfItem``) or several (``AmbiguousLot``).
        """
        with _database(self.database_url):
            sku = self._item_sku(code, sku)
            found: dict[str, Any] = to_data(self.genealogy.lot_info(code, sku=sku))["lot"]
        return found

    def trace(self, code: str, *, direction: str, sku: str | None = None) -> dict[str, Any]:
        """Everything downstream (``down``) or upstream (``up``) of a lot, as ``data``.

        Raises:
            TraceError: as ``lot``.
        """
        with _database(self.database_url):
            sku = self._item_sku(code, sku)
            call = self.genealogy.downstream if direction == "down" else self.genealogy.upstream
            found: dict[str, Any] = to_data(call(code, sku=sku))
        return found

    def _item_sku(self, code: str, sku: str | None) -> str | None:
        """``sku`` as the plant spells it, once lot ``code`` is known to be of that item
        (the engine takes a SKU only to choose between items that share a code).

        Raises:
            UnknownLotOfItem: no lot ``code`` is of item ``sku``.
        """
        if sku is None:
            return None
        self.gazetteer()  # keeps the plant's SKUs current
        real: str = self._names["skus"].get(sku.strip().upper(), sku)
        try:
            if self.genealogy.lot_info(code, sku=real).lot.sku == real:
                return real
        except AmbiguousLot as err:
            if real in {candidate.sku for candidate in err.candidates}:
                raise
        raise UnknownLotOfItem(code, sku)

    def diagram(self, lots: Sequence[str], fmt: str) -> bytes:
        """The lineage diagram of ``lots`` as PNG or SVG.

        Raises:
            TraceError: a lot is unknown. DiagramError: Graphviz could not draw it.
        """
        from bot.export import render_diagram

        with _database(self.database_url):
            return render_diagram(self.genealogy, list(lots), fmt)

    def fsma(self, lots: Sequence[str], path: Path) -> int:
        """Write the FSMA 204 sortable spreadsheet (.csv or .xlsx); its row count."""
        from bot.export import write_fsma

        with _database(self.database_url):
            return write_fsma(self.genealogy, list(lots), path)

    def home(self, *, today: date, days: int = EXPIRY_DAYS) -> dict[str, Any]:
        """What a dashboard shows: open alerts, lots expiring within ``days``, holds."""
        from storage.alerts import open_alerts

        with _database(self.database_url):
            expiring = to_data(self.genealogy.expiring(today, today + timedelta(days=days - 1)))
            return {
                "alerts": open_alerts(
                    self.database_url, states=("open", "snoozed", "acknowledged")
                ),
                "expiring": expiring.get("lots", []),
                "holds": holds_in_place(self.database_url),
                "days": days,
            }

    def open_alerts(self, *, states: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Problems still open (or in ``states``), newest first, each with its state and
        who last changed it."""
        from storage.alerts import open_alerts

        with _database(self.database_url):
            return open_alerts(self.database_url, states=states)

    def history_of(self, summary_id: int) -> list[dict[str, Any]]:
        """The irregularities a history check's summary alert sums up, each with its
        severity."""
        from storage.alerts import history_of
        from trace_engine.rules import severity

        with _database(self.database_url):
            found = history_of(self.database_url, summary_id)
        return [{**row, "severity": severity(row["kind"], row["detail"])} for row in found]

    def alert_request(
        self,
        action: str,
        alert_id: int,
        *,
        caller: Caller | None,
        conversation: str | None = None,
        until: datetime | None = None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> Answer:
        """Ask to acknowledge, snooze (``until``, naive UTC) or resolve (with ``note``)
        alert ``alert_id``; the answer carries the confirmation, nothing changes yet."""
        from storage.outbox import get_alert

        query: dict[str, Any] = {"intent": action, "lots": [], "alert": alert_id}
        if action not in ALERT_ACTIONS:
            raise ValueError(f"unknown alert change {action!r}")
        with _database(self.database_url):
            alert = get_alert(self.database_url, alert_id)
        if alert is None:
            return _answer(action, query, f"There is no alert #{alert_id}.", reason="no such alert")
        if alert.status == "resolved":
            message = f"Alert #{alert_id} is resolved already; nothing to change."
            return _answer(action, query, message, reason="resolved already")
        detail: dict[str, Any] = {"alert": alert_id}
        short = (
            alert.message
            if len(alert.message) <= 100
            else alert.message[:100].rsplit(" ", 1)[0] + " …"
        )
        label = f"alert #{alert_id} ({short})"
        if action == "snooze":
            moment = now or datetime.now(UTC).replace(tzinfo=None)
            if until is None or until <= moment:
                message = "Snooze until when? Give a time in the future."
                return _answer(action, query, message, reason="no snooze time")
            detail["until"] = until.isoformat(timespec="minutes")
            label += f" until {until.strftime('%Y-%m-%d %H:%M')} UTC"
        if action == "resolve":
            if not (note or "").strip():
                message = "Resolve with what note? Say what was done (retested, disposed of …)."
                return _answer(action, query, message, reason="no note")
            detail["note"] = " ".join(str(note).split())[:500]
        return self.request(
            action, caller=caller, conversation=conversation, detail=detail, label=label
        )

    def outbox(self) -> AlertDesk:
        """The stored alerts on their way to the alert channel."""
        from bot.service.alerts import AlertDesk

        return AlertDesk(self)

    def scan(self, data: bytes, *, today: date) -> ScanResult:
        """Read a label photo's barcodes and answer about the lot they name."""
        with _database(self.database_url):
            return scan(self, data, today=today)

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` (a Slack event, message, file or click) is seen,
        across processes and restarts; False ever after."""
        from storage.outbox import claim_event

        with _database(self.database_url):
            return claim_event(self.database_url, key)

    def record_events(self, events: Sequence[Any], *, caller: Caller) -> ImportReport:
        """Record receipts, consumption, shipments, QC results, holds and releases from
        another system, all or nothing (``report.rejected`` lists what was refused)."""
        from storage.importers.events import record_events

        with _database(self.database_url):
            return record_events(
                self.database_url, events, actor=caller.key, horizon=self.alert_horizon
            )

    def capture(
        self, document: dict[str, Any] | list[Any] | bytes, *, caller: Caller
    ) -> ImportReport:
        """Load an EPCIS document (JSON, bare events, or XML as bytes), all or nothing.

        Raises:
            EpcisError: the document is not valid; the error names the field.
        """
        from storage.importers.epcis import import_epcis

        with _database(self.database_url):
            return import_epcis(
                self.database_url,
                document,
                source="capture",
                actor=caller.key,
                horizon=self.alert_horizon,
            )

    @staticmethod
    def check(database_url: str) -> str | None:
        """The database's schema revision, without loading the plant (liveness).

        Raises:
            DatabaseUnavailable: the database cannot be reached.
        """
        from storage.db import schema_revision

        with _database(database_url):
            return schema_revision(database_url)

    def recent_codes(self, limit: int = RECENT_CODES) -> list[str]:
        """The codes of the most recently made or received lots, newest first."""
        with _database(self.database_url):
            return recent_lot_codes(self.database_url, limit)


def _expiry_window(intent: Intent, today: date) -> tuple[date, date]:
    """What expires is always asked of a window: the one stated, else today and the
    next ``EXPIRY_DAYS`` days (the answer says so)."""
    since = intent.since or today
    return since, intent.until or since + timedelta(days=EXPIRY_DAYS - 1)


def _failure_window(intent: Intent, today: date) -> tuple[date, date]:
    """Failed QC checks are asked of a window: the one stated, else the last
    ``RECENT_DAYS`` days (the answer says so)."""
    until = intent.until or today
    return intent.since or until - timedelta(days=RECENT_DAYS - 1), until


def _window(intent: Intent, today: date) -> tuple[date | None, date | None] | None:
    """The date window an answer applies, as it will say it; None where none applies."""
    if intent.intent == "expiring":
        return _expiry_window(intent, today)
    if intent.intent == "qc_failures":
        return _failure_window(intent, today)
    if intent.intent in WINDOWED and (intent.since or intent.until):
        return intent.since, intent.until
    return None


def _window_notes(intent: Intent) -> list[str]:
    """What the answer assumed about dates, said out loud."""
    if intent.intent == "expiring" and intent.since is None and intent.until is None:
        return [f"No dates given: the next {EXPIRY_DAYS} days."]
    if intent.intent == "expiring" and intent.until is None:
        return [f"No end date given: {EXPIRY_DAYS} days from the start."]
    if intent.intent == "qc_failures" and intent.since is None:
        return [f"No start date given: the last {RECENT_DAYS} days."]
    if intent.intent not in WINDOWED and (intent.since or intent.until):
        return ["The dates you gave narrow nothing here: this covers all dates."]
    return []


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _is_lot(genealogy: Genealogy, code: str) -> bool:
    try:
        genealogy.resolve(code)
    except UnknownLot:
        return False
    except AmbiguousLot:
        return True
    return True


def _names_only(ambiguity: Ambiguity, reply: str) -> bool:
    """Whether a reply could be naming one of the items, and is no new question: a few
    words, and no code or number but those of the lot and its items.

    Example:
        >>> bar = Candidate("12", "Trail Mix Bar 12-pack", "BAR-TRAIL-12")
        >>> asked = Ambiguity(Intent("lot_info", ("12",)), (bar,))
        >>> _names_only(asked, "the trail mix bar 12-pack"), _names_only(asked, "who got 4471")
        (True, False)
    """
    known = {ambiguity.intent.lots[0].lower()} if ambiguity.intent.lots else set()
    for candidate in ambiguity.candidates:
        known |= {candidate.lot.lower(), candidate.sku.lower()}
        known |= set(re.findall(r"[a-z0-9][a-z0-9\-]*", candidate.item.lower()))
    words = re.findall(r"[a-z0-9][a-z0-9\-]*", reply.lower())
    coded = [w for w in words if any(c.isdigit() for c in w) and w not in known]
    return 0 < len(words) <= 8 and not coded


def _candidates(err: AmbiguousLot) -> list[dict[str, Any]]:
    """The lots a shared code may mean, as ``data.candidates``."""
    return [to_data(candidate) for candidate in err.candidates]


def _pick(
    candidates: Sequence[Candidate], said: str, *, ordinals: bool = False
) -> Candidate | None:
    """The one candidate whose SKU or item the words name, if exactly one is named
    (with ``ordinals``, a reply may say "the second one").

    Example:
        >>> bar = Candidate("12", "Trail Mix Bar 12-pack", "BAR-TRAIL-12")
        >>> granola = Candidate("12", "Honey Almond Granola", "GRAN-HA")
        >>> _pick([bar, granola], "the trail mix bar").sku
        'BAR-TRAIL-12'
        >>> _pick([bar, granola], "second one", ordinals=True).sku, _pick([bar, granola], "lot 12")
        ('GRAN-HA', None)
    """
    words = re.findall(r"[a-z0-9][a-z0-9\-]*", said.lower())
    for candidate in candidates:
        if candidate.sku.lower() in words:
            return candidate
    for word in words if ordinals else ():
        if word in ORDINALS and ORDINALS[word] < len(candidates):
            return candidates[ORDINALS[word]]
    named = [w for w in words if len(w) >= 3 and not w.isdigit()]
    scores = []
    for candidate in candidates:
        item_words = {w for w in re.findall(r"[a-z]{3,}", candidate.item.lower())}
        scores.append(
            sum(1 for w in item_words if any(fuzz.ratio(w, said_word) >= 85 for said_word in named))
        )
    best = max(scores, default=0)
    if best and scores.count(best) == 1:
        return candidates[scores.index(best)]
    return None


def _question(
    action: str, codes: Sequence[str], items: Sequence[str], label: str | None, *, spoken_yes: bool
) -> tuple[str, str]:
    """The confirmation question, typed and spoken."""
    shown = codes[:20]
    listed = ", ".join(
        f"{code_span(each)} ({item})" for each, item in zip(shown, items, strict=False)
    )
    if len(codes) > 20:
        listed += f" and {len(codes) - 20} more"
    spoken = " and ".join(spell(code) for code in codes[:5]) + (
        f" and {len(codes) - 5} more" if len(codes) > 5 else ""
    )
    how = " Reply yes to confirm, or no." if spoken_yes else ""
    if action == "hold":
        return f"Put lot {listed} on hold?{how}", f"Say yes to confirm holding lot {spoken}."
    if action == "release":
        return (
            f"Release lot {listed} from hold?{how}",
            f"Say yes to confirm releasing lot {spoken}.",
        )
    if action == "recall":
        return (
            f"Start the recall checklist for {listed}? It is recorded in the audit log.{how}",
            f"Say yes to confirm starting a recall of lot {spoken}.",
        )
    subject = label or "this alert"
    verb = {"snooze": "Snooze", "resolve": "Resolve"}.get(action, "Acknowledge")
    return f"{verb} {subject}?{how}", f"Say yes to confirm: {verb.lower()} {subject}."


def _unchanged(
    action: str, query: dict[str, Any], lots: Sequence[str], status: str, data: dict[str, Any]
) -> Answer:
    """A hold or release that finds its lots as asked already: nothing to change."""
    state = "already on hold" if action == "hold" else "not on hold"
    verb = "are" if len(lots) > 1 else "is"
    message = f"Lot(s) {', '.join(lots)} {verb} {state}; nothing changed."
    spoken = f"Lot {' and '.join(spell(c) for c in lots)} {verb} {state}."
    return Answer(action, query, True, message, spoken, {"lots": [], "status": status} | data)


def _outcome(applied: Applied, caller: Caller | None) -> Answer:
    """What a confirmation or cancellation did, in words and data."""
    pending = applied.pending
    action = pending.action if pending else "hold"
    lots = list(pending.lots) if pending else []
    query = {"intent": action, "lots": lots, "token": pending.token if pending else None}
    if applied.state == "unknown":
        return _answer(
            action,
            query,
            "I have no such change waiting to be confirmed; nothing changed.",
            reason="unknown confirmation",
        )
    assert pending is not None
    if applied.state == "expired":
        message = "That confirmation has expired; nothing changed. Ask again."
        return _answer(action, query, message, reason="expired")
    if applied.state == "used":
        when = pending.used_at.strftime("%Y-%m-%d %H:%M UTC") if pending.used_at else "before"
        done = {"done": "confirmed", "cancelled": "cancelled"}.get(pending.outcome or "", "used")
        message = f"That was {done} already ({pending.used_by}, {when}); nothing changed now."
        return _answer(action, query, message, reason="already used", used_by=pending.used_by)
    if applied.state == "cancelled":
        return Answer(
            action,
            query,
            True,
            "Cancelled; nothing changed.",
            "Cancelled. Nothing changed.",
            {"lots": [], "status": "cancelled"},
        )
    who = caller.key if caller else pending.used_by
    audit = f" (audit #{applied.audit_id}, by {who})" if applied.audit_id else ""
    if action in ("hold", "release"):
        status = "on_hold" if action == "hold" else "released"
        result = HoldChange(lots=applied.changed, status=status)
        data = {
            "lots": list(applied.changed),
            "status": status,
            "unchanged": list(applied.unchanged),
            "audit_id": applied.audit_id,
        }
        if not applied.changed:
            return _unchanged(action, query, lots, status, data)
        text = render_text(action, list(applied.changed), result) + audit
        if applied.unchanged:
            text += f"\n_{', '.join(applied.unchanged)} already {'on hold' if action == 'hold' else 'released'}; unchanged._"
        return Answer(
            action, query, True, text, render_speech(action, list(applied.changed), result), data
        )
    if action == "recall":
        text = f"*Recall started* for {', '.join(code_span(c) for c in lots)}{audit}."
        return Answer(
            action,
            query,
            True,
            text,
            "Recall started.",
            {"lots": lots, "status": "recall_started", "audit_id": applied.audit_id},
        )
    alert = applied.extra.get("alert")
    state = str(applied.extra.get("state"))
    detail = pending.detail
    if applied.extra.get("changed"):
        text = f"Alert #{alert} {state}{audit}."
        if action == "snooze":
            text = f"Alert #{alert} snoozed until {str(detail.get('until')).replace('T', ' ')} UTC{audit}."
        if action == "resolve":
            text = f"Alert #{alert} resolved{audit}: {detail.get('note')}"
    else:
        was = applied.extra.get("was")
        text = (
            f"There is no alert #{alert}; nothing changed."
            if was is None
            else f"Alert #{alert} was {was} already; nothing changed."
        )
    outcome: dict[str, Any] = {
        "alert": alert,
        "status": state if applied.extra.get("changed") else "unchanged",
        "audit_id": applied.audit_id,
        "by": who,
    }
    if action == "snooze":
        outcome["until"] = detail.get("until")
    if action == "resolve":
        outcome["note"] = detail.get("note")
    return Answer(action, query, True, text, text, outcome)


@contextmanager
def _database(url: str) -> Iterator[None]:
    """Turn a database that cannot be reached into ``DatabaseUnavailable``."""
    try:
        yield
    except (OperationalError, InterfaceError) as err:
        reason = str(getattr(err, "orig", err) or err).strip().splitlines()[0]
        raise DatabaseUnavailable(url, reason) from err


class _Missing(TraceError):
    """A question lacks what it needs; the message asks for it."""
