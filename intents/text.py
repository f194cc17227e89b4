"""Questions to Intents: a spaCy pipeline with scored candidates.

The pipeline is built on ``spacy.blank("en")`` (no statistical model is needed):
its tokenizer keeps lot codes such as L-2024-0113, 240115-03 and A12B whole; an
EntityRuler marks dates and quantities so that "10 days" or "March 3" never become
lots; the ``lot_codes`` component marks the remaining codes; a PhraseMatcher
finds party and item names from the database (aliases such as "acme" or "fresh
mart" too), with fuzzy matching (rapidfuzz) for typos; a Matcher finds the cues of
each intent, key words tolerating one typo ("recal", "reconcle").

Each intent's cues add up to a score, steered by what the question names (lots,
a supplier or a customer) and by word order ("what went into 4471" against "what
did 4471 go into"); a small TextCategorizer trained on the corpus
(intents.classifier) votes beside the rules when it is sure. The best scores
become candidates with a confidence. A question whose best candidate is weak, or nearly tied with the
next, carries a clarifying question instead of a silent guess. Recogniser text
("lot four four seven one") is first turned into typed form (intents.spoken).
A follow-up ("and where did it go?", "what about 4480?") reuses the lots and
intent of the previous question when given that Intent as ``context``.

Example:
    >>> from datetime import date
    >>> parse("<@U024BE7LH> who got lot 4471?", today=date(2026, 11, 25)).as_dict()
    {'intent': 'trace_forward', 'lots': ['4471'], 'party': None, 'item': None, 'site': None, 'since': None, 'until': None, 'confidence': 0.99}
    >>> parse("what do 4471 and 4480 have in common", today=date(2026, 11, 25)).intent
    'common_source'
    >>> first = parse("who got 4471", today=date(2026, 11, 25))
    >>> parse("what went into it?", today=date(2026, 11, 25), context=first).lots
    ('4471',)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

import spacy
from rapidfuzz import fuzz, process
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex

from intents.barcode import Label, read_text
from intents.calibration import calibrated
from intents.classifier import classifier, features
from intents.dates import MONTHS, WEEKDAYS, read_window
from intents.model import LOT_INTENTS, Intent
from intents.spoken import looks_spoken, normalise_spoken

WINDOWED = frozenset({"expiring", "supplier_lots", "customer_lots", "qc_failures", "holds"})
"""The intents whose answer a date window narrows."""
LISTS = frozenset({"holds", "alerts", "qc_failures"})
"""The intents that list what stands out in the plant, asked of no lot."""

__all__ = ["Gazetteer", "Parser", "clarifying_question", "lot_codes", "parse"]

CLARIFY_BELOW = 0.6
"""Confidence under which a question gets a clarifying question."""
NEAR_TIE = 0.03
"""A runner-up this close to the best makes a near tie, which also gets one."""
CLASSIFIER_WEIGHT = 6.0
"""How much the TextCategorizer's probabilities count beside the rules' cue scores."""
CLASSIFIER_SURE = 0.3
"""The classifier votes only when its best intent has at least this probability."""
MIN_EVIDENCE = 1.5
"""Without a lot, a question needs cues worth this much to be about anything."""
STRONG = 5.0
"""Cues this strong outweigh an everyday word ("holiday") in the same question."""

LOT_WORDS = frozenset({"lot", "lots", "batch", "batches", "#", "no", "no.", "number", "code", "nr"})
_CODE = re.compile(
    r"^(?=[^\s]*\d)[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*$"
    r"|^[A-Za-z]+\d*(?:/[A-Za-z0-9]+){2,}$"  # L/24/001: an ERP's code with slashes
)
_NOT_CODE = re.compile(
    r"^(?:\d{1,2}|\d{1,2}(?:st|nd|rd|th|am|pm)|\d+\.\d+|\d+(?:\.\d+)?%|\d+(?:days?|weeks?|months?|kg|g|lbs?))$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_PERSONAL_NUMBER = re.compile(
    r"\b(?:extension|ext|badge|employee|staff|phone|cell|mobile|pin|room|desk|locker|part|"
    r"ticket|invoice|print job|job|seat|table|flight|bus|gate|zip|postcode)"
    r"(?:\s+(?:number|no|num|id|#))?(?:\s+(?:is|was|=|:))?\s*$"
)
"""Words before a number that make it someone's number, not a lot ("my extension is 4480")."""
_SOMEONES = re.compile(r"\b(?:extension|ext|badge|phone number|room number|desk|locker|pin)\b")
"""Words a few words before a number, with no "lot" between, that make it someone's."""
_NOT_LOT_BEFORE = frozenset(
    (
        "fsma", "iso", "gs1", "section", "rule", "page", "step", "top", "v", "complaint",
        "complaints", "ticket", "case", "incident", "nc", "ncr", "nonconformance", "capa", "po",
        "order", "invoice", "ref", "reference", "wo", "room", "bay", "line", "dock", "door",
        "gate", "ext", "extension", "version", "ver", "shift", "aisle", "rack", "bin",
    )
)  # fmt: skip
"""Words after which a number names something other than a lot ("complaint 881")."""
_COUNT_WORDS = ["next", "last", "past", "previous", "within", "coming", "first"]
_UNITS = ["day", "days", "week", "weeks", "month", "months", "year", "years"]
_MEASURES = ["kg", "g", "lb", "lbs", "ea", "unit", "units", "case", "cases", "pallets", "l"]
_MEASURES += ["litres", "liters", "tons", "tonnes", "bags", "%", "percent", "degrees", "pm", "am"]


@dataclass(frozen=True)
class Gazetteer:
    """Names people may use for parties and items, as in the master data."""

    parties: Sequence[str] = ()
    items: Sequence[str] = ()
    suppliers: Sequence[str] = ()
    """The parties that send us lots: naming one asks what they sent."""
    customers: Sequence[str] = ()
    """The parties we ship to (customers, distributors): naming one asks what they got."""
    sites: Sequence[str] = ()
    """The plant's own sites (plants, warehouses, cold stores): where stock is."""

    @classmethod
    def of(cls, parties: Iterable[tuple[str, str]], items: Iterable[str]) -> Gazetteer:
        """From (name, kind) pairs as in the master data; sites are kept apart and
        carriers are no answer.

        Example:
            >>> Gazetteer.of([("Sysco", "customer"), ("Main plant", "site")], ["Oats"]).parties
            ('Sysco',)
        """
        parties = list(parties)
        pairs = [(name, kind) for name, kind in parties if kind not in ("site", "carrier")]
        return cls(
            parties=tuple(name for name, _ in pairs),
            items=tuple(items),
            suppliers=tuple(name for name, kind in pairs if kind == "supplier"),
            customers=tuple(name for name, kind in pairs if kind in ("customer", "distributor")),
            sites=tuple(name for name, kind in parties if kind == "site"),
        )


