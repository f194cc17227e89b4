"""Property: a valid public EPCIS document with one value replaced by a value of
another JSON type, or wrapped deep in lists and objects, either loads or is refused
with an EpcisError naming a JSON path at, above or below the changed value (or
where the unchanged document is refused); never another exception; and a refused
document writes nothing.

The documents are GS1's examples (../shared/epcis-examples) and the documents and
query documents MANIFEST.tsv marks valid (../shared/epcis-corpus); hypothesis picks
the document, the value to change (any value but the root) and what replaces it.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.db import init_schema
from storage.importers.epcis import MAX_DEPTH, EpcisError, import_epcis, json_path
from tests.conftest import SHARED

EXAMPLES = 800
"""Documents tried a run: about 20 s on the project's 2-core machine."""


def _valid_documents() -> list[Path]:
    found = sorted((SHARED / "epcis-examples").glob("*.jsonld"))
    manifest = SHARED / "epcis-corpus" / "MANIFEST.tsv"
    if manifest.exists():
        for line in manifest.read_text().splitlines()[1:]:
            name, _, _, _, kind, expected, _ = line.split("\t")
            if kind in ("document", "query-document") and expected == "valid":
                found.append(SHARED / "epcis-corpus" / name)
    return found


DOCUMENTS = _valid_documents()
TEXTS = {path: path.read_text(encoding="utf-8") for path in DOCUMENTS}


@dataclass(frozen=True)
class Deep:
    """A value nested ``depth`` levels deep (built in the test, so never printed)."""

    depth: int
    brackets: str  # "[]" for lists, "{}" for objects

    def wrap(self, value: Any) -> Any:
        for _ in range(self.depth):
            value = [value] if self.brackets == "[]" else {"deeper": value}
        return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
replacements = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=6), scalars, max_size=3),
    st.builds(Deep, st.integers(MAX_DEPTH - 8, 100_000), st.sampled_from(["[]", "{}"])),
)


def kind(value: Any) -> str:
    """The JSON type of a value (a number is a number, integer or not)."""
    if isinstance(value, Deep):
        return "deep"
    if value is None or isinstance(value, bool | str | list | dict):
        return type(value).__name__
    return "number"


def steps_of(document: Any) -> Iterator[tuple[str | int, ...]]:
    """The steps to every value of a document but its root, in document order."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, steps = stack.pop()
        if steps:
            yield steps
        if isinstance(value, dict | list):
            children = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((child, (*steps, key)) for key, child in reversed(list(children)))


TOKEN = re.compile(r"\.([A-Za-z_@$][\w@$:#-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]", re.ASCII)


def parse_path(path: str) -> list[str | int]:
    """The steps of a JSON path as ``json_path`` writes it."""
    assert path.startswith("$"), path
    steps: list[str | int] = []
    at = 1
    while at < len(path):
        token = TOKEN.match(path, at)
        assert token is not None, f"not a JSON path: {path!r} (at {at})"
        name, index, quoted = token.groups()
        steps.append(int(index) if index else name or re.sub(r"\\(.)", r"\1", quoted))
        at = token.end()
    assert json_path("$", *steps) == path
    return steps


def row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        names = [row[0] for row in connection.execute("select name from sqlite_master")]
        tables = [name for name in names if not name.startswith("sqlite_")]
        counts = {}
        for name in tables:
            kind_of = connection.execute(
                "select type from sqlite_master where name = ?", (name,)
            ).fetchone()
            if kind_of == ("table",):
                counts[name] = connection.execute(f'select count(*) from "{name}"').fetchone()[0]
    return counts


REFUSALS: dict[Path, str | None] = {}


def refusal_of(source: Path, template: Path) -> str | None:
    """Where the unchanged document is refused (14 of the 122 are: GRAI and GIAI
    keys, a bad SSCC check digit, an eventTime in milliseconds...), or None."""
    if source not in REFUSALS:
        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "unchanged.db"
            shutil.copyfile(template, database)
            try:
                import_epcis(f"sqlite:///{database}", json.loads(TEXTS[source]))
                REFUSALS[source] = None
            except EpcisError as err:
                REFUSALS[source] = err.path
    return REFUSALS[source]


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """An empty database with the schema, one file, copied for each example."""
    with tempfile.TemporaryDirectory() as folder:
        built = Path(folder) / "built.db"
        init_schema(f"sqlite:///{built}")
        clean = Path(folder) / "template.db"
        with sqlite3.connect(built) as connection:
            connection.execute(f"VACUUM INTO '{clean}'")
        yield clean


@pytest.mark.skipif(not DOCUMENTS, reason="../shared/epcis-examples is not beside the repository")
def test_a_type_mutation_loads_or_is_refused_at_its_path_and_writes_nothing(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: Counter[str] = Counter()
    numbers = itertools.count()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(st.sampled_from(DOCUMENTS), st.integers(min_value=0), st.data())
    def check(source: Path, target: int, data: st.DataObject) -> None:
        document = json.loads(TEXTS[source])
        every = list(steps_of(document))
        steps = every[target % len(every)]
        parent = document
        for step in steps[:-1]:
            parent = parent[step]
        old = parent[steps[-1]]
        new = data.draw(replacements.filter(lambda value: kind(value) != kind(old)))
        if isinstance(new, Deep):
            new = new.wrap(old)
        parent[steps[-1]] = new
        database = tmp_path / f"example-{next(numbers)}.db"  # never reused: SQLite's WAL
        shutil.copyfile(template, database)
        before = row_counts(database)

        try:
            import_epcis(f"sqlite:///{database}", document, source=source.name)
        except EpcisError as err:
            changed = json_path("$", *steps)
            named = json_path("$", *parse_path(err.path))
            related = named.startswith(changed) or changed.startswith(named)
            assert related or named == refusal_of(source, template), (changed, named)
            assert row_counts(database) == before
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1

    check()

    with capsys.disabled():
        print(
            f"\nEPCIS type mutations: {sum(outcomes.values())} examples,"
            f" {outcomes['loaded']} loaded, {outcomes['refused']} refused at their path"
        )
