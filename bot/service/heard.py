"""Spoken lot codes: never an answer about a lot nobody confirmed.

A heard code is scored against every real lot of the plant (``intents.heard``).
Only an exact match that is also sure (``SURE``: the recogniser, or the phone
line's confidence, leaves no other real lot a chance) is answered at once, and
the answer says which lot it heard. Otherwise the question is asked back: "Did
you mean lot 4-4-8-0, Trail Mix Bar?" (yes or no), or, where two lots are about
as likely, "Lot 4480 or lot 4402?"; the conversation keeps the question until
the reply.

The plant's codes are kept in one index per database, read once and then only
the lots added since, so a lot recorded a second ago can be asked about by voice.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.render.speech import spell
from intents.heard import SURE, CodeIndex, HeardLot, plain
from intents.model import Intent
from storage.writes import lot_codes
from trace_engine import TraceError

__all__ = [
    "Heard",
    "LotIndex",
    "Suggestion",
    "UnconfirmedLot",
    "choose",
    "index_for",
    "question",
    "spoken_lot",
]

PHONE_SURE = 0.9
"""The per-character confidence a transcript without its own carries (typed by an
intercom's recogniser that gave none)."""
PHONE_TRUSTED = 0.8
"""Below this a phone line's confidence in its transcript, or the recogniser's in any
character of a code, never makes a code sure."""
TWO = 0.25
"""The second lot is offered beside the first when at least this likely."""


@dataclass(frozen=True)
class Heard:
    """How a question was heard: per code (plain), how sure of each character; else
    the whole transcript's confidence."""

    codes: dict[str, tuple[float, ...]] = field(default_factory=dict)
    confidence: float | None = None

    def of(self, code: str) -> tuple[float, ...]:
        key = plain(code)
        if key in self.codes:
            return self.codes[key]
        return (self.confidence if self.confidence is not None else PHONE_SURE,)


class UnconfirmedLot(TraceError):
    """A heard code that is no sure match of one real lot: the lots to offer."""

    def __init__(self, heard: str, candidates: Sequence[HeardLot]) -> None:
        self.heard = heard
        self.candidates = tuple(candidates)
        super().__init__(question(heard, self.candidates)[0])


@dataclass(frozen=True)
class Suggestion:
    """A question asked back about a heard code, waiting for yes, no or a pick."""

    intent: Intent
    heard: str
    candidates: tuple[HeardLot, ...]
    sku: str | None = None


class LotIndex:
    """One plant's lot codes, kept current by reading only the lots added since."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.index = CodeIndex()
        self._last = 0
        self._lock = threading.Lock()

    def current(self) -> CodeIndex:
        with self._lock:
            rows = lot_codes(self.url, after_id=self._last)
            if rows:
                self.index.add([row[1] for row in rows], [row[2] for row in rows])
                self._last = max(self._last, max(row[0] for row in rows))
            return self.index


_INDEXES: dict[str, LotIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index_for(url: str) -> LotIndex:
    """The lot index of the plant at ``url`` (one per process)."""
    with _INDEXES_LOCK:
        if url not in _INDEXES:
            _INDEXES[url] = LotIndex(url)
        return _INDEXES[url]


def spoken_lot(index: CodeIndex, code: str, heard: Heard, *, item: str | None = None) -> str | None:
    """The real lot a heard ``code`` is, when it is sure; None when no lot is like it.

    Raises:
        UnconfirmedLot: it may be one or two real lots, which must be confirmed.
    """
    candidates = index.match(code, heard.of(code), item=item)
    if not candidates and item is not None:
        candidates = index.match(code, heard.of(code))
    if not candidates:
        return None
    best = candidates[0]
    # a recogniser's code is trusted unless it marks a character below PHONE_TRUSTED
    # (its second pass found the code unsure); a transcript's, by its confidence
    own = heard.codes.get(plain(code))
    trusted = (
        min(own, default=0.0) >= PHONE_TRUSTED
        if own is not None
        else (heard.confidence or PHONE_SURE) >= PHONE_TRUSTED
    )
    if trusted and plain(best.code) == plain(code) and best.probability >= SURE:
        return best.code
    raise UnconfirmedLot(code, candidates)


def offered(candidates: Sequence[HeardLot]) -> tuple[HeardLot, ...]:
    """The one lot to ask about, or two where the second is nearly as likely."""
    if len(candidates) > 1 and candidates[1].probability >= TWO * candidates[0].probability:
        return tuple(candidates[:2])
    return tuple(candidates[:1])


def _dashed(code: str) -> str:
    """A code as read back, a character at a time: 4480 as 4-4-8-0."""
    return "-".join(c for c in code if c.isalnum())


def question(heard: str, candidates: Sequence[HeardLot]) -> tuple[str, str]:
    """The question back, typed and spoken.

    Example:
        >>> bar = HeardLot("4480", "Trail Mix Bar", 0.7)
        >>> question("4482", [bar])[0]
        'I heard lot 4482. Did you mean lot 4-4-8-0, Trail Mix Bar? Say yes or no.'
        >>> question("4482", [bar, HeardLot("4402", "Trail Mix Bar", 0.3)])[0]
        'I heard lot 4482. Lot 4480 or lot 4402? Say which one.'
    """
    shown = offered(candidates)
    if len(shown) == 1:
        lot = shown[0]
        return (
            f"I heard lot {heard}. Did you mean lot {_dashed(lot.code)}, {lot.item}? Say yes or no.",
            f"Did you mean lot {spell(lot.code)}, {lot.item}? Say yes or no.",
        )
    first, second = shown
    return (
        f"I heard lot {heard}. Lot {first.code} or lot {second.code}? Say which one.",
        f"Lot {spell(first.code)}, or lot {spell(second.code)}? Say which one.",
    )


def choose(suggestion: Suggestion, reply: str, codes: Sequence[str]) -> HeardLot | None:
    """The lot a reply picks: "yes" to one lot offered, "the first" or "the second",
    or a code (typed, or heard and turned to ``codes``) of one offered."""
    shown = offered(suggestion.candidates)
    words = reply.lower().split()
    if len(shown) == 1 and codes == [] and words and words[0].strip(".,!") in _YES:
        return shown[0]
    for word, place in (("first", 0), ("second", 1)):
        if word in words and place < len(shown):
            return shown[place]
    for code in codes:
        for lot in shown:
            if plain(code) == plain(lot.code):
                return lot
    return None


_YES = {"yes", "yeah", "yep", "yup", "correct", "right", "ok", "okay", "sure", "affirmative"}