# The cues of each intent, in a small notation for spaCy Matcher patterns: tokens
# separated by spaces; "a|b" is one of several words; "word~" tolerates one typo;
# "pre*" is a word starting with "pre"; "..." is any few tokens; "^" first makes
# the cue count only at the start of the question.
CUES: dict[str, tuple[tuple[str, float], ...]] = {
    # The plant's lists, asked of no lot: what is on hold, what alerts are open, what failed
    "holds": (
        ("what|which|any|anything|everything|list|show|all ... on hold", 3.5),
        ("held|holds", 2.5),
        ("held up", -4.0),
        ("list|show|all|which|what ... hold", 2.0),
        ("hold list|report|reasons|reason", 2.0),
        ("currently|now|moment ... hold", 1.0),
    ),
    "alerts": (
        ("alert|alerts|alarm|alarms|warnings|flagged|flags", 3.0),
        ("open|active|new|outstanding alerts|alarms|issues|irregularities", 1.0),
        ("irregularit*", 2.5),
    ),
    "qc_failures": (
        ("qc|qa ... fail|failed|fails|failing|failure|failures", 3.0),
        ("q c ... fail|failed|fails|failing|failure|failures", 3.0),
        ("fail|failed|fails|failing|failure|failures ... qc|qa|checks|tests|test|results", 3.0),
        ("fail|failed|fails|failing|failure|failures ... q c", 3.0),
        ("out-of-spec|nonconform*|non-conform*|deviation|deviations|ncr|ncrs", 3.0),
        ("fail|failed ... inspection|inspections|audit|audits|lab", 3.0),
        ("which|what lots|batches failed", 2.0),
        ("out of spec", 3.0),
        ("out - of - spec", 3.0),
    ),
    "recall": (
        ("recall~", 3.0),
        ("recalled|recalling|recalls", 3.0),
        ("withdraw*", 2.0),
        ("pull|pulling ... shelf|shelves|market|stores|sale", 3.0),
        ("pull|pulling back", 1.5),
        ("recall~ scope|checklist", 1.0),
        ("mock recall~", 2.0),
        ("scope ... recall~", 1.0),
        # A recall asked by what went wrong, without the word
        ("contaminat*", 3.0),
        ("impact|exposure|exposed|affected|implicated|impacted", 3.0),
        ("blast radius", 3.0),
        ("hit downstream", 2.0),
        ("complaint|complaints", 1.0),
        (
            "is|was|turns|turned|are|were|be|gone ... "
            "bad|rancid|unsafe|spoiled|tainted|adulterated|faulty|defective",
            2.5,
        ),
        ("need|have|got|must|should to pull", 4.0),
        ("what|which ... pull|withdraw", 2.0),
        ("pull|pulling lot|lots|batch|it|them|everything|all|product", 3.5),
        ("pull up", -3.0),
        ("pull ... info|details|record|records|report|facts|data|file", -4.0),
        ("glass|metal|fragments|foreign|undeclared|salmonella|listeria|pesticide|residue", 1.0),
        ("allergen cross-contact|contact", 1.0),
        ("ink migration", 1.0),
        ("worst case", 1.5),
        ("scope it|this|that", 1.5),
    ),
    "hold": (
        ("put|place|placing|set|keep|add ... hold", 3.5),
        ("on hold", 1.5),
        ("^ hold", 3.0),
        ("^ please|pls|plz hold", 3.0),
        ("hold lot|lots|batch|batches|it|them|that", 2.5),
        ("quarantine|quarantined|quarantining", 3.0),
        ("^ block|stop", 3.0),
        ("a hold", 3.0),
        ("pending|awaiting", 1.0),
        ("block|freeze|lock lot|batch|it", 2.5),
        ("^ lock|freeze", 3.0),
        ("qa|qc|quality hold", 3.0),
        ("hold", 1.0),
        ("do not|n't ship", 2.0),
        ("hold ... until", 1.0),
    ),
    "release": (
        ("release~", 3.0),
        ("released", 0.5),
        ("lift|remove|take|clear|unblock ... hold", 3.5),
        ("off hold", 3.5),
        ("unhold|unblock|unquarantine|unfreeze", 3.5),
        ("un - hold|block|quarantine", 3.5),
        ("from|of quarantine|hold", 4.0),
        ("free up", 2.0),
        ("ok|okay|good|clear to ship", 2.5),
    ),
    "common_source": (
        ("in common", 3.5),
        ("common~", 3.0),
        ("intersection|intersect", 3.0),
        ("share|shared|sharing|shares", 2.5),
        ("same ... supplier|source|ingredient|ingredients|input|inputs|lot|lots|raw|material", 2.5),
        ("overlap*", 2.5),
        ("both", 0.5),
        ("in both", 2.0),
        ("all of|three|four", 1.0),
        ("vs|versus", 1.0),
        ("link|linked|connection|connect", 1.5),
    ),
    "mass_balance": (
        ("reconcil*", 3.5),
        ("reconcile~", 3.0),
        ("mass balance~", 3.5),
        ("mass bal", 3.5),
        ("balance~", 2.5),
        ("yield", 2.5),
        ("unaccounted", 3.0),
        ("account|accounted for", 2.0),
        (
            "made|make|produced|received|use|used|consumed|shipped|ship|have ... vs|versus|against",
            3.0,
        ),
        ("produced|made consumed|used", 2.5),
        ("consumed|used ... shipped", 2.0),
        ("add up", 2.0),
        ("missing|discrepancy|variance|shrinkage|unexplained", 2.5),
    ),
    "qc_status": (
        ("qc|qa", 2.5),
        ("pass|passed|passing|fail|failed|failing|failure", 2.0),
        ("test|tests|tested|testing|results", 1.5),
        ("quality", 2.0),
        ("sign|signed off", 2.0),
        ("qc|qa released|release|approved|cleared", 2.0),
        ("certificate of analysis", 3.0),
        ("signoff|sign-off|signed-off", 2.0),
        ("inspect*", 1.5),
        ("micro|microbiology|allergen|moisture|aflatoxin|salmonella|listeria|coa", 2.0),
        ("lab|labs", 1.5),
        ("checks|checked|check", 1.0),
        ("approve*", 1.5),
        ("spec|specs|specification", 1.0),
    ),
    "formula_changes": (
        ("recipe~", 3.0),
        ("recipes", 3.0),
        ("formula~", 3.0),
        ("formulation|formulas", 3.0),
        ("reformulat*", 3.0),
        ("change log|history", 2.5),
        ("changelog|change-log", 2.5),
        ("what|any changed|changes|change", 1.5),
        ("process change|changes", 2.0),
        ("version|versions", 1.0),
        ("bom", 2.0),
        ("tweak*|modif*|updated|revis*", 1.0),
    ),
    "expiring": (
        ("expir*", 2.0),
        ("expire~", 2.0),
        ("best before", 2.0),
        ("use by", 1.5),
        ("shelf life", 1.0),
        ("out of date", 2.0),
        ("go|goes|going|went off|bad|stale", 1.5),
        ("short dated|dated", 1.5),
        ("short-dated", 1.5),
        ("bb|bbe|exp", 1.5),
    ),
    "trace_backward": (
        ("went|go|goes|gone into", 3.0),
        ("put into|in", 2.0),
        ("made from|with|of|using", 3.0),
        ("ingredient~", 2.5),
        ("ingredients", 2.5),
        ("input|inputs|components|materials|raw", 2.5),
        ("come|came|comes from", 3.0),
        ("who sent|supplied|delivered|shipped us|it|that|this", 3.0),
        ("upstream", 3.0),
        ("source|sources|sourced", 2.0),
        ("origin|origins", 2.5),
        ("what's|whats in", 2.0),
        ("what is in", 2.0),
        ("what was|is in", 1.5),
        ("backward*|back", 1.5),
        ("backward|backwards|bwd", 1.0),
        ("trace ... back|backwards", 1.5),
        ("backtrace", 3.0),
        ("trace|traceability|genealogy|lineage", 1.0),
        ("supplier|suppliers|vendor|vendors of|for|behind", 2.5),
        ("who supplied|made", 2.5),
        ("which|what supplier|suppliers|vendor|vendors", 2.0),
        ("consumed|used to make", 1.5),
        ("feed|fed into", 2.0),
        ("contain|contains|contained", 2.0),
        ("composed|composition|parents|parent", 2.0),
    ),
    "trace_forward": (
        ("who got~", 3.0),
        ("who received|has|bought|took|gets|received|purchased", 3.0),
        ("who ... get", 2.5),
        ("where|wher|whr|whre|were did|does|do ... go", 3.0),
        ("where|wher|whr|whre ... gone|went|end|ended", 3.0),
        ("where|wher|whr|whre ... ship|shipped|sent", 2.0),
        ("trace|traceability|genealogy|lineage", 1.0),
        ("shipped|ships|ship|shipping|delivered|sent", 1.5),
        ("customer|customers|client|clients|stores|retailers|distributors|consignees", 2.0),
        ("downstream", 3.0),
        ("forward*", 2.0),
        ("fwd|fw", 2.0),
        ("used in|for", 2.5),
        ("go|went|gone to", 2.0),
        ("where", 0.5),
        ("which|what products|orders|lots|items ... contain|contained|used|use", 3.0),
        ("came|come|comes out of", 1.0),
        ("goes|went|go into what|which", 2.0),
        ("finished|finish goods|products", 1.0),
        ("exposure|exposed|affected|impacted", 1.5),
        ("trace ... forward|forwards|out", 1.5),
        ("whereabouts|destination|destinations", 2.5),
        ("distribution|distributed", 2.5),
    ),
    "supplier_lots": (
        ("send|sent|deliver|delivered|deliveries|ship|shipped|supply|supplied", 1.5),
        ("sent|send|deliver|delivered|ship|shipped us|me", 2.0),
        ("received|receive|get|got|receipts|bought|buy|purchased ... from", 3.0),
        ("from", 0.5),
        ("receiving|receipts|inbound|deliveries", 2.0),
        ("supplier|suppliers|vendor", 1.0),
    ),
    "customer_lots": (
        ("did ... get|receive|buy|order|take|purchase", 1.5),
        ("shipped|sent|delivered|ship|send|sold|sell|went|go|gone|going|out to", 3.0),
        ("we|i ship|shipped|sent|send|deliver|delivered|sold", 1.5),
        ("orders|order|outbound|shipments", 1.0),
        ("customer|customers", 0.5),
    ),
    "lot_info": (
        ("when does|will|did ... expire~", 1.0),
        ("status", 2.0),
        ("on hand", 2.5),
        ("in stock|inventory", 2.5),
        ("how much|many", 1.5),
        ("left|remaining|remain", 1.5),
        ("where is|are", 1.5),
        ("where ... stored|located|kept|sitting", 2.5),
        ("tell me about", 2.5),
        ("^ is|are|was|were ... released|held|blocked|quarantined|cleared|expired", 5.0),
        ("^ is|are|was|were ... on hold", 5.0),
        ("info|information|details|detail|facts|summary|overview", 2.5),
        ("look ?up|lookup", 2.5),
        ("made|produced|manufactured on|date", 2.0),
        ("when was ... made|produced|manufactured|received|packed", 2.5),
        ("produced|manufactured|production", 1.0),
        ("expiry|expiration date", 1.0),
        ("what is|'s|s", 0.5),
        ("which|what item|product|sku", 1.5),
        ("quantity|qty", 1.5),
        ("location|site|warehouse", 1.5),
    ),
    "help": (
        ("^ help", 5.0),
        ("^ ?", 5.0),
        ("help me", 2.0),
        ("what can|could|does|do you|tracebot|this|it do", 5.0),
        ("what are you|tracebot for|about", 4.0),
        ("how do|can i use|ask|talk", 4.0),
        ("how do|can i", 1.0),
        ("commands|capabilities|features|usage|examples", 3.0),
        ("how does this|tracebot work", 4.0),
        ("what can i ask", 5.0),
        ("can|could|should i ask|say|type", 4.0),
        ("what do you know", 4.0),
        ("what sort|kind|type of things|questions", 4.0),
        ("can you answer|handle", 3.0),
        ("how does ... work", 4.0),
        ("my options", 4.0),
        ("help", 2.0),
        ("who are you", 4.0),
    ),
}

