"""Speech-recogniser text to typed form: numbers, spelled letters, fillers.

A recogniser writes "lot four four seven one", "forty four seventy one" or "alpha
twelve bravo"; people say "uh" and "hey tracebot", and "lot" is often heard as "a
lot". Number words become digits (text2num), NATO and plain spelled letters
become letters, and the words after "lot" or "batch" that spell a code are joined
into it.

Example:
    >>> normalise_spoken("uh hey tracebot who got a lot four four seven one")
    'who got lot 4471'
    >>> normalise_spoken("what went into lot forty four seventy one")
    'what went into lot 4471'
    >>> normalise_spoken("tell me about batch alpha twelve bravo")
    'tell me about batch A12B'
    >>> normalise_spoken("where did lot two four zero one one five dash zero three go")
    'where did lot 240115-03 go'
"""

from __future__ import annotations

import re

from text_to_num import alpha2digit

__all__ = ["looks_spoken", "normalise_spoken"]

PHONETIC = {
    "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E",
    "foxtrot": "F", "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J",
    "kilo": "K", "lima": "L", "mike": "M", "november": "N", "oscar": "O", "papa": "P",
    "quebec": "Q", "romeo": "R", "sierra": "S", "tango": "T", "uniform": "U", "victor": "V",
    "whiskey": "W", "whisky": "W", "xray": "X", "x-ray": "X", "yankee": "Y", "zulu": "Z",
}  # fmt: skip
DASHES = {"dash", "hyphen", "minus"}
FILLERS = re.compile(
    r"\b(?:uh+|um+|erm|er|hmm+|hey tracebot|ok tracebot|okay tracebot|tracebot)\b[,.]?\s*"
)
CODE_WORDS = r"(?:lot|batch|lots|batches)"
_DIGIT_WORDS = "zero|one|two|three|four|five|six|seven|eight|nine"
DIGITS = {word: str(number) for number, word in enumerate(_DIGIT_WORDS.split("|"))}


def looks_spoken(text: str) -> bool:
    """True for recogniser-style text: no digits, but number words or spelled letters."""
    if any(ch.isdigit() for ch in text):
        return False
    words = set(re.findall(r"[a-z-]+", text.lower()))
    numbers = {"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
               "eleven", "twelve", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
               "ninety", "hundred", "thousand"}  # fmt: skip
    return bool(words & numbers) or bool(words & PHONETIC.keys())


def _code_part(token: str) -> str | None:
    """The characters a spoken token adds to a lot code, or None if it ends the code."""
    word = token.lower()
    if word.isdigit():
        return word
    if word in DIGITS:  # text2num leaves a lone small number as a word ("b one")
        return DIGITS[word]
    if word in PHONETIC:
        return PHONETIC[word]
    if word in DASHES:
        return "-"
    if len(word) == 1 and word.isalpha() and word not in ("a", "i"):
        return word.upper()
    return None


def _letter_leads_code(tokens: list[str], index: int) -> bool:
    """A spelled letter followed by digits starts a code ("l 2024 dash 0113", "a 1 2 b")."""
    word = tokens[index].lower()
    if len(word) != 1 or not word.isalpha() or index + 1 >= len(tokens):
        return False
    following = _code_part(tokens[index + 1])
    if following is None or not following.isdigit():
        return False
    run = []
    for token in tokens[index + 1 :]:
        if _code_part(token) is None and token.lower() not in ("a", "i"):
            break
        run.append(token)
    if word in ("a", "i"):  # an article or a pronoun unless a letter closes the code
        return any(t.isalpha() for t in run)
    return True


_NOT_PREFIX = frozenset(
    [
        "lot",
        "lots",
        "batch",
        "batches",
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "on",
        "in",
        "for",
        "to",
        "from",
        "is",
        "was",
        "what",
        "where",
        "who",
        "which",
        "did",
        "does",
        "do",
        "it",
        "its",
        "that",
        "this",
    ]
)


