"""Typed questions to Intents: a plain rule-based parser.

It understands the contract's example phrasings and their everyday variants:
Slack mentions and links are dropped, "batch" means "lot", several lots may be
named ("4471, 4480 and 5120"), and party and item names come from a gazetteer of
the names in the database when one is given. Each intent is scored; the best
wins, and a question with no cue at all is ``unknown``.

Example:
    >>> from datetime import date
    >>> parse("<@U024BE7LH> who got lot 4471?", today=date(2026, 11, 25)).as_dict()
    {'intent': 'trace_forward', 'lots': ['4471'], 'party': None, 'item': None, 'since': None, 'until': None, 'confidence': 0.91}
    >>> parse("what do 4471 and 4480 have in common", today=date(2026, 11, 25)).intent
    'common_source'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from intents.dates import MONTHS, window
from intents.model import LOT_INTENTS, Intent
from intents.spoken import looks_spoken, normalise_spoken

__all__ = ["Gazetteer", "parse"]


@dataclass(frozen=True)
class Gazetteer:
    """Names people may use for parties and items, as in the master data."""

    parties: Sequence[str] = ()
    items: Sequence[str] = ()


# Cues for each intent, with a weight; the highest total wins.
_CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "recall": ((r"\brecall", 3.0), (r"\bwithdraw", 2.0)),
    "hold": (
        (r"\b(?:put|place|placing|set)\b.*\bon hold\b", 3.0),
        (r"^\s*(?:please\s+)?hold\b", 3.0),
        (r"\bquarantine\b", 2.5),
        (r"\bblock\b", 1.5),
    ),
    "release": (
        (r"\brelease\b", 3.0),
        (r"\b(?:lift|remove|take off|clear)\b.*\bhold\b", 3.5),
        (r"\boff hold\b", 3.5),
    ),
    "common_source": ((r"\bin common\b", 3.0), (r"\bcommon\b", 2.0), (r"\bshare[ds]?\b", 2.0)),
    "mass_balance": (
        (r"\breconcil", 3.0),
        (r"\bmass balance\b", 3.0),
        (r"\bbalance\b", 2.0),
        (r"\byield\b", 2.0),
        (r"\bunaccounted\b", 2.0),
    ),
    "qc_status": (
        (r"\bqc\b", 2.5),
        (r"\bpass(?:ed)?\b", 2.0),
        (r"\bfail(?:ed)?\b", 2.0),
        (r"\btests?\b", 1.5),
        (r"\bquality\b", 2.0),
        (r"\bsign(?:ed)?[ -]?off\b", 2.0),
        (r"\binspect", 1.5),
    ),
    "formula_changes": (
        (r"\brecipe\b", 3.0),
        (r"\bformula", 3.0),
        (r"\bchange ?log\b", 2.0),
        (r"\bwhat changed\b", 1.5),
        (r"\bprocess change", 2.0),
        (r"\bwhat (?:formula|recipe)\b", 1.0),
        (r"\bversion\b", 1.0),
    ),
    "expiring": ((r"\bexpir", 2.0), (r"\bbest before\b", 2.0), (r"\bshelf life\b", 1.0)),
    "trace_backward": (
        (r"\bwent into\b", 3.0),
        (r"\bgoes into\b", 3.0),
        (r"\bmade (?:from|with|of)\b", 3.0),
        (r"\bingredients?\b", 2.5),
        (r"\binputs?\b", 2.5),
        (r"\bcome from\b", 3.0),
        (r"\bcame from\b", 3.0),
        (r"\bupstream\b", 3.0),
        (r"\bsource of\b", 2.0),
        (r"\bwhat'?s in\b", 2.0),
        (r"\bbackwards?\b", 2.0),
        (r"\btrace\b.*\bback\b|\bback ?trace\b", 3.0),
        (r"\bsuppliers? (?:of|for)\b", 2.5),
        (r"\bwho supplied\b", 2.5),
    ),
    "trace_forward": (
        (r"\bwho (?:got|received|has|bought)\b", 3.0),
        (r"\bwhere did\b.*\bgo\b", 3.0),
        (r"\bwhere (?:is|are|did)\b", 1.0),
        (r"\bshipped\b", 1.5),
        (r"\bships?\b", 1.0),
        (r"\bcustomers?\b", 2.0),
        (r"\bdownstream\b", 3.0),
        (r"\bforwards?\b", 2.0),
        (r"\bmade with\b", 0.5),
        (r"\bused in\b", 2.5),
        (r"\bwent to\b", 2.5),
    ),
    "supplier_lots": (
        (r"\b(?:send|sent|deliver(?:ed)?)\b", 2.0),
        (r"\breceived? from\b", 2.5),
        (r"\bfrom\b", 0.5),
    ),
    "customer_lots": ((r"\bdid\b.*\b(?:get|receive|buy|order)\b", 1.5), (r"\bshipped to\b", 2.5)),
    "lot_info": (
        (r"\bwhen does\b", 1.0),
        (r"\bstatus\b", 2.0),
        (r"\bon hand\b", 2.0),
        (r"\bhow much\b", 1.5),
        (r"\bwhere is\b", 1.0),
        (r"\b(?:tell me about|info|details|look ?up)\b", 2.0),
        (r"\bmade on\b", 1.5),
        (r"\bproduced\b", 1.0),
    ),
    "help": ((r"^\s*(?:help|\?)\s*$", 5.0), (r"\bwhat can you do\b", 5.0), (r"\bhow do i\b", 1.5)),
}

_LOT_WORD = r"(?:lot|lots|batch|batches|lot number|lot no\.?|lot #|#)"
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*")
_NOT_LOTS = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)|\d+(?:days?|weeks?|months?)|\d{1,2}|\d+(?:\.\d+)?%)$",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(r"^\s*(?:days?|weeks?|months?|kg|g|lb|ea|units?|cases?)\b", re.IGNORECASE)


def _clean(text: str) -> str:
    text = re.sub(r"<@[A-Z0-9]+(?:\|[^>]*)?>", " ", text)  # Slack user mentions
    text = re.sub(r"<(?:https?|mailto):[^|>]*\|([^>]*)>", r"\1", text)  # links with a label
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r":[a-z0-9_+-]+:", " ", text)  # emoji
    return re.sub(r"\s+", " ", text).strip()


def lot_codes(text: str) -> tuple[str, ...]:
    """Lot codes named in a question, upper-cased, in order.

    A token counts when it holds a digit and is not a date, a count of days or a
    quantity; a short number counts only right after "lot" or "batch".

    Example:
        >>> lot_codes("what do 4471, 4480 and batch L-2024-0113 have in common")
        ('4471', '4480', 'L-2024-0113')
        >>> lot_codes("what expires in the next 10 days")
        ()
    """
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group().rstrip(".")
        if not any(ch.isdigit() for ch in token):
            continue
        before = text[: match.start()].lower().rstrip()
        after = text[match.end() :]
        named = bool(re.search(rf"{_LOT_WORD}\s*$", before))
        if not named and (_NOT_LOTS.match(token) or _UNIT_AFTER.match(after)):
            continue
        if not named and re.search(
            r"\b(?:next|last|past|within|in|first|since|before|until)\s*$", before
        ):
            continue
        month = re.search(r"\b([a-z]+)\.?\s*$", before)
        if re.fullmatch(r"\d{4}", token) and month and month[1] in MONTHS and not named:
            continue  # a year after a month name
        code = token.upper()
        if code not in found:
            found.append(code)
    return tuple(found)


def _name_in(text: str, names: Sequence[str]) -> str | None:
    """The known name the text mentions most of: the whole name, or most of its words."""
    said = text.lower()
    best: tuple[int, str] | None = None
    for name in names:
        if re.search(rf"\b{re.escape(name.lower().rstrip('.'))}\b", said):
            score = 1000 + len(name)
        else:
            words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z']+", name) if len(w) > 3}
            score = sum(len(w) for w in words if re.search(rf"\b{re.escape(w)}\b", said))
        if score and (best is None or score > best[0]):
            best = (score, name)
    return best[1] if best else None


def _party_phrase(text: str) -> str | None:
    """A capitalised name after "did", "from" or "to", when no gazetteer knows it."""
    match = re.search(r"\b(?:did|from|to|does)\s+((?:[A-Z][\w&'.-]*\s?){1,3})", text)
    if not match:
        return None
    name = match[1].strip()
    return None if name.lower() in ("we", "i", "us", "you", "lot", "batch") else name


def _item_phrase(text: str) -> str | None:
    match = re.search(
        r"\b(?:in|to|of|for)\s+(?:the|our)?\s*([a-z][\w -]*?)\s+(?:recipe|formula|process)\b",
        text,
        re.IGNORECASE,
    )
    if match:
        return match[1].strip()
    match = re.search(
        r"\b(?:recipe|formula|process)\s+(?:for|of)\s+(?:the\s+)?([\w -]+)", text, re.IGNORECASE
    )
    return match[1].strip(" ?.") if match else None


def parse(text: str, *, today: date, gazetteer: Gazetteer | None = None) -> Intent:
    """The intent of a typed question."""
    cleaned = _clean(text)
    if looks_spoken(cleaned):
        cleaned = normalise_spoken(cleaned)
    said = cleaned.lower()
    lots = lot_codes(cleaned)
    gazetteer = gazetteer or Gazetteer()
    party = _name_in(cleaned, gazetteer.parties)
    item = _name_in(cleaned, gazetteer.items)
    scores = {
        intent: sum(weight for pattern, weight in cues if re.search(pattern, said))
        for intent, cues in _CUES.items()
    }
    # What a question names steers it: lots make it about lots, a party about a window.
    if lots:
        for intent in ("supplier_lots", "customer_lots", "expiring"):
            scores[intent] -= 2.0
        scores["formula_changes"] -= 0.5  # "which recipe made lot 4471?" is about the lot's version
        if len(lots) > 1:
            scores["common_source"] += 0.5
        if scores["expiring"] > -2.0 or re.search(r"\bexpir", said):
            scores["lot_info"] += 2.5  # "when does 4471 expire?"
    else:
        for intent in LOT_INTENTS:
            scores[intent] -= 1.5
        if party is None:
            party = _party_phrase(cleaned)
        if party is not None:
            scores["supplier_lots"] += 1.0
            scores["customer_lots"] += 1.0
            if re.search(r"\b(?:we|us)\b.*\b(?:send|sent|ship|deliver)", said) and not re.search(
                r"\b(?:sent|send|deliver\w*) us\b", said
            ):
                scores["customer_lots"] += 2.0
        if item is None:
            item = _item_phrase(cleaned)
    if re.search(r"\bmock recall\b", said):
        scores["recall"] += 2.0
    ranked = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    since, until = window(cleaned, today)
    if top <= 0:
        if lots:
            return Intent("lot_info", lots=lots, since=since, until=until, confidence=0.6)
        return Intent("unknown", confidence=0.3)
    confidence = min(0.97, 0.55 + 0.07 * top + 0.05 * (top - max(second, 0.0)))
    return Intent(
        best,
        lots=lots,
        party=party if best in ("supplier_lots", "customer_lots") else None,
        item=item if best == "formula_changes" else None,
        since=since,
        until=until,
        confidence=round(confidence, 2),
        alternatives=tuple((name, score) for name, score in ranked[1:3]),
    )
