"""Who is asking: one value for every channel, for permission and the audit log.

A ``Caller`` is a channel and an id: ``slack:U0QALEAD``, ``phone:+15551230000``,
``api:ops`` (an API key's name), ``cli:priya``, ``web:ops``. TRACEBOT_ADMINS may
list the bare id (``U0QALEAD``, ``+15551230000``, ``ops``) or the whole key
(``slack:U0QALEAD``); the audit log always names the whole key.

Example:
    >>> caller = Caller.of("slack:U0QALEAD")
    >>> caller.key, caller.permitted(["U0QALEAD"]), caller.permitted(["cli:U0QALEAD"])
    ('slack:U0QALEAD', True, False)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["CHANNELS", "Caller"]

CHANNELS = ("slack", "phone", "api", "cli", "web")


@dataclass(frozen=True)
class Caller:
    """A person or key on one channel."""

    channel: str
    id: str

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"Unknown channel {self.channel!r}: one of {', '.join(CHANNELS)}.")

    @classmethod
    def of(cls, key: str) -> Caller:
        """``slack:U1`` as a Caller.

        Raises:
            ValueError: the key names no known channel.
        """
        channel, _, who = key.partition(":")
        return cls(channel, who or "unknown")

    @property
    def key(self) -> str:
        """How the audit log names the caller."""
        return f"{self.channel}:{self.id}"

    def permitted(self, admins: Collection[str]) -> bool:
        """Whether TRACEBOT_ADMINS (``admins``) lists this caller."""
        return bool(self.id) and (self.id in admins or self.key in admins)

    def __str__(self) -> str:
        return self.key