_FOLLOW_UP = re.compile(
    r"^\s*(?:and|also|what about|how about|same for|same thing for|now|then|ok|okay)\b|"
    r"\b(?:it|its|it's|that one|that lot|this lot|the same|same lot|them|those|these)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\bhold on\b(?! (?:lot|batch|\d))|\bhold (?:the|that) (?:door|line|elevator|lift)\b|"
    r"\ba lot of\b|\bthanks a lot\b|\blots of\b|\ba lot (?:more|less|better|worse)\b|"
    r"\b(?:do you|i|can you|to) recall\b|\brecall (?:what|when|if|how|who|whether)\b|"
    r"\brelease (?:notes?|date|party|version)\b|\bpress release\b|"
    r"\bparking\b|\bweather\b|\bjoke\b|\blunch\b|\bcanteen\b|\bcafeteria\b|\bpancakes?\b|"
    r"\bvacation\b|\bholiday\b|\bpayroll\b|\bpassword\b|\bwifi\b|\bbirthday\b|"
    r"\btime off\b|\bdays? off\b|\bsick\b|\bexpenses?\b|\bbadge\b|\bhr\b|\bmenu\b",
    re.IGNORECASE,
)
"""Everyday uses of the bot's words ("hold on", "a lot of", "recall what I said")."""
_CHORES = re.compile(
    r"^(?:(?:can|could|would) you |please |pls |hey )?"
    r"(?:order|buy|book|call|remind|play|set (?:a|an|up)|convert|translate|schedule|email|text|"
    r"cancel|turn (?:on|off)|open(?! (?:alerts?|alarms?|issues?|holds?|irregularit\w*|warnings?)\b)|"
    r"close)\b|"
    r"\b(?:minutes|agenda|slides|timesheet|rota|pizza|music|forklift|printer)\b",
    re.IGNORECASE,
)
"""Requests a traceability assistant does not do, when they name no lot."""
_SHIPPED = re.compile(
    r"\b(?:got|get|gets|receiv\w*|went|go|goes|gone|ship\w*|sent|send|deliver\w*|took|take|"
    r"order\w*|bought|make it|made it|end(?:ed)? up)\b"
)
_TRANSFER = re.compile(
    r"\b(?:receiv\w*|got|get|gets|bought|buy|order\w*|deliver\w*|ship\w*|sen[dt]|suppl\w*|"
    r"lots?|batch\w*|receipts?|went|go|gone|took|take|purchas\w*|incoming|inbound|outbound|came|come|arriv\w*)\b"
)


