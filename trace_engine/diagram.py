"""A trace drawn as a lineage diagram, in Graphviz's DOT language.

Suppliers stand at the left, the lots in the middle in the order they were made
(inputs before outputs), customers at the right. The named lots are outlined in
red. Past ``limit`` lots the diagram keeps those nearest to the named ones and
says how many it left out, so it stays legible.
"""

from __future__ import annotations

from collections import deque

from trace_engine.checklist import quantity
from trace_engine.genealogy import Genealogy, LotRef

__all__ = ["lineage_dot"]

COLOURS = {"raw": "#e8f1fb", "packaging": "#f1f1f1", "wip": "#fff4d6", "finished": "#e3f6e5"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _nearest(genealogy: Genealogy, named: list[int], scope: set[int], limit: int) -> set[int]:
    """Up to ``limit`` lots of ``scope``, nearest to the named ones first."""
    kept: set[int] = set()
    queue = deque(named)
    seen = set(named)
    while queue and len(kept) < limit:
        lot_id = queue.popleft()
        kept.add(lot_id)
        neighbours = [*genealogy.graph.predecessors(lot_id), *genealogy.graph.successors(lot_id)]
        for neighbour in sorted(neighbours):
            if neighbour in scope and neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return kept


def lineage_dot(
    genealogy: Genealogy, lots: LotRef, *, limit: int = 50, dpi: int | None = None
) -> str:
    """DOT source of the lineage diagram of ``lots``.

    Example:
        >>> from trace_engine.memory import MemoryStore
        >>> store = MemoryStore.build(lots={"A": "RAW", "B": "FIN"}, links=[("A", "B")])
        >>> "lot_1 -> lot_2" in lineage_dot(Genealogy(store), "B")
        True
    """
    named, scope = genealogy.scope(lots)
    shown = scope if len(scope) <= limit else _nearest(genealogy, named, scope, limit)
    lines = [
        "digraph lineage {",
        '  graph [rankdir=LR, fontname="DejaVu Sans", fontsize=11, nodesep=0.25, ranksep=0.6, '
        + (f"dpi={dpi}, " if dpi else "")
        + "labelloc=t, label="
        + _quote(f"Lineage of lot {', '.join(genealogy.code(i) for i in named)}")
        + "];",
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=10, '
        'color="#7a7a7a", fillcolor="#ffffff"];',
        '  edge [color="#8a8a8a", arrowsize=0.6, fontname="DejaVu Sans", fontsize=8];',
    ]
    for lot_id in sorted(shown, key=genealogy.code):
        lot = genealogy.lot(lot_id)
        item = genealogy.item(lot.item_id)
        label = f"{lot.lot_code}\n{item.name}"
        if lot.status != "released":
            label += f"\n[{lot.status.replace('_', ' ')}]"
        style = ', color="#c62828", penwidth=2.2' if lot_id in named else ""
        lines.append(
            f"  lot_{lot_id} [label={_quote(label)}, fillcolor={_quote(COLOURS.get(item.kind, '#ffffff'))}{style}];"
        )
    for source, target in sorted(genealogy.graph.subgraph(shown).edges()):
        lines.append(f"  lot_{source} -> lot_{target};")
    suppliers: set[int] = set()
    for receipt in genealogy.receipts_of(shown):
        suppliers.add(receipt.supplier_id)
        lines.append(f"  party_{receipt.supplier_id} -> lot_{receipt.lot_id};")
    customers: set[int] = set()
    for shipment in genealogy.shipments_of(shown):
        customers.add(shipment.party_id)
        amount = quantity(shipment.quantity, shipment.uom or genealogy.lot(shipment.lot_id).uom)
        lines.append(
            f"  lot_{shipment.lot_id} -> party_{shipment.party_id} [label={_quote(amount)}];"
        )
    for group, ids, colour in (("source", suppliers, "#dbe7f7"), ("sink", customers, "#f7e1d7")):
        if not ids:
            continue
        members = " ".join(f"party_{party_id};" for party_id in sorted(ids))
        lines.append(f"  {{ rank={group}; {members} }}")
        for party_id in sorted(ids):
            party = genealogy.party(party_id)
            lines.append(
                f"  party_{party_id} [label={_quote(party.name)}, shape=box, style=filled, fillcolor={_quote(colour)}];"
            )
    if len(shown) < len(scope):
        note = f"…and {len(scope) - len(shown)} more lots\n(see the spreadsheet)"
        lines.append(
            f'  more [label={_quote(note)}, shape=note, style=filled, fillcolor="#fafafa"];'
        )
    lines.append("}")
    return "\n".join(lines)