def _letter_run(tokens: list[str], index: int) -> int:
    """Where several spelled letters that lead a code end ("a l m 5 5 3 1"), or 0."""
    end = index
    while end < len(tokens) and len(tokens[end]) == 1 and tokens[end].isalpha():
        end += 1
    if end - index < 2 or end >= len(tokens):
        return 0
    following = _code_part(tokens[end])
    return end if following is not None and following.isdigit() else 0


def _prefix_before_dash(tokens: list[str], index: int) -> tuple[str, int] | None:
    """Letters spelled, or one short word, then "dash" and a digit: a code's head.

    Returns the head in upper case and where "dash" stands, or None.
    """
    letters = ""
    end = index
    while end < len(tokens):
        word = tokens[end].lower()
        if len(word) == 1 and word.isalpha():
            letters += word.upper()
        elif word in PHONETIC:
            letters += PHONETIC[word]
        else:
            break
        end += 1
    if not letters:
        word = tokens[index].lower()
        if not (word.isalpha() and 2 <= len(word) <= 6 and word not in _NOT_PREFIX):
            return None
        letters, end = word.upper(), index + 1
    if end + 1 >= len(tokens) or tokens[end].lower() not in DASHES:
        return None
    following = _code_part(tokens[end + 1])
    if following is None or not following.isdigit():
        return None
    return letters, end


_MONTH_NOVEMBER = re.compile(
    r"\b(?<=in |of |on |by |to )november\b"
    r"|\b(?:since|until|till|before|after|from|during|through|between|and|last|next|this|"
    r"early|late|mid|end of|start of|beginning of|the) november\b"
    r"|\bnovember(?= (?:\d|the\b|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
    r"tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|"
    r"eighteenth|nineteenth|twentieth|twenty|thirtieth|thirty|two thousand))"
)


def _month_unless_code(match: re.Match[str]) -> str:
    """ "november" as the month, unless it spells a code ("lot november two one")."""
    before = match.string[: match.start()].split()
    if before and (re.fullmatch(CODE_WORDS, before[-1]) or before[-1] in PHONETIC):
        return match[0]
    return match[0].replace("november", "nov")


def normalise_spoken(text: str) -> str:
    """Recogniser text with number words as digits and spelled codes joined.

    "November" said as a month ("in november", "november the third") stays a month
    ("nov"), not the spelled letter N.
    """
    said = FILLERS.sub("", text.lower()).strip()
    said = _MONTH_NOVEMBER.sub(_month_unless_code, said)
    said = re.sub(rf"\ba (?={CODE_WORDS}\b)", "", said)  # "who got a lot 4471": "a lot" is "lot"
    said = re.sub(  # "four four oh one": "oh" between digits is zero
        rf"\b({_DIGIT_WORDS}|oh) oh\b|\boh(?= (?:{_DIGIT_WORDS}|oh)\b)",
        lambda m: f"{m[1]} zero" if m[1] else "zero",
        said,
    )
    said = alpha2digit(said, "en")
    tokens = said.split()
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        after_code_word = bool(out) and re.fullmatch(CODE_WORDS, out[-1]) is not None
        digits_ahead = (
            index + 1 < len(tokens) and tokens[index].isdigit() and tokens[index + 1].isdigit()
        )
        leads = _letter_leads_code(tokens, index)
        prefix = _prefix_before_dash(tokens, index)
        run = _letter_run(tokens, index)
        if run and not prefix:
            prefix = ("".join(tokens[index:run]).upper(), run)
        if prefix:  # "salt dash seventy seven", "h n dash 0877": the letters lead the code
            code = prefix[0]
            index = prefix[1]
            while index < len(tokens) and (piece := _code_part(tokens[index])) is not None:
                code += piece
                index += 1
            out.append(code.strip("-"))
            continue
        part = token.upper() if leads else _code_part(token)
        if part is not None and (
            after_code_word or digits_ahead or token.lower() in PHONETIC or leads
        ):
            code = part
            index += 1
            while index < len(tokens) and (piece := _code_part(tokens[index])) is not None:
                code += piece
                index += 1
            out.append(code.strip("-"))
            continue
        out.append(token)
        index += 1
    return " ".join(out)
