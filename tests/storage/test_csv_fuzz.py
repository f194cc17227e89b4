"""Property: whatever mix of good and bad rows a lots.csv holds, every good row loads
and every bad row is named at its line, and nothing else happens.

Rows are drawn by hypothesis: good ones with codes from the lot-code rule, bad ones
of each kind a real file has (a code outside the rule or too long, an unknown item,
a date that is none, a byte that is no UTF-8, a NUL, an empty required cell).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.db import init_schema, make_engine
from storage.importers.csv_import import import_csv_dir
from storage.tables import LOTS
from tests.conftest import write_csv
from tests.storage.test_csv_import import ITEMS, PARTIES
from trace_engine.codes import LOT_CODE_CHARACTERS, MAX_LOT_CODE

EXAMPLES = 150
HEADER = b"lot_code,sku,quantity,uom,produced_on,received_on,expires_on,site\n"
SAFE = sorted(set(LOT_CODE_CHARACTERS) - set(",\"'"))  # no CSV quoting in a bare cell

codes = st.builds(
    str.__add__,
    st.sampled_from([ch for ch in SAFE if ch.isalnum()]),
    st.text(alphabet=SAFE, max_size=MAX_LOT_CODE - 1),
)
good = st.builds(
    lambda code, quantity: f"{code},OAT,{quantity},kg,2026-11-01,,,PLANT\n".encode(),
    codes,
    st.integers(0, 10_000),
)
bad = st.one_of(
    st.builds(lambda c: f"{c}`,OAT,1,kg,2026-11-01,,,PLANT\n".encode(), codes),  # outside the rule
    st.just(("L" * (MAX_LOT_CODE + 1) + ",OAT,1,kg,,,,PLANT\n").encode()),  # too long
    st.builds(lambda c: f"{c},NOPE,1,kg,,,,PLANT\n".encode(), codes),  # unknown item
    st.builds(lambda c: f"{c},OAT,1,kg,2026-02-30,,,PLANT\n".encode(), codes),  # no such day
    st.builds(lambda c: f"{c},OAT,1,kg,,,,PL\xe9NT\n".encode("latin-1"), codes),  # not UTF-8
    st.builds(lambda c: f"{c},OAT,1,kg,,,,PL\x00NT\n".encode(), codes),  # a NUL
    st.just(b",OAT,1,kg,,,,PLANT\n"),  # no code
    st.builds(lambda c: f'"{c},OAT,1,kg,,,,PLANT\n'.encode(), codes),  # a quote never closed
)


def _count(url: str) -> int:
    with make_engine(url).connect() as connection:
        return int(connection.execute(select(func.count()).select_from(LOTS)).scalar_one())


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(good.map(lambda r: (True, r)), bad.map(lambda r: (False, r))), max_size=60)
)
def test_good_rows_always_load_and_bad_rows_are_always_named(
    drawn: list[tuple[bool, bytes]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        url = f"sqlite:///{directory / 'fuzz.db'}"
        init_schema(url)
        write_csv(directory, "items.csv", ITEMS)
        write_csv(directory, "parties.csv", PARTIES)
        (directory / "lots.csv").write_bytes(HEADER + b"".join(row for _, row in drawn))

        report = import_csv_dir(url, directory)

        bad_lines = {line for line, (ok, _) in enumerate(drawn, start=2) if not ok}
        assert {r.line for r in report.rejected if r.file == "lots.csv"} == bad_lines
        good_codes = {row.split(b",")[0] for ok, row in drawn if ok}
        assert _count(url) == len(good_codes)
