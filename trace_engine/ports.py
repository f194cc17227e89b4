"""What the engine reads, as a Protocol that `storage` implements over SQL.

The engine never imports a database library: it asks a ``GenealogyStore`` for
facts by id, and for whole closures of the genealogy when it answers one question
without loading the whole plant.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Protocol

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

__all__ = ["GenealogyStore"]


class GenealogyStore(Protocol):
    """Read access to a plant's records."""

    def data_version(self) -> int:
        """A number that grows with every committed change."""
        ...

    def items(self) -> Sequence[ItemFacts]:
        """Every item."""
        ...

    def parties(self) -> Sequence[PartyFacts]:
        """Every party."""
        ...

    def lots_by_code(self, code: str) -> Sequence[LotFacts]:
        """The lots with this code (one per item sharing it)."""
        ...

    def lots(self, ids: Collection[int]) -> Sequence[LotFacts]:
        """The lots with these ids."""
        ...

    def lots_changed_since(self, version: int) -> Sequence[LotFacts]:
        """Lots written after data version ``version`` (every lot for -1)."""
        ...

    def edges_after(
        self, link_id: int
    ) -> tuple[Sequence[tuple[int, int, float | None, str | None]], int]:
        """(input, output, quantity, unit) of links with id above ``link_id``, and the highest id."""
        ...

    def closure(self, ids: Collection[int], *, downstream: bool) -> Sequence[tuple[int, int]]:
        """The (input, output) links reachable from ``ids`` in one direction."""
        ...

    def links(
        self, *, inputs: Collection[int] = (), outputs: Collection[int] = ()
    ) -> Sequence[LinkFacts]:
        """Links whose input is in ``inputs`` or whose output is in ``outputs``."""
        ...

    def shipments(self, lot_ids: Collection[int]) -> Sequence[ShipmentFacts]:
        """Shipments of these lots."""
        ...

    def shipments_after(self, shipment_id: int) -> tuple[Sequence[ShipmentFacts], int]:
        """Shipments with id above ``shipment_id``, and the highest id."""
        ...

    def receipts(self, lot_ids: Collection[int]) -> Sequence[ReceiptFacts]:
        """Receipts of these lots."""
        ...

    def receipts_after(self, receipt_id: int) -> tuple[Sequence[ReceiptFacts], int]:
        """Receipts with id above ``receipt_id``, and the highest id."""
        ...

    def qc_checks(self, lot_ids: Collection[int]) -> Sequence[QcFacts]:
        """QC checks of these lots."""
        ...

    def holds(self, lot_ids: Collection[int]) -> Sequence[HoldFacts]:
        """Holds placed on these lots, open or released."""
        ...

    def adjustments(self, lot_ids: Collection[int]) -> Sequence[AdjustmentFacts]:
        """Inventory adjustments of these lots."""
        ...

    def formula_versions(self, item_ids: Collection[int]) -> Sequence[FormulaFacts]:
        """Formula versions of these items."""
        ...

    def lots_in_unit(self, sscc: str) -> Sequence[int]:
        """Ids of the lots a logistic unit (SSCC) holds, through nested units."""
        ...

    def lots_expiring(self, since: date, until: date) -> Sequence[LotFacts]:
        """Lots whose expiry date falls in [since, until]."""
        ...

    def shipments_to(
        self, party_id: int, since: date | None, until: date | None
    ) -> Sequence[ShipmentFacts]:
        """Shipments to a party, optionally in a date window."""
        ...

    def receipts_from(
        self, party_id: int, since: date | None, until: date | None
    ) -> Sequence[ReceiptFacts]:
        """Receipts from a supplier, optionally in a date window."""
        ...
