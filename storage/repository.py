"""The engine's :class:`~trace_engine.ports.GenealogyStore`, over SQL.

Every method is one or a few indexed queries; id lists are sent in chunks so a
recall over thousands of lots stays within the databases' parameter limits. The
genealogy closure is a recursive CTE, so a single question never reads the
whole plant.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine, require_schema
from storage.errors import DatabaseUnavailable
from storage.tables import (
    ADJUSTMENTS,
    FORMULAS,
    HOLDS,
    ITEMS,
    LINKS,
    LOTS,
    PACKING,
    PARTIES,
    QC_CHECKS,
    RECEIPTS,
    SHIPMENTS,
)
from storage.versioning import DATA_VERSION
from trace_engine.genealogy import Genealogy, plain_code
from trace_engine.model import (
    AdjustmentFacts,
    FormulaFacts,
    HoldFacts,
    ItemFacts,
    LinkFacts,
    LotFacts,
    PartyFacts,
    QcFacts,
    ReceiptFacts,
    ShipmentFacts,
)

__all__ = ["SqlStore", "load_genealogy"]

CHUNK = 5_000
_VERSION_SQL = {
    True: "SELECT value FROM meta WHERE key = ?",
    False: "SELECT value FROM meta WHERE key = %s",
}
T = TypeVar("T")


_LOT_COLUMNS = (
    LOTS.c.id,
    LOTS.c.lot_code,
    LOTS.c.item_id,
    LOTS.c.quantity,
    LOTS.c.uom,
    LOTS.c.produced_on,
    LOTS.c.received_on,
    LOTS.c.expires_on,
    LOTS.c.status,
    LOTS.c.site_id,
)
QC_COLUMNS = (
    QC_CHECKS.c.lot_id,
    QC_CHECKS.c.test,
    QC_CHECKS.c.result,
    QC_CHECKS.c.at,
    QC_CHECKS.c.value,
    QC_CHECKS.c.spec,
    QC_CHECKS.c.performed_by,
    QC_CHECKS.c.signed_off_by,
)
"""The columns of a QC check in the order of QcFacts."""
SHIPMENT_COLUMNS = (
    SHIPMENTS.c.lot_id,
    SHIPMENTS.c.party_id,
    SHIPMENTS.c.quantity,
    SHIPMENTS.c.uom,
    SHIPMENTS.c.shipped_on,
    SHIPMENTS.c.reference,
    SHIPMENTS.c.from_site_id,
)
_RECEIPT_COLUMNS = (
    RECEIPTS.c.lot_id,
    RECEIPTS.c.supplier_id,
    RECEIPTS.c.supplier_lot,
    RECEIPTS.c.quantity,
    RECEIPTS.c.uom,
    RECEIPTS.c.received_on,
    RECEIPTS.c.reference,
    RECEIPTS.c.site_id,
)


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    ordered = list(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


class SqlStore:
    """Reads a plant's records from an SQLite or PostgreSQL database."""

    def __init__(self, url: str) -> None:
        require_schema(url)
        self.url = url
        self.engine: Engine = make_engine(url)
        self._version_lock = threading.Lock()
        self._version_connection: Any = None

    def _all(self, statement: Select[Any], make: Callable[..., T]) -> list[T]:
        with self.engine.connect() as connection:
            return [make(*row) for row in connection.execute(statement)]

    def _by_ids(
        self,
        statement: Select[Any],
        column: ColumnElement[Any],
        ids: Collection[int],
        make: Callable[..., T],
    ) -> list[T]:
        if not ids:
            return []
        with self.engine.connect() as connection:
            return [
                make(*row)
                for chunk in _chunks(ids)
                for row in connection.execute(statement.where(column.in_(chunk)))
            ]

    def data_version(self) -> int:
        """The data version, read on one dedicated driver connection.

        Every warm question starts by asking this, so it skips the pool and the
        ORM: a few microseconds on SQLite, one round trip on PostgreSQL.

        Raises:
            DatabaseUnavailable: the database cannot be reached (twice in a row).
        """
        try:
            return self._read_version()
        except (DBAPIError, self.engine.dialect.loaded_dbapi.Error) as err:
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise DatabaseUnavailable(self.url, reason) from err

    def _read_version(self) -> int:
        with self._version_lock:
            for attempt in (1, 2):
                if self._version_connection is None:
                    self._version_connection = self.engine.raw_connection()
                    if self.engine.dialect.name == "postgresql":
                        self._version_connection.driver_connection.autocommit = True
                try:
                    cursor = self._version_connection.cursor()
                    cursor.execute(
                        _VERSION_SQL[self.engine.dialect.paramstyle == "qmark"], (DATA_VERSION,)
                    )
                    row = cursor.fetchone()
                    cursor.close()
                    return int(row[0]) if row else 0
                except self.engine.dialect.loaded_dbapi.Error:
                    self._version_connection.invalidate()
                    self._version_connection = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def items(self) -> Sequence[ItemFacts]:
        return self._all(
            select(
                ITEMS.c.id,
                ITEMS.c.sku,
                ITEMS.c.name,
                ITEMS.c.kind,
                ITEMS.c.uom,
                ITEMS.c.shelf_life_days,
                ITEMS.c.gtin,
                ITEMS.c.temperature_min,
                ITEMS.c.temperature_max,
                ITEMS.c.qc_release,
                ITEMS.c.overdraw_tolerance,
            ),
            ItemFacts,
        )

    def parties(self) -> Sequence[PartyFacts]:
        return self._all(
            select(
                PARTIES.c.id,
                PARTIES.c.code,
                PARTIES.c.name,
                PARTIES.c.kind,
                PARTIES.c.gln,
                PARTIES.c.email,
                PARTIES.c.phone,
            ),
            PartyFacts,
        )

    def lots_by_code(self, code: str) -> Sequence[LotFacts]:
        exact = self._all(select(*_LOT_COLUMNS).where(LOTS.c.lot_code == code), LotFacts)
        if exact:
            return exact
        # People type codes in any case and hear them without dashes; these scans run
        # only when the exact look-up fails.
        upper = self._all(
            select(*_LOT_COLUMNS).where(func.upper(LOTS.c.lot_code) == code.upper()), LotFacts
        )
        if upper:
            return upper
        plain = func.upper(LOTS.c.lot_code)
        for separator in ("-", " ", "/", ".", "_"):
            plain = func.replace(plain, separator, "")
        return self._all(select(*_LOT_COLUMNS).where(plain == plain_code(code)), LotFacts)

    def lots(self, ids: Collection[int]) -> Sequence[LotFacts]:
        return self._by_ids(select(*_LOT_COLUMNS), LOTS.c.id, ids, LotFacts)

    def lots_changed_since(self, version: int) -> Sequence[LotFacts]:
        return self._all(select(*_LOT_COLUMNS).where(LOTS.c.revision > version), LotFacts)

    def edges_after(
        self, link_id: int
    ) -> tuple[Sequence[tuple[int, int, float | None, str | None]], int]:
        statement = select(
            LINKS.c.id, LINKS.c.input_lot_id, LINKS.c.output_lot_id, LINKS.c.quantity, LINKS.c.uom
        ).where(LINKS.c.id > link_id)
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        highest = max((row[0] for row in rows), default=link_id)
        return [(row[1], row[2], row[3], row[4]) for row in rows], highest

    def closure(self, ids: Collection[int], *, downstream: bool) -> Sequence[tuple[int, int]]:
        if not ids:
            return []
        near, far = (
            (LINKS.c.input_lot_id, LINKS.c.output_lot_id)
            if downstream
            else (LINKS.c.output_lot_id, LINKS.c.input_lot_id)
        )
        start = select(LOTS.c.id.label("id")).where(LOTS.c.id.in_(list(ids)))
        reach = start.cte("reach", recursive=True)
        reach = reach.union(select(far.label("id")).join_from(LINKS, reach, near == reach.c.id))
        statement = select(LINKS.c.input_lot_id, LINKS.c.output_lot_id).where(
            near.in_(select(reach.c.id))
        )
        with self.engine.connect() as connection:
            return [(row[0], row[1]) for row in connection.execute(statement)]

    def links(
        self, *, inputs: Collection[int] = (), outputs: Collection[int] = ()
    ) -> Sequence[LinkFacts]:
        statement = select(
            LINKS.c.input_lot_id,
            LINKS.c.output_lot_id,
            LINKS.c.quantity,
            LINKS.c.uom,
            LINKS.c.at,
            LINKS.c.work_order,
        )
        found = self._by_ids(statement, LINKS.c.input_lot_id, inputs, LinkFacts)
        seen = {(link.input_id, link.output_id, link.work_order, link.at) for link in found}
        for link in self._by_ids(statement, LINKS.c.output_lot_id, outputs, LinkFacts):
            if (link.input_id, link.output_id, link.work_order, link.at) not in seen:
                found.append(link)
        return found

    def shipments(self, lot_ids: Collection[int]) -> Sequence[ShipmentFacts]:
        return self._by_ids(select(*SHIPMENT_COLUMNS), SHIPMENTS.c.lot_id, lot_ids, ShipmentFacts)

    def shipments_after(self, shipment_id: int) -> tuple[Sequence[ShipmentFacts], int]:
        return self._after(SHIPMENTS, SHIPMENT_COLUMNS, shipment_id, ShipmentFacts)

    def receipts(self, lot_ids: Collection[int]) -> Sequence[ReceiptFacts]:
        return self._by_ids(select(*_RECEIPT_COLUMNS), RECEIPTS.c.lot_id, lot_ids, ReceiptFacts)

    def receipts_after(self, receipt_id: int) -> tuple[Sequence[ReceiptFacts], int]:
        return self._after(RECEIPTS, _RECEIPT_COLUMNS, receipt_id, ReceiptFacts)

    def _after(
        self, table: Any, columns: tuple[Any, ...], row_id: int, make: Callable[..., T]
    ) -> tuple[Sequence[T], int]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.id, *columns).where(table.c.id > row_id)).all()
        highest = max((row[0] for row in rows), default=row_id)
        return [make(*row[1:]) for row in rows], highest

    def qc_checks(self, lot_ids: Collection[int]) -> Sequence[QcFacts]:
        return self._by_ids(select(*QC_COLUMNS), QC_CHECKS.c.lot_id, lot_ids, QcFacts)

    def holds(self, lot_ids: Collection[int]) -> Sequence[HoldFacts]:
        statement = select(
            HOLDS.c.lot_id,
            HOLDS.c.placed_at,
            HOLDS.c.reason,
            HOLDS.c.placed_by,
            HOLDS.c.released_at,
            HOLDS.c.released_by,
        )
        return self._by_ids(statement, HOLDS.c.lot_id, lot_ids, HoldFacts)

    def adjustments(self, lot_ids: Collection[int]) -> Sequence[AdjustmentFacts]:
        statement = select(
            ADJUSTMENTS.c.lot_id,
            ADJUSTMENTS.c.quantity,
            ADJUSTMENTS.c.at,
            ADJUSTMENTS.c.reason,
            ADJUSTMENTS.c.by,
        )
        return self._by_ids(statement, ADJUSTMENTS.c.lot_id, lot_ids, AdjustmentFacts)

    def formula_versions(self, item_ids: Collection[int]) -> Sequence[FormulaFacts]:
        statement = select(
            FORMULAS.c.item_id,
            FORMULAS.c.version,
            FORMULAS.c.effective_from,
            FORMULAS.c.changed_by,
            FORMULAS.c.summary,
            FORMULAS.c.ingredients,
        )
        return self._by_ids(statement, FORMULAS.c.item_id, item_ids, FormulaFacts)

    def lots_in_unit(self, sscc: str) -> Sequence[int]:
        found: list[int] = []
        units, seen = [sscc], {sscc}
        with self.engine.connect() as connection:
            while units and len(seen) < 1000:
                rows = connection.execute(
                    select(PACKING.c.lot_id, PACKING.c.child_sscc).where(
                        PACKING.c.sscc.in_(units), PACKING.c.unpacked_at.is_(None)
                    )
                ).all()
                found.extend(lot_id for lot_id, _ in rows if lot_id is not None)
                units = [child for _, child in rows if child and child not in seen]
                seen.update(units)
        return list(dict.fromkeys(found))

    def lots_expiring(self, since: date, until: date) -> Sequence[LotFacts]:
        return self._all(
            select(*_LOT_COLUMNS).where(LOTS.c.expires_on.between(since, until)), LotFacts
        )

    def shipments_to(
        self, party_id: int, since: date | None, until: date | None
    ) -> Sequence[ShipmentFacts]:
        statement = select(*SHIPMENT_COLUMNS).where(SHIPMENTS.c.party_id == party_id)
        return self._all(_window(statement, SHIPMENTS.c.shipped_on, since, until), ShipmentFacts)

    def receipts_from(
        self, party_id: int, since: date | None, until: date | None
    ) -> Sequence[ReceiptFacts]:
        statement = select(*_RECEIPT_COLUMNS).where(RECEIPTS.c.supplier_id == party_id)
        return self._all(_window(statement, RECEIPTS.c.received_on, since, until), ReceiptFacts)


def _window(
    statement: Select[Any], column: Any, since: date | None, until: date | None
) -> Select[Any]:
    if since is not None:
        statement = statement.where(column >= since)
    if until is not None:
        statement = statement.where(column <= until)
    return statement


def load_genealogy(url: str, *, preload: bool = True) -> Genealogy:
    """The genealogy of the plant in the database at ``url``.

    With ``preload`` (the default, for servers) the whole graph loads now and
    keeps itself current; without it, each question loads only what it reaches.
    """
    genealogy = Genealogy(SqlStore(url), preload=preload)
    if preload:
        genealogy.refresh()
        # Millions of long-lived objects: keep the cyclic collector from walking
        # them all again and again (each pass would stall a query for a second).
        gc.collect()
        gc.freeze()
    return genealogy