def _clean(text: str) -> str:
    """Slack mentions, link targets and emoji out; spoken text into typed form."""
    text = re.sub(r"<@[A-Z0-9]+(?:\|[^>]*)?>", " ", text)  # user mentions
    text = re.sub(r"<(?:https?|mailto):[^|>]*\|([^>]*)>", r"\1", text)  # links with a label
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r":[a-z0-9_+-]+:", " ", text)  # emoji
    text = re.sub(r"[\u2600-\u27bf\U0001f000-\U0001faff]", " ", text)
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return normalise_spoken(text) if looks_spoken(text) else text


def _token_pattern(word: str) -> dict[str, Any]:
    if word == "...":
        return {"OP": "{0,4}"}
    optional = word.endswith("?") and len(word) > 1
    word = word.rstrip("?") if optional else word
    spec: dict[str, Any]
    if word.endswith("~"):
        stem = word[:-1]
        spec = {"LOWER": {"FUZZY1": stem} if len(stem) >= 5 else stem}
    elif word.endswith("*") and len(word) > 1:
        spec = {"LOWER": {"REGEX": "^" + re.escape(word[:-1])}}
    elif "|" in word:
        spec = {"LOWER": {"IN": word.split("|")}}
    else:
        spec = {"LOWER": word}
    if optional:
        spec["OP"] = "?"
    return spec


def _lot_codes(doc: Doc) -> Doc:
    """Mark lot codes as LOT entities: codes with a digit that are no date or quantity."""
    taken = {token.i for ent in doc.ents for token in ent}
    found: list[Span] = []
    for token in doc:
        if token.i in taken or not _CODE.match(token.text):
            continue
        before = [t.lower_ for t in doc[max(0, token.i - 3) : token.i] if not t.is_punct]
        previous = before[-1] if before else ""
        if previous == "lot" and len(before) > 1 and before[-2] in ("parking", "car", "empty"):
            continue  # "parking lot 4"
        after = {t.lower_ for t in doc[token.i + 1 : token.i + 6]}
        if previous == "lot" and after & {"parking", "park", "car", "cars", "visitors"}:
            continue  # "is lot 12 in the parking area reserved for visitors?"
        named = (
            previous in LOT_WORDS
            or (
                bool(found)
                and previous in ("and", "&", "or", "/", ",", "plus")
                and found[-1].end >= token.i - 2
            )
            or (bool(found) and found[-1].end == token.i - 1 and doc[token.i - 1].text in ",/+&")
        )
        if not named:
            if _NOT_CODE.match(token.text):
                continue
            following = doc[token.i + 1].lower_ if token.i + 1 < len(doc) else ""
            if following in _UNITS or following in _MEASURES:
                continue
            if re.fullmatch(r"\d{1,2}-\d{1,2}", token.text) and (
                previous.rstrip(".") in MONTHS or following.rstrip(".") in MONTHS
            ):
                continue  # "nov 1-15", "10-12 november": days of a month
            if _YEAR.match(token.text) and (
                previous in MONTHS or previous in ("in", "of", "since", "year")
            ):
                continue
            if previous in _NOT_LOT_BEFORE:
                continue
            if _PERSONAL_NUMBER.search(doc[max(0, token.i - 4) : token.i].text.lower()):
                continue
            if _SOMEONES.search(doc[max(0, token.i - 8) : token.i].text.lower()):
                continue  # "what's the extension for QA again, is it 5120?"
            if (
                _YEAR.match(token.text)
                and previous in ("the", "this", "our", "last", "next", "in")
                and following.isalpha()
                and following not in LOT_WORDS
            ):
                continue  # "the 2024 audit"
        found.append(Span(doc, token.i, token.i + 1, label="LOT"))
    if found:
        doc.ents = list(doc.ents) + found
    return doc


Language.component("lot_codes", func=_lot_codes)


def _date_patterns() -> list[dict[str, Any]]:
    months = sorted(MONTHS)
    day = {"TEXT": {"REGEX": r"^\d{1,2}(?:st|nd|rd|th)?$"}}
    number = {"TEXT": {"REGEX": r"^\d+$"}}
    return [
        {"label": "DATE", "pattern": [{"TEXT": {"REGEX": r"^\d{4}-\d{2}-\d{2}$"}}]},
        {"label": "DATE", "pattern": [{"TEXT": {"REGEX": r"^\d{1,2}/\d{1,2}(?:/\d{2,4})?$"}}]},
        {"label": "DATE", "pattern": [{"LOWER": {"IN": months}}, {"ORTH": ".", "OP": "?"}, day]},
        {
            "label": "DATE",
            "pattern": [{"LOWER": {"IN": months}}, {"TEXT": {"REGEX": r"^(?:19|20)\d\d$"}}],
        },
        {"label": "DATE", "pattern": [day, {"LOWER": "of", "OP": "?"}, {"LOWER": {"IN": months}}]},
        {
            "label": "DATE",
            "pattern": [{"LOWER": {"IN": _COUNT_WORDS}}, number, {"LOWER": {"IN": _UNITS}}],
        },
        {"label": "DATE", "pattern": [{"LOWER": {"IN": list(WEEKDAYS)}}]},
        {"label": "DATE", "pattern": [{"TEXT": {"REGEX": r"^[Qq][1-4]$"}}]},  # "in Q3"
        {"label": "DATE", "pattern": [{"TEXT": {"REGEX": r"^\d{1,2}\.\d{1,2}\.(?:19|20)\d\d$"}}]},
        {"label": "QUANTITY", "pattern": [number, {"LOWER": {"IN": _UNITS + _MEASURES}}]},
        {
            "label": "QUANTITY",
            "pattern": [{"TEXT": {"REGEX": r"^\d+(?:\.\d+)?(?:kg|g|lbs?|%|days?)$"}}],
        },
    ]


@lru_cache(maxsize=1)
def _base_pipeline() -> Language:
    """spaCy's blank English with a lot-code friendly tokenizer, dates and lot codes."""
    nlp = spacy.blank("en")
    infixes = [
        *(nlp.Defaults.infixes or ()),
        r"(?<=[0-9A-Za-z])[#/](?=[0-9A-Za-z])",
        r"(?<=[0-9])(?=x\d)",
    ]
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    tokenizer.token_match = re.compile(
        r"^(?:(?=\S*\d)[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)+"
        r"|\d{1,2}/\d{1,2}(?:/(?:\d{4}|\d{2}))?"  # a numeric date stays one token
        r"|[A-Za-z]+\d*(?:/[A-Za-z0-9]+){2,})$"  # a code with two slashes or more: L/24/001
    ).match
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(_date_patterns())  # type: ignore[attr-defined]
    nlp.add_pipe("lot_codes")
    return nlp


