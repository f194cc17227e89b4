"""What each conversation (a Slack thread, a call, a chat, a console session) said last.

A follow-up ("and where did it go?") is parsed with the last question as context;
a reply naming an item ("the trail mix bar") settles a lot code two items share;
"yes" or "no" answers the confirmation the conversation is waiting for (those live
in the database, ``storage.actions``, so they outlast a restart and are used once).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from intents.model import Intent
from trace_engine.model import Answer, Candidate

__all__ = ["NO", "YES", "Ambiguity", "Conversations", "Memory"]

KEPT = 5000
"""Conversations remembered at once; the oldest are forgotten first."""

YES = re.compile(
    r"^\s*(?:yes|yeah|yep|yup|ok(?:ay)?|sure|correct|confirm(?:ed)?|do it|go ahead|affirmative)"
    r"\b[\s.!,]*(?:please|do it|go ahead|confirm(?:ed)?)?[\s.!]*$",
    re.I,
)
"""A reply that confirms what was asked (and says nothing else)."""
NO = re.compile(
    r"^\s*(?:no|nope|cancel|stop|don't|do not|negative|never mind|nevermind|abort)\b"
    r"(?:[\s,.!]+[a-z']+){0,3}[\s.!]*$",
    re.I,
)
"""A reply that cancels what was asked: "no", "no thanks", "cancel that" (a reply that
names a lot, "no, I meant lot 4480", is a new question, not a cancellation)."""


@dataclass(frozen=True)
class Ambiguity:
    """A question whose lot code several items share, waiting for the item."""

    intent: Intent
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Memory:
    """One conversation's last question, answer, open ambiguity and question back."""

    intent: Intent | None = None
    answer: Answer | None = None
    ambiguity: Ambiguity | None = None
    clarify: Intent | None = None
    """A question asked back ("where it went, or what went into it?"), waiting."""
    suggestion: object | None = None
    """A heard lot code asked back ("Did you mean lot 4-4-8-0?"), waiting
    (``bot.service.heard.Suggestion``)."""


class Conversations:
    """Memories by conversation key, bounded and thread-safe."""

    def __init__(self, size: int = KEPT) -> None:
        self.size = size
        self._memories: OrderedDict[str, Memory] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str | None) -> Memory:
        if key is None:
            return Memory()
        with self._lock:
            return self._memories.get(key, Memory())

    def last_intent(self, key: str | None) -> Intent | None:
        return self.get(key).intent

    def update(self, key: str | None, **changes: object) -> None:
        """Set some of ``intent``, ``answer`` and ``ambiguity`` for a conversation."""
        if key is None:
            return
        with self._lock:
            memory = replace(self._memories.get(key, Memory()), **changes)  # type: ignore[arg-type]
            self._memories[key] = memory
            self._memories.move_to_end(key)
            while len(self._memories) > self.size:
                self._memories.popitem(last=False)

    def remember(self, key: str | None, intent: Intent) -> None:
        """The question a follow-up will refer to (help and chat are not one)."""
        if intent.intent not in ("unknown", "help"):
            self.update(key, intent=intent)
