"""The Intent: what a person asked, in the contract's shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = ["INTENTS", "LOT_INTENTS", "Intent"]

INTENTS = (
    "trace_forward",
    "trace_backward",
    "lot_info",
    "qc_status",
    "expiring",
    "recall",
    "hold",
    "release",
    "supplier_lots",
    "customer_lots",
    "common_source",
    "mass_balance",
    "formula_changes",
    "holds",
    "alerts",
    "qc_failures",
    "help",
    "unknown",
)

LOT_INTENTS = frozenset(
    {
        "trace_forward",
        "trace_backward",
        "lot_info",
        "qc_status",
        "recall",
        "hold",
        "release",
        "common_source",
        "mass_balance",
    }
)
"""The intents that are about named lots and need at least one."""


@dataclass(frozen=True)
class Intent:
    """A parsed question.

    Example:
        >>> Intent("trace_forward", lots=("4471",), confidence=0.97).as_dict()["lots"]
        ['4471']
    """

    intent: str
    lots: tuple[str, ...] = ()
    party: str | None = None
    item: str | None = None
    site: str | None = None
    """A site of the plant's own the question is about ("at the cold store")."""
    since: date | None = None
    until: date | None = None
    confidence: float = 0.0
    alternatives: tuple[tuple[str, float], ...] = field(default=(), compare=False)
    score: float = field(default=0.0, compare=False)
    """The raw score ``confidence`` was calibrated from (intents.calibration)."""
    doubt: str | None = field(default=None, compare=False)
    """What to ask back when a stated date could not be read for sure (not guessed)."""
    label: Any = field(default=None, compare=False)
    """The GS1 label typed as text (an ``intents.barcode.Label``): a label lookup."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "lots": list(self.lots),
            "party": self.party,
            "item": self.item,
            "site": self.site,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "confidence": round(self.confidence, 2),
        } | ({"label": self.label.fields()} if self.label is not None else {})
