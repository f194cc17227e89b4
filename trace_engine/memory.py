"""An in-memory :class:`~trace_engine.ports.GenealogyStore`, for examples and tests.

``MemoryStore.build`` takes a plant written the short way: lots as ``code: sku``,
links as ``(input, output)`` pairs, shipments as ``(lot, customer, quantity,
date)``. Items, parties and dates get sensible defaults.

Example:
    >>> store = MemoryStore.build(lots={"A": "RAW", "B": "FIN"}, links=[("A", "B")])
    >>> [lot.lot_code for lot in store.lots_by_code("B")]
    ['B']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

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

__all__ = ["MemoryStore"]


@dataclass
class MemoryStore:
    """Plain lists of facts; ids are positions plus one."""

    item_list: list[ItemFacts] = field(default_factory=list)
    party_list: list[PartyFacts] = field(default_factory=list)
    lot_list: list[LotFacts] = field(default_factory=list)
    link_list: list[LinkFacts] = field(default_factory=list)
    shipment_list: list[ShipmentFacts] = field(default_factory=list)
    receipt_list: list[ReceiptFacts] = field(default_factory=list)
    qc_list: list[QcFacts] = field(default_factory=list)
    hold_list: list[HoldFacts] = field(default_factory=list)
    adjustment_list: list[AdjustmentFacts] = field(default_factory=list)
    formula_list: list[FormulaFacts] = field(default_factory=list)
    units: dict[str, list[int]] = field(default_factory=dict)
    version: int = 1
    lot_revisions: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        lots: dict[str, str] | Iterable[tuple[str, str]],
        links: Iterable[tuple[str, str] | tuple[str, str, float]] = (),
        shipments: Iterable[tuple[str, str, float, str]] = (),
        receipts: Iterable[tuple[str, str, float, str]] = (),
        quantities: dict[str, float] | None = None,
    ) -> MemoryStore:
        """A store from the short notation; ``quantities`` sets lots' sizes (default 1000)."""
        store = cls()
        pairs = list(lots.items()) if isinstance(lots, dict) else list(lots)
        for sku in dict.fromkeys(sku for _, sku in pairs):
            kind = "raw" if sku.startswith(("RAW", "OAT")) else "finished"
            store.add_item(sku=sku, name=sku.title(), kind=kind, uom="kg")
        for code, sku in pairs:
            item = next(i for i in store.item_list if i.sku == sku)
            amount = (quantities or {}).get(code, 1000.0)
            store.add_lot(code, item.id, quantity=amount, uom="kg", site="Main plant")
        for link in links:
            source, target = link[0], link[1]
            used = float(link[2]) if len(link) > 2 else 1.0
            store.link_list.append(
                LinkFacts(store.lot_id(source), store.lot_id(target), used, "kg")
            )
        for code, customer, amount, day in shipments:
            party = store.party_id(customer, "customer")
            store.shipment_list.append(
                ShipmentFacts(store.lot_id(code), party, amount, "kg", date.fromisoformat(day))
            )
        for code, supplier, amount, day in receipts:
            party = store.party_id(supplier, "supplier")
            store.receipt_list.append(
                ReceiptFacts(
                    store.lot_id(code), party, f"S-{code}", amount, "kg", date.fromisoformat(day)
                )
            )
        return store

    # --- building ---------------------------------------------------------------------

    def add_item(self, *, sku: str, name: str, kind: str, uom: str) -> ItemFacts:
        item = ItemFacts(len(self.item_list) + 1, sku, name, kind, uom)
        self.item_list.append(item)
        return item

    def party_id(self, name: str, kind: str) -> int:
        """The id of the party called ``name``, added if new."""
        for party in self.party_list:
            if party.name == name.title() or party.code == name:
                return party.id
        party = PartyFacts(
            len(self.party_list) + 1, name, name.title(), kind, email=f"{name.lower()}@example.com"
        )
        self.party_list.append(party)
        return party.id

    def add_lot(self, code: str, item_id: int, **facts: object) -> LotFacts:
        site = facts.pop("site", None)
        site_id = self.party_id(str(site), "site") if site else None
        lot = LotFacts(len(self.lot_list) + 1, code, item_id, site_id=site_id, **facts)  # type: ignore[arg-type]
        self.lot_list.append(lot)
        self.lot_revisions[lot.id] = self.version
        return lot

    def update_lot(self, code: str, **changes: object) -> None:
        """Change a lot's facts as a write transaction would (the version moves on)."""
        self.version += 1
        lot_id = self.lot_id(code)
        self.lot_list[lot_id - 1] = replace(self.lot_list[lot_id - 1], **changes)  # type: ignore[arg-type]
        self.lot_revisions[lot_id] = self.version

    def lot_id(self, code: str) -> int:
        return next(lot.id for lot in self.lot_list if lot.lot_code == code)

    # --- the GenealogyStore protocol ----------------------------------------------------

    def data_version(self) -> int:
        return self.version

    def items(self) -> Sequence[ItemFacts]:
        return list(self.item_list)

    def parties(self) -> Sequence[PartyFacts]:
        return list(self.party_list)

    def lots_by_code(self, code: str) -> Sequence[LotFacts]:
        exact = [lot for lot in self.lot_list if lot.lot_code.upper() == code.upper()]
        plain = "".join(ch for ch in code.upper() if ch.isalnum())
        return exact or [
            lot
            for lot in self.lot_list
            if "".join(ch for ch in lot.lot_code.upper() if ch.isalnum()) == plain
        ]

    def lots(self, ids: Collection[int]) -> Sequence[LotFacts]:
        wanted = set(ids)
        return [lot for lot in self.lot_list if lot.id in wanted]

    def lots_changed_since(self, version: int) -> Sequence[LotFacts]:
        return [lot for lot in self.lot_list if self.lot_revisions.get(lot.id, 0) > version]

    def edges_after(
        self, link_id: int
    ) -> tuple[Sequence[tuple[int, int, float | None, str | None]], int]:
        edges = [
            (link.input_id, link.output_id, link.quantity, link.uom)
            for link in self.link_list[link_id:]
        ]
        return edges, len(self.link_list)

    def closure(self, ids: Collection[int], *, downstream: bool) -> Sequence[tuple[int, int]]:
        frontier, seen, edges = list(ids), set(ids), []
        while frontier:
            lot_id = frontier.pop()
            for link in self.link_list:
                near, far = (
                    (link.input_id, link.output_id)
                    if downstream
                    else (link.output_id, link.input_id)
                )
                if near == lot_id:
                    edges.append((link.input_id, link.output_id))
                    if far not in seen:
                        seen.add(far)
                        frontier.append(far)
        return edges

    def links(
        self, *, inputs: Collection[int] = (), outputs: Collection[int] = ()
    ) -> Sequence[LinkFacts]:
        return [
            link for link in self.link_list if link.input_id in inputs or link.output_id in outputs
        ]

    def shipments(self, lot_ids: Collection[int]) -> Sequence[ShipmentFacts]:
        return [s for s in self.shipment_list if s.lot_id in lot_ids]

    def shipments_after(self, shipment_id: int) -> tuple[Sequence[ShipmentFacts], int]:
        return self.shipment_list[shipment_id:], len(self.shipment_list)

    def receipts(self, lot_ids: Collection[int]) -> Sequence[ReceiptFacts]:
        return [r for r in self.receipt_list if r.lot_id in lot_ids]

    def receipts_after(self, receipt_id: int) -> tuple[Sequence[ReceiptFacts], int]:
        return self.receipt_list[receipt_id:], len(self.receipt_list)

    def qc_checks(self, lot_ids: Collection[int]) -> Sequence[QcFacts]:
        return [c for c in self.qc_list if c.lot_id in lot_ids]

    def holds(self, lot_ids: Collection[int]) -> Sequence[HoldFacts]:
        return [h for h in self.hold_list if h.lot_id in lot_ids]

    def adjustments(self, lot_ids: Collection[int]) -> Sequence[AdjustmentFacts]:
        return [a for a in self.adjustment_list if a.lot_id in lot_ids]

    def formula_versions(self, item_ids: Collection[int]) -> Sequence[FormulaFacts]:
        return [f for f in self.formula_list if f.item_id in item_ids]

    def lots_in_unit(self, sscc: str) -> Sequence[int]:
        return list(self.units.get(sscc, []))

    def lots_expiring(self, since: date, until: date) -> Sequence[LotFacts]:
        return [lot for lot in self.lot_list if lot.expires_on and since <= lot.expires_on <= until]

    def shipments_to(
        self, party_id: int, since: date | None, until: date | None
    ) -> Sequence[ShipmentFacts]:
        return [
            s
            for s in self.shipment_list
            if s.party_id == party_id and _within(s.shipped_on, since, until)
        ]

    def receipts_from(
        self, party_id: int, since: date | None, until: date | None
    ) -> Sequence[ReceiptFacts]:
        return [
            r
            for r in self.receipt_list
            if r.supplier_id == party_id and _within(r.received_on, since, until)
        ]


def _within(day: date | datetime | None, since: date | None, until: date | None) -> bool:
    if day is None:
        return since is None and until is None
    return (since is None or day >= since) and (until is None or day <= until)