def _split_camel(word: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", word)


_GENERIC = frozenset(
    (
        "the", "and", "of", "co", "company", "inc", "ltd", "llc", "corp", "group", "foods", "food",
        "trading", "traders", "online", "grocers", "distributors", "distribution", "logistics",
        "packaging", "main", "plant", "site", "store", "raw", "honey", "sea", "rolled", "sliced",
        "printed", "shipping", "toasted", "trail", "granola", "bar", "bars", "oil", "salt", "oats",
        "film", "carton", "base", "mix", "crunch", "raisin", "almond", "busy", "fresh", "green",
        "fast", "units", "pack", "bag", "new", "old", "big", "best", "good",
    )
)  # fmt: skip


_PACK_UNITS = frozenset({"g", "kg", "ml", "l", "oz", "lb", "lbs", "ct", "pack", "units"})


def _aliases(name: str, *, site: bool = False, item: bool = False) -> set[str]:
    """Short forms people say for a master-data name; a site's last two words too
    ("the cold store" for Riverside cold store); an item's head noun, plural too
    ("honey", "cartons", "film bags" for Printed PP film bag)."""
    plain = re.sub(r"[.,]", " ", name).strip()
    words = plain.split()
    aliases = {name.lower(), plain.lower(), _split_camel(plain).lower()}
    if site and len(words) > 2:
        aliases.add(" ".join(words[-2:]).lower())
    if item:
        head = name.split(",")[0].split()
        while head and (re.search(r"\d", head[-1]) or head[-1].lower() in _PACK_UNITS):
            head = head[:-1]  # "500 g", "12-pack"
        for size in (1, 2):
            if len(head) > size:
                said = " ".join(head[-size:]).lower()
                aliases |= {said, said + ("" if said.endswith("s") else "s")}
    for end in range(2, len(words)):  # "acme grain", "honey almond granola"
        aliases.add(" ".join(words[:end]).lower())
        aliases.add(_split_camel(" ".join(words[:end])).lower())
    for word in words:
        if len(word) >= 4 and word.lower() not in _GENERIC:
            aliases.add(word.lower())
            aliases.add(_split_camel(word).lower())  # "fresh mart" for FreshMart
    return {a.strip() for a in aliases if len(a.strip()) >= 3}


def _sound(text: str) -> str:
    """A rough sound of a name, so that spellings by ear meet: "sisco", "sysko" and
    "sis co" all sound as Sysco.

    Example:
        >>> _sound("sis co") == _sound("Sysco") == _sound("sysko")
        True
    """
    key = re.sub(r"[^a-z]", "", text.lower())
    for written, sound in (
        ("ph", "f"),
        ("ck", "k"),
        ("q", "k"),
        ("c", "k"),
        ("y", "i"),
        ("z", "s"),
    ):
        key = key.replace(written, sound)
    return re.sub(r"(.)\1+", r"\1", key)


class _Names:
    """A gazetteer of one kind (parties, items or sites): exact aliases, then by
    sound and fuzzy."""

    def __init__(
        self, nlp: Language, names: Iterable[str], *, sites: bool = False, items: bool = False
    ) -> None:
        owners: dict[str, set[str]] = {}
        self.heads: dict[str, set[str]] = {}
        """Aliases that are an item's head noun ("bar"), with the words of its name."""
        for name in names:
            full = _aliases(name, site=sites)
            for alias in _aliases(name, site=sites, item=items):
                owners.setdefault(alias, set()).add(name)
                if alias not in full:
                    self.heads[alias] = set(re.findall(r"[a-z]+", name.lower()))
        self.alias_names = {
            alias: next(iter(found)) for alias, found in owners.items() if len(found) == 1
        }
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for alias in self.alias_names:
            self.matcher.add(alias, [nlp.make_doc(alias)])
        self.choices = list(self.alias_names)
        sounds: dict[str, set[str]] = {}
        for alias, name in self.alias_names.items():
            if len(alias) >= 5:
                sounds.setdefault(_sound(alias), set()).add(name)
        self.sounds = {key: next(iter(found)) for key, found in sounds.items() if len(found) == 1}

    def exact(self, doc: Doc, known: frozenset[str] = frozenset()) -> tuple[str, Span] | None:
        """The longest alias said; a head noun only where no other word qualifies it
        ("the bar", "Acme oats", but not "peanut butter bar"); ``known`` are words
        of other names, that may stand before it."""
        best: tuple[int, str, Span] | None = None
        for match_id, start, end in self.matcher(doc):
            alias = doc.vocab.strings[match_id]
            if alias in self.heads and start > 0:
                before = doc[start - 1]
                if not (
                    before.is_stop
                    or not before.is_alpha
                    or before.lower_ in self.heads[alias]
                    or before.lower_ in known
                    or before.lower_ in LOT_WORDS
                ):
                    continue
            if best is None or len(alias) > best[0]:
                best = (len(alias), alias, doc[start:end])
        return (self.alias_names[best[1]], best[2]) if best else None

    def fuzzy(self, doc: Doc, skip: set[int]) -> str | None:
        """A name said by ear or with a typo: the same sound over one to three words,
        else one or two words close enough in spelling."""
        if not self.choices:
            return None
        for start in range(len(doc)):
            for end in range(start + 1, min(start + 4, len(doc) + 1)):
                span = doc[start:end]
                if span[-1].i in skip or not span[-1].is_alpha or span[0].is_stop:
                    break
                if span[-1].is_stop:
                    continue
                key = _sound(span.text)
                if len(key) >= 5 and key in self.sounds:
                    return self.sounds[key]
        words = [t for t in doc if t.is_alpha and t.i not in skip and len(t) >= 4 and not t.is_stop]
        best: tuple[float, str] | None = None
        for index, token in enumerate(words):
            for size in (1, 2):
                if index + size > len(words) or (size == 2 and words[index + 1].i != token.i + 1):
                    continue
                said = " ".join(t.lower_ for t in words[index : index + size])
                hit = process.extractOne(said, self.choices, scorer=fuzz.ratio, score_cutoff=85)
                if hit and len(hit[0]) >= 4 and (best is None or hit[1] > best[0]):
                    best = (hit[1], self.alias_names[hit[0]])
        return best[1] if best else None


class Parser:
    """Parses questions for one plant: its gazetteer, shared spaCy pipeline and matchers."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self.nlp = _base_pipeline()
        self.gazetteer = gazetteer or Gazetteer()
        self.cues = Matcher(self.nlp.vocab)
        self.cue_info: dict[str, tuple[str, float, bool]] = {}
        for intent, cues in CUES.items():
            for number, (notation, weight) in enumerate(cues):
                anchored = notation.startswith("^ ")
                words = notation.removeprefix("^ ").split()
                key = f"{intent}/{number}"
                self.cue_info[key] = (intent, weight, anchored)
                self.cues.add(key, [[_token_pattern(word) for word in words]])
        self.parties = _Names(self.nlp, self.gazetteer.parties)
        self.items = _Names(self.nlp, self.gazetteer.items, items=True)
        self.sites = _Names(self.nlp, self.gazetteer.sites, sites=True)
        self.party_words = frozenset(
            word for alias in self.parties.alias_names for word in alias.split()
        )
        self.classifier = classifier()
        self._lock = threading.Lock()

    def parse(
        self,
        text: str,
        *,
        today: date,
        context: Intent | None = None,
        is_lot: Callable[[str], bool] | None = None,
    ) -> Intent:
        """The intent of one question, typed or spoken, resolved against ``today``.

        ``is_lot`` tells whether the plant has a lot of a code: its own codes are codes
        whatever their shape ("SLF", "Raw_1_lot_1", "LOT-PM"); it is asked only of
        words that could be one.
        """
        cleaned = _clean(text)
        label = read_text(text) or read_text(cleaned)
        if label is not None:
            return _label_lookup(label)
        with self._lock:  # spaCy's Vocab is shared by the pipeline and all parsers
            doc = self.nlp(cleaned)
            scores = self._scores(doc)
            party_hit = self.parties.exact(doc)
            item_hit = self.items.exact(doc, self.party_words)
            site_hit = self.sites.exact(doc)
            votes = self.classifier.cats(features(doc)) if self.classifier else {}
        name_tokens = {t.i for hit in (party_hit, item_hit, site_hit) if hit for t in hit[1]}
        lots = tuple(dict.fromkeys(
            ent.text.upper() for ent in doc.ents if ent.label_ == "LOT" and ent.start not in name_tokens
        ))  # fmt: skip
        if is_lot is not None:
            found = _plant_codes(doc, is_lot, name_tokens, lower=not lots)
            lots = tuple(dict.fromkeys([*lots, *found]))
        said = cleaned.lower()
        party = party_hit[0] if party_hit else None
        item = item_hit[0] if item_hit else None
        site = site_hit[0] if site_hit else None
        # Names are slots of any question ("did any of 4471 go to sysco"), and steer it.
        taken = {t.i for ent in doc.ents for t in ent} | name_tokens
        with self._lock:
            party = party or self.parties.fuzzy(doc, taken)
            item = item or self.items.fuzzy(doc, taken)
            site = site or self.sites.fuzzy(doc, taken)
        spans = [
            (ent.start_char, ent.end_char)
            for ent in doc.ents
            if ent.label_ == "LOT" and ent.start not in name_tokens
        ]
        _direction(scores, said, spans)
        self._adjust(
            scores,
            said,
            lots=lots,
            named=party is not None or (item is None and _party_phrase(cleaned) is not None),
            kind=self._kind(party),
            site=site is not None,
        )
        ranked = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
        (best, top), (_, second) = ranked[0], ranked[1]
        resolved = None
        if context is not None and context.intent not in ("unknown", "help"):
            resolved = _follow(context, best, top, lots, said)
        if resolved is not None:
            best, lots, top = resolved
        elif (
            votes
            and max(votes.values()) >= CLASSIFIER_SURE
            and not (best in LISTS and top >= STRONG)  # the classifier never learned these
        ):
            # The classifier votes beside the rules, for the intents that fit what was
            # named: lot questions need a lot, and a question naming a lot is no chat.
            for intent, probability in votes.items():
                if (intent in LOT_INTENTS and not lots) or (intent == "unknown" and lots):
                    continue
                scores[intent] = scores.get(intent, 0.0) + CLASSIFIER_WEIGHT * probability
            ranked = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
            (best, top), (_, second) = ranked[0], ranked[1]
            if best == "unknown":
                return _unknown(min(0.97, 0.5 + 0.07 * top))
        everyday = _NEGATIVE.search(said) is not None and top < STRONG
        if (everyday or _CHORES.search(said)) and not lots:
            return _unknown(0.5)
        if top < MIN_EVIDENCE and not lots:
            return _unknown(0.3)
        if top <= 0:
            best, top = "lot_info", 1.0
        # A name as said, that no master data knows, only where the question is about one.
        if best in ("supplier_lots", "customer_lots") and party is None:
            party = _party_phrase(cleaned)
        if best in ("formula_changes", "expiring") and item is None:
            item = _item_phrase(cleaned) if best == "formula_changes" else _expiring_item(said)
        # Codes and names are no dates: "lot Q3-44", "Easter Farms", "June Dairy".
        stated = read_window(
            _without(cleaned, spans, party_hit, item_hit, site_hit),
            today,
            future=best == "expiring",
        )
        since, until = stated.since, stated.until
        margin = top - max(second, 0.0)
        confidence = min(0.97, 0.5 + 0.07 * top + 0.06 * margin)
        return Intent(
            best,
            lots=lots,
            party=party if best not in ("hold", "release") else None,
            item=item if best not in ("hold", "release") else None,
            site=site if best not in ("hold", "release") else None,
            since=since,
            until=until,
            confidence=calibrated(confidence),
            score=round(confidence, 4),
            doubt=stated.doubt if best in WINDOWED else None,
            alternatives=tuple(
                (name, round(min(0.97, 0.5 + 0.07 * score), 2))
                for name, score in ranked[1:3]
                if score > 0 and name != "unknown"
            ),
        )

    def _scores(self, doc: Doc) -> dict[str, float]:
        scores = dict.fromkeys(CUES, 0.0)
        seen: set[str] = set()
        first = (
            1
            if len(doc) > 1 and doc[0].lower_ in ("please", "pls", "plz", "ok", "okay", "now")
            else 0
        )
        for match_id, start, _end in self.cues(doc):
            key = doc.vocab.strings[match_id]
            intent, weight, anchored = self.cue_info[key]
            if key in seen or (anchored and start > first):
                continue
            seen.add(key)
            scores[intent] += weight
        return scores

    def _kind(self, party: str | None) -> str | None:
        if party in self.gazetteer.suppliers:
            return "supplier"
        if party in self.gazetteer.customers:
            return "customer"
        return None

    @staticmethod
    def _adjust(
        scores: dict[str, float],
        said: str,
        *,
        lots: tuple[str, ...],
        named: bool,
        kind: str | None = None,
        site: bool = False,
    ) -> None:
        """What a question names steers it: lots make it about lots, a party about a window."""
        if lots:  # the plant's lists are asked of no lot: "is 5120 on hold?" is about 5120
            for intent in ("holds", "alerts", "qc_failures"):
                if intent == "alerts" and scores[intent] >= 3.0:
                    continue  # "any alerts on 5133": the open alerts of that lot
                scores[intent] = min(scores[intent], 0.0) - 2.0
            if kind == "customer" and _SHIPPED.search(said):
                scores["trace_forward"] += 3.0  # "did FreshMart get any of 4471?"
            if kind == "supplier":
                scores["trace_backward"] += 2.5  # "any Acme oats in lot 5120?"
            if site:
                scores["lot_info"] += 2.0  # "how much of 4471 is at the cold store?"
        if lots:
            for intent in ("supplier_lots", "customer_lots", "expiring"):
                scores[intent] -= 2.0
            if re.search(r"\b(?:recipe|formula|version)\b", said):
                scores["formula_changes"] += (
                    3.0  # "which recipe made lot 4471?" asks for the version
                )
            else:
                scores["formula_changes"] -= 0.5
            scores["help"] -= 3.0
            if len(lots) > 1:
                scores["common_source"] += 3.0 if scores["common_source"] > 0 else 1.0
            else:
                scores["common_source"] -= 1.5
            if re.search(r"\bexpir|\bbest before\b|\bgo(?:es)? off\b|\bshelf life\b", said):
                scores["lot_info"] += 2.5  # "when does 4471 expire?"
        else:
            # "if the honey from Busy Bees is bad, what do we pull": a recall of what
            # that supplier sent us, no lot named.
            supplied = kind == "supplier" and scores["recall"] > 0
            recalled = supplied and scores["recall"] >= 3.0
            for intent in LOT_INTENTS:
                if not (supplied and intent == "recall"):
                    scores[intent] -= 2.0
            if supplied:  # the word "recall" itself settles it against "what they sent"
                scores["recall"] += 6.0 if recalled else 4.0
                if recalled:  # "recall all almonds Valley Nut sent us" is no delivery list
                    scores["supplier_lots"] -= 3.0
            for intent in LISTS:  # what is on hold, open, failed: the plant's lists
                if scores[intent] > 0:
                    scores[intent] += 2.0
            if scores["formula_changes"] > 0:
                scores["formula_changes"] += 0.5
            if kind is not None and _TRANSFER.search(said) and not recalled:
                # The master data knows who sends and who gets: "what did Sysco receive?"
                scores[f"{kind}_lots"] += 4.0
            if named and _TRANSFER.search(said):
                scores["supplier_lots"] += 1.0
                scores["customer_lots"] += 1.0
                if re.search(
                    r"\b(?:we|i)\b.*\b(?:send|sent|ship|deliver|sold|sell)", said
                ) and not re.search(
                    r"\b(?:sent|send|ship(?:ped)?|deliver\w*|sold) (?:us|me)\b", said
                ):
                    scores["customer_lots"] += 2.0
                if re.search(r"\b(?:we|i)\s+(?:receive|received|get|got|buy|bought)\b", said):
                    scores["supplier_lots"] += 2.0
                if re.search(r"\bfrom us\b", said):
                    scores["customer_lots"] += 3.0
                elif re.search(
                    r"\b(?:send|sent|ship(?:ped)?|deliver\w*|sold) (?:us|me)\b|\bfrom\b", said
                ):
                    scores["supplier_lots"] += 1.0
        if re.search(r"\bmock recall\b", said):
            scores["recall"] += 2.0


# Words that relate two lots one way or the other, by where the lot stands:
# (pattern, the intent when a lot follows it, the intent when the lots come before it).
# "what went into 4471" asks upstream; "what did 4471 go into" asks downstream.
_RELATIONS = tuple(
    (re.compile(pattern), after, before)
    for pattern, after, before in (
        (
            r"\b(?:go|goes|went|gone|going|put)\s+in(?:to|\s+to)\b",
            "trace_backward",
            "trace_forward",
        ),
        (
            r"\b(?:made|make|makes|making)\s+(?:from|with|of|out\s+of|using)\b",
            "trace_forward",
            "trace_backward",
        ),
        (r"\bc[oa]mes?\s+(?:out\s+of|from)\b", "trace_forward", "trace_backward"),
        (r"\bend(?:s|ed)?\s+up\s+in(?:to)?\b", "trace_backward", "trace_forward"),
        (r"\bused\s+(?:in|for)\b", "trace_backward", "trace_forward"),
        (r"\bused?\s+to\s+(?:make|produce)\b", "trace_backward", "trace_forward"),
        (r"\bcontain(?:s|ed)?\b", "trace_forward", "trace_backward"),
        (r"\b(?:is|are|was|were)\s+in\b(?!\s*[?.!]?\s*$)", "trace_backward", None),
        (r"\bin\s*[?.!]?\s*$", None, "trace_forward"),  # "which lots is 4471 in?"
        (r"\buse[sd]?\s*[?.!]?\s*$", None, "trace_backward"),  # "which oat lot did 12 use?"
        (
            r"\b(?:made|make|produced)\s+(?=(?:lot\s+|batch\s+)?[a-z0-9-]*\d)",
            "trace_backward",
            None,
        ),
        (
            r"\b(?:used|uses)\s+(?=(?:[a-z]+\s+)?(?:lot\s+|batch\s+)?[a-z0-9-]*\d)",
            "trace_forward",
            None,
        ),
    )
)


def _direction(scores: dict[str, float], said: str, lots: list[tuple[int, int]]) -> None:
    """Settle upstream against downstream by the order of the relating words and the lots."""
    if not lots:
        return
    for pattern, after, before in _RELATIONS:
        for match in pattern.finditer(said):
            if after is not None and any(start >= match.end() for start, _ in lots):
                chosen = after
            elif before is not None and all(end <= match.start() for _, end in lots):
                chosen = before
            else:
                continue
            other = "trace_forward" if chosen == "trace_backward" else "trace_backward"
            scores[chosen] += 3.0
            scores[other] -= 3.0
            return


_PLANT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*(?:[-/.][A-Za-z0-9_]+)*$")
_NOT_PLANT_CODE = frozenset({"QC", "QA", "OK", "FSMA", "SKU", "BOL", "PO", "US", "ID", "PM", "AM"})


def _without(text: str, spans: Sequence[tuple[int, int]], *hits: tuple[str, Span] | None) -> str:
    """The text with its lot codes and the names it matched blanked out, for dates."""
    cut = list(spans) + [(hit[1].start_char, hit[1].end_char) for hit in hits if hit]
    chars = list(text)
    for start, end in cut:  # not spaces: "from <name> yesterday" must not read "from yesterday"
        chars[start:end] = "\u00b7" * (end - start)
    return "".join(chars)


def _plant_codes(
    doc: Doc, is_lot: Callable[[str], bool], skip: set[int], *, lower: bool = False
) -> list[str]:
    """The plant's own lot codes that no code pattern caught: letters only ("SLF"),
    underscores ("Raw_1_lot_1"), letters joined by dashes ("LOT-PM"); each one asked
    of the plant, and only where a word could be a code. With ``lower`` (no other
    code named) a word written in lower case counts too when the plant has that
    lot ("mock recall on slf")."""
    taken = {token.i for ent in doc.ents for token in ent} | skip
    found: list[str] = []
    index = 0
    while index < len(doc):
        end = index + 1  # glue "LOT", "-", "PM" written without spaces into one word
        while (
            end + 1 < len(doc)
            and doc[end - 1].whitespace_ == ""
            and doc[end].text in "-/."
            and doc[end].whitespace_ == ""
            and (doc[end + 1].is_alpha or doc[end + 1].is_digit)
        ):
            end += 2
        word = doc[index:end].text
        previous = doc[index - 1].lower_ if index else ""
        could_be = (
            "_" in word
            or end > index + 1
            or (word.isupper() and len(word) >= 2)
            or previous in LOT_WORDS
            or (lower and len(word) >= 3 and word.isalpha() and not doc[index].is_stop)
        )
        if (
            index not in taken
            and not word.isdigit()  # numbers were judged already: "lot 12 in the parking area"
            and _PLANT_CODE.match(word)
            and could_be
            and word.upper() not in _NOT_PLANT_CODE
            and word.lower() not in LOT_WORDS
            # a code said after "lot" is one, known or not: "I can't find lot XYZ" beats a guess
            and (is_lot(word) or (previous in LOT_WORDS and (word.isupper() or "_" in word)))
        ):
            found.append(word.upper())
        index = end
    return found


def _follow(
    context: Intent, best: str, top: float, lots: tuple[str, ...], said: str
) -> tuple[str, tuple[str, ...], float] | None:
    """A follow-up's intent and lots from the previous question, or None if it stands alone."""
    refers = _FOLLOW_UP.search(said) is not None
    if lots and (
        top <= 1.0 or re.match(r"\s*(?:and|what about|how about|same for|same thing for)\b", said)
    ):
        if context.intent in LOT_INTENTS:
            return context.intent, lots, 3.0  # "what about 4480?"
        return None
    if not lots and context.lots and best in LOT_INTENTS and top > 0 and (refers or top >= 2.0):
        return best, context.lots, top + 1.5  # "and where did it go?"
    if not lots and context.lots and best == "expiring" and refers:
        return "lot_info", context.lots, top + 1.5  # "when does it expire?": that lot's date
    if not lots and context.lots and top <= 0 and refers:
        return context.intent, context.lots, 2.0  # "and that one?"
    return None


_WINDOW_START = (
    r"(?:this|last|next|past|previous|in|on|since|before|after|during|between|from|until|by|"
    r"today|yesterday|tomorrow|so far|ytd|over|within|the|lately|recently)"
)


def _party_phrase(text: str) -> str | None:
    """A name as said, when no gazetteer knows it: "what did <name> send us", "shipped to <name>"."""
    patterns = (
        r"\b(?:we|i)\s+(?:send|sent|ship|shipped|deliver|delivered|sell|sold)\s+(?:to\s+)?(.+?)"
        r"(?=\s+(?:" + _WINDOW_START + r")\b|\s*[?.!]|\s*$)",
        r"\bdid\s+(.+?)\s+(?:send|get|receive|buy|order|take|deliver|ship|purchase|supply|sell)\b",
        r"\b(?:to|from|for)\s+(.+?)(?=\s+(?:" + _WINDOW_START + r")\b|\s*[?.!]|\s*$)",
    )
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            name = re.sub(r"^(?:the|our)\s+", "", match[1].strip(" ,"), flags=re.IGNORECASE)
            if name and name.lower() not in _NOT_NAMES and not re.search(r"\d", name):
                return name
    return None


_NOT_NAMES = frozenset(
    {"we", "i", "us", "you", "they", "lot", "batch", "me", "them", "it", "customers", "customer"}
    | {"suppliers", "supplier", "anyone", "everyone", "them all", "who"}
)


def _item_phrase(text: str) -> str | None:
    match = re.search(
        r"\b(?:in|to|of|for|on)\s+(?:the|our)?\s*([a-z][\w -]*?)\s+(?:recipe|formula|process|bom)\b",
        text,
        re.IGNORECASE,
    )
    if match:
        return match[1].strip()
    match = re.search(
        r"\b(?:recipe|formula|process)\s+(?:(?:change|changes|version|versions|history|log)\s+)*"
        r"(?:for|of|on)\s+(?:the\s+)?([\w -]+)",
        text,
        re.IGNORECASE,
    )
    if match:
        return match[1].strip(" ?.")
    match = re.search(
        r"\b(?:the|our)\s+([a-z][\w -]*?)\s+(?:recipe|formula|process)\b", text, re.IGNORECASE
    )
    return match[1].strip() if match else None


_NOT_ITEMS = frozenset(
    [
        "lots",
        "lot",
        "stock",
        "products",
        "product",
        "batches",
        "batch",
        "anything",
        "items",
        "item",
        "inventory",
        "goods",
        "things",
        "materials",
        "what",
        "which",
        "any",
        "will",
        "is",
        "are",
        "was",
        "going",
        "due",
        "to",
        "about",
        "set",
    ]
)


def _expiring_item(said: str) -> str | None:
    """The product of "any oat clusters expiring next week", as said."""
    match = re.search(
        r"\b(?:any|which|what|our|are any|is any)\s+([a-z][a-z -]*?)\s+"
        r"(?:expir\w*|going out of date|go(?:ing|es)? off|(?:is|are)\s+expir\w*)",
        said,
    )
    if match is None:
        return None
    words = [w for w in match[1].split() if w not in ("of", "the", "our")]
    if not words or any(word in _NOT_ITEMS for word in words):
        return None
    return " ".join(words)


def _label_lookup(label: Label) -> Intent:
    """A label typed as text ("(01)00614141000036(10)4471"): a lookup of what it names,
    the lot (or, for an SSCC alone, where the pallet went)."""
    intent = "trace_forward" if label.sscc and not label.lots else "lot_info"
    return Intent(intent, lots=label.lots[:1], confidence=calibrated(0.97), score=0.97, label=label)


def _unknown(score: float) -> Intent:
    return Intent("unknown", confidence=calibrated(score), score=round(score, 4))


def clarifying_question(intent: Intent) -> str | None:
    """A question back to the person when the parse is weak or nearly tied, else None.

    Example:
        >>> clarifying_question(Intent("trace_forward", ("4471",), confidence=0.55,
        ...                            alternatives=(("trace_backward", 0.7),)))
        'Do you want where lot 4471 went, or what went into it?'
    """
    if intent.intent in ("unknown", "help"):
        return None
    if intent.doubt:  # a date said but not read for sure: ask, never guess
        return intent.doubt
    raw = intent.score or intent.confidence  # alternatives are raw scores
    tied = bool(intent.alternatives) and intent.alternatives[0][1] >= raw - NEAR_TIE
    if intent.confidence >= CLARIFY_BELOW and not tied:
        return None
    options = [intent.intent, *(name for name, _ in intent.alternatives[:1])]
    subject = f"lot {', '.join(intent.lots)}" if intent.lots else "it"
    phrases = {
        "trace_forward": f"where {subject} went",
        "trace_backward": "what went into it",
        "lot_info": f"the facts of {subject}",
        "qc_status": f"the QC results of {subject}",
        "expiring": "what expires soon",
        "recall": f"a recall scope for {subject}",
        "hold": f"to put {subject} on hold",
        "release": f"to release {subject}",
        "supplier_lots": "what a supplier sent us",
        "customer_lots": "what a customer got",
        "common_source": "what the lots have in common",
        "mass_balance": f"a mass balance of {subject}",
        "formula_changes": "the recipe change log",
    }
    said = [phrases.get(name, name) for name in options if name in phrases]
    if len(said) < 2:
        return f"Do you want {said[0]}?" if said else None
    return f"Do you want {said[0]}, or {said[1]}?"


@lru_cache(maxsize=8)
def _parser(gazetteer: Gazetteer | None) -> Parser:
    return Parser(gazetteer)


def parse(
    text: str,
    *,
    today: date,
    gazetteer: Gazetteer | None = None,
    context: Intent | None = None,
    is_lot: Callable[[str], bool] | None = None,
) -> Intent:
    """The intent of a typed or spoken question (parsers are cached per gazetteer;
    ``is_lot`` as in ``Parser.parse``)."""
    frozen = (
        None
        if gazetteer is None
        else replace(
            gazetteer,
            parties=tuple(gazetteer.parties),
            items=tuple(gazetteer.items),
            suppliers=tuple(gazetteer.suppliers),
            customers=tuple(gazetteer.customers),
            sites=tuple(gazetteer.sites),
        )
    )
    return _parser(frozen).parse(text, today=today, context=context, is_lot=is_lot)


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
    doc = _base_pipeline()(_clean(text))
    return tuple(dict.fromkeys(ent.text.upper() for ent in doc.ents if ent.label_ == "LOT"))
