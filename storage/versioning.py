"""The data version: a counter every write transaction raises.

A genealogy cached in memory compares it with the version it loaded and catches up
when they differ; rows of ``lot`` carry the version that last wrote them.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from storage.tables import META

__all__ = ["DATA_VERSION", "bump_data_version", "read_data_version"]

DATA_VERSION = "data_version"


def read_data_version(connection: Connection) -> int:
    """The current data version; 0 for a database nothing was written to."""
    value = connection.execute(
        select(META.c.value).where(META.c.key == DATA_VERSION)
    ).scalar_one_or_none()
    return int(value) if value is not None else 0


def bump_data_version(connection: Connection) -> int:
    """Raise the data version inside the caller's transaction and return it."""
    # Updating the row first takes its write lock, so concurrent writers queue.
    updated = connection.execute(
        update(META).where(META.c.key == DATA_VERSION).values(value=META.c.value)
    ).rowcount
    if not updated:
        connection.execute(insert(META).values(key=DATA_VERSION, value="0"))
    version = read_data_version(connection) + 1
    connection.execute(update(META).where(META.c.key == DATA_VERSION).values(value=str(version)))
    return version
