"""Shared fixtures: a fresh real database per test, SQLite file or PostgreSQL server."""

from __future__ import annotations

import csv
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from storage.db import init_schema, make_engine

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's Slack, Twilio or TraceBot settings."""
    for name in list(os.environ):
        if (
            name.startswith(("SLACK_", "TWILIO_", "TRACEBOT_"))
            and name != "TRACEBOT_TEST_POSTGRES_URL"
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracebot.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database on the PostgreSQL server that .ci/run starts."""
    admin_url = os.environ.get("TRACEBOT_TEST_POSTGRES_URL")
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: TRACEBOT_TEST_POSTGRES_URL is not set")
        pytest.skip(
            "no PostgreSQL server: `make test` starts one and sets TRACEBOT_TEST_POSTGRES_URL"
        )
    name = f"tracebot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        make_engine(url).dispose()
        _drop(admin, name)
        admin.dispose()


def _drop(admin: Engine, name: str) -> None:
    """Drop a test database. FORCE ends the tests' own connections; an autovacuum worker
    still busy on freshly loaded rows is another role's process, which FORCE may not end:
    then a plain DROP, which cancels autovacuum itself, tried again for a few seconds."""
    with admin.connect() as connection:
        try:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            pass
    for _ in range(40):
        with admin.connect() as connection:
            try:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                return
            except OperationalError:  # "being accessed by other users": not yet
                time.sleep(0.25)
    raise RuntimeError(f"could not drop the test database {name}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each backend, schema not yet created."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def database(db_url: str) -> str:
    """A database of each backend with the current schema."""
    init_schema(db_url)
    return db_url


def write_csv(directory: Path, name: str, rows: list[list[object]]) -> Path:
    """Write rows (header first) as a CSV file and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path
