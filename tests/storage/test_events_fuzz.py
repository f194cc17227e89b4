"""Property: whatever mix of good and bad events a POST /api/events body holds,
every bad event is named (by a JSON path inside it) and no good one is; a body
with a bad event writes nothing, and a body of good events writes each of them.

Good events stand on their own (a receipt of a new lot, a QC check, a shipment or
a hold of a lot the plant has); bad ones have one fault each, of the kinds a real
client sends: a lot code outside the rule, a quantity that is no number (true,
NaN, -1, a list...), an unknown supplier or lot, a day that is none, a QC result
that is neither pass nor fail, no ``to``, a type that is none, an event that is no
object, a value nested 100,000 levels deep.
"""

from __future__ import annotations

import itertools
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
from storage.importers.csv_import import import_csv_dir
from storage.importers.events import record_events
from tests.storage.test_csv_import import write_plant
from tests.storage.test_epcis_fuzz import row_counts
from trace_engine.codes import LOT_CODE_CHARACTERS, MAX_LOT_CODE

EXAMPLES = 400
"""Bodies tried a run: about 25 s on the project's 2-core machine."""

ALNUM = sorted(ch for ch in LOT_CODE_CHARACTERS if ch.isalnum())
codes = st.builds(
    str.__add__, st.sampled_from(ALNUM), st.text(sorted(LOT_CODE_CHARACTERS), max_size=20)
)


@dataclass(frozen=True)
class Event:
    """What to send: a good event of ``kind``, or one with ``fault`` (``value`` says how)."""

    kind: str
    fault: str | None = None
    value: Any = None
    code: str = "L"


def build(event: Event, index: int) -> Any:
    """The JSON of ``event`` as the ``index``-th of its body (times and codes unique)."""
    at = f"2026-12-01T{index // 60:02}:{index % 60:02}:00"
    if event.fault == "not an object":
        return event.value
    body: dict[str, Any]
    if event.kind == "receipt":
        body = {
            "type": "receipt",
            "lot_code": f"N{index}-{event.code}"[:MAX_LOT_CODE],
            "sku": "OAT",
            "supplier": "ACME",
            "quantity": 250,
            "uom": "kg",
            "received_on": "2026-12-01",
            "site": "PLANT",
        }
    elif event.kind == "qc":
        body = {"type": "qc", "lot_code": "4471", "test": f"t{index}", "result": "pass", "at": at}
    elif event.kind == "shipment":
        body = {
            "type": "shipment",
            "lot_code": "4471",
            "to": "SYSCO",
            "shipped_on": "2026-12-01",
            "reference": f"BOL-{index}",
        }
    else:
        body = {"type": "hold", "lot_code": "B-1", "reason": "swab", "placed_at": at}
    if event.fault == "lot code":
        body["lot_code"] = f"N{index}{event.value}X"  # cells are stripped, as CSV cells
    elif event.fault in ("quantity", "supplier", "received_on", "result", "lot_code", "type"):
        body[event.fault] = event.value
    elif event.fault == "no to":
        del body["to"]
    elif event.fault == "no type":
        del body["type"]
    elif event.fault == "deep":
        deep: Any = []
        for _ in range(event.value):
            deep = [deep]
        body["reference"] = deep
    return body


good = st.builds(Event, st.sampled_from(["receipt", "qc", "shipment", "hold"]), code=codes)
bad = st.one_of(
    st.builds(
        Event,
        st.just("receipt"),
        st.just("lot code"),
        st.one_of(st.sampled_from([" ", "`", "é", "\x00", "~"]), st.just("x" * MAX_LOT_CODE)),
    ),
    st.builds(
        Event,
        st.just("receipt"),
        st.just("quantity"),
        st.sampled_from([True, False, float("nan"), float("inf"), -1, "abc", "1e999", [], {}]),
    ),
    st.builds(Event, st.just("receipt"), st.just("supplier"), st.sampled_from(["NOBODY", ""])),
    st.builds(
        Event,
        st.just("receipt"),
        st.just("received_on"),
        st.sampled_from(["2026-02-30", "yesterday", "", None]),
    ),
    st.builds(Event, st.just("qc"), st.just("lot_code"), st.sampled_from(["ZZ-404", "44 71"])),
    st.builds(Event, st.just("qc"), st.just("result"), st.sampled_from(["maybe", 3.5, True])),
    st.builds(Event, st.just("shipment"), st.just("no to")),
    st.builds(Event, st.just("qc"), st.just("no type")),
    st.builds(Event, st.just("qc"), st.just("type"), st.sampled_from(["qa", [], 7, {"qc": 1}])),
    st.builds(
        Event, st.just("qc"), st.just("not an object"), st.sampled_from([5, "qc", [], None, True])
    ),
    st.builds(Event, st.just("shipment"), st.just("deep"), st.just(100_000)),
)
TABLES = {"receipt": "receipt", "qc": "qc_check", "shipment": "shipment", "hold": "hold"}


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """The CSV tests' small plant (lots 4471 and B-1, ACME, SYSCO, PLANT), one file."""
    with tempfile.TemporaryDirectory() as folder:
        built = Path(folder) / "built.db"
        init_schema(f"sqlite:///{built}")
        import_csv_dir(f"sqlite:///{built}", write_plant(Path(folder) / "plant"))
        clean = Path(folder) / "template.db"
        with sqlite3.connect(built) as connection:
            connection.execute(f"VACUUM INTO '{clean}'")
        yield clean


def test_good_events_are_kept_and_bad_ones_named_and_nothing_is_half_written(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: Counter[str] = Counter()
    numbers = itertools.count()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.one_of(st.lists(good, max_size=25), st.lists(st.one_of(good, bad), max_size=25)))
    def check(drawn: list[Event]) -> None:
        database = tmp_path / f"example-{next(numbers)}.db"  # never reused: SQLite's WAL
        shutil.copyfile(template, database)
        before = row_counts(database)

        report = record_events(
            f"sqlite:///{database}",
            [build(event, index) for index, event in enumerate(drawn)],
            actor="api:fuzz",
        )

        named = Counter()
        for rejection in report.rejected:
            found = re.match(r"\$\[(\d+)\]", rejection.file)
            assert found is not None and rejection.reason, rejection
            named[int(found[1])] += 1
        faulty = {index for index, event in enumerate(drawn) if event.fault}
        assert set(named) == faulty
        assert all(count == 1 for count in named.values())  # one reason per event
        after = row_counts(database)
        if faulty:
            assert after == before
            outcomes["refused"] += 1
        else:
            added = Counter(TABLES[event.kind] for event in drawn)
            added["lot"] = added["receipt"]
            assert {name: after[name] - before[name] for name in added} == dict(added)
            outcomes["recorded"] += 1

    check()

    with capsys.disabled():
        print(
            f"\n/api/events bodies: {sum(outcomes.values())} examples,"
            f" {outcomes['recorded']} recorded whole, {outcomes['refused']} refused"
            " with every bad event named"
        )
