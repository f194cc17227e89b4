"""Engines, sessions and the schema.

``make_engine(url)`` gives an engine tuned for the backend: SQLite runs in WAL
mode with foreign keys enforced, so the web app can read while an import writes.
``init_schema(url)`` creates or upgrades the schema with the Alembic migrations
shipped inside this package; it is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from storage.errors import DatabaseUnavailable, SchemaOutdated

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["init_schema", "make_engine", "schema_revision", "session_scope"]

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD_REVISION = "0009"
"""The newest migration: checked without loading Alembic (a test keeps it true)."""


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as err:
        raise DatabaseUnavailable(url, "not a database URL") from err


@cache
def make_engine(url: str) -> Engine:
    """Return the (cached) engine for a database URL.

    Args:
        url: an SQLAlchemy URL, ``sqlite:///tracebot.db`` or
            ``postgresql+psycopg://user:pw@host/db``.

    Raises:
        DatabaseUnavailable: the URL cannot be understood.

    Example:
        >>> make_engine("sqlite://").dialect.name
        'sqlite'
    """
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(make_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of TraceBot, as Alembic sees it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_revision(url: str) -> str | None:
    """The migration a database is at, or None for an empty database."""
    parsed = _parse_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not Path(database).expanduser().exists():
        return None  # do not create an empty file just to look
    try:
        with make_engine(url).connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as err:
        raise DatabaseUnavailable(url, str(err.orig).strip()) from err


def init_schema(url: str) -> tuple[str | None, str]:
    """Create or upgrade the schema; return the revisions before and after.

    Example:
        >>> init_schema("sqlite://")[1] == head_revision()
        True
    """
    from alembic import command

    before = schema_revision(url)
    config = _alembic_config()
    with make_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def require_schema(url: str) -> None:
    """Raise SchemaOutdated unless the database is at the newest migration."""
    current = schema_revision(url)
    if current != HEAD_REVISION:
        raise SchemaOutdated(url, current)
