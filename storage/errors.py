"""Errors of the storage layer, each with one message template."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["DatabaseUnavailable", "SchemaOutdated", "StorageError"]


def _safe_url(url: str) -> str:
    """The URL with any password hidden, fit for a message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class StorageError(Exception):
    """Base of every error this package raises on purpose."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or its URL cannot be understood."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"Cannot use the database {_safe_url(url)}: {reason}.")


class SchemaOutdated(StorageError):
    """The database has no schema yet, or an older one than this TraceBot."""

    def __init__(self, url: str, revision: str | None) -> None:
        self.url = url
        self.revision = revision
        state = "has no TraceBot schema" if revision is None else f"is at schema {revision}"
        super().__init__(
            f"The database {_safe_url(url)} {state}; run `tracebot init` to create or upgrade it."
        )
