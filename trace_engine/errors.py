"""Errors of the trace engine, each with one message template."""

from __future__ import annotations

from trace_engine.model import Candidate

__all__ = ["AmbiguousLot", "TraceError", "UnknownItem", "UnknownLot", "UnknownParty"]


class TraceError(Exception):
    """Base of every error the engine raises on purpose."""


class UnknownLot(TraceError):
    """No lot has this code."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"I can't find lot {code}.")


class AmbiguousLot(TraceError):
    """Several items have a lot with this code; the user must pick one.

    Example:
        >>> str(AmbiguousLot("12", (Candidate("12", "Granola", "G"), Candidate("12", "Bar", "B"))))
        'Lot 12 exists for Granola and for Bar: which one?'
    """

    def __init__(self, code: str, candidates: tuple[Candidate, ...]) -> None:
        self.code = code
        self.candidates = candidates
        items = " and for ".join(candidate.item for candidate in candidates)
        super().__init__(f"Lot {code} exists for {items}: which one?")


class UnknownParty(TraceError):
    """No supplier, customer or other party goes by this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"I don't know a supplier or customer called {name}.")


class UnknownItem(TraceError):
    """No item goes by this name or SKU."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"I don't know a product or material called {name}.")
