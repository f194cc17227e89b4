"""An answer narrowed to the party, item or site a question names.

"Did any of 4471 go to Sysco?" is the trace of 4471 seen from Sysco; "what raisins
are in 4480?" its inputs of one item; "what expires at the cold store?" the
expiring lots of one site. Each narrowing says what it did in a lead sentence, and
where nothing matches it says so and keeps the whole answer, so that a filter never
hides what the question was about.

Example:
    >>> from trace_engine.model import Downstream, Movement
    >>> trace = Downstream(("4471",), (Movement("4471", "Sysco", 10, "ea", None),
    ...                                Movement("4471", "FreshMart", 5, "ea", None)),
    ...                    ("FreshMart", "Sysco"))
    >>> narrowed = narrow(trace, ["4471"], party="Sysco")
    >>> narrowed.result.customers, narrowed.lead
    (('Sysco',), 'Sysco got lot 4471: 1 of 2 shipments.')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from trace_engine.model import (
    Downstream,
    Expiring,
    Holds,
    LotInfo,
    PartyLots,
    QcFailures,
    Upstream,
)

__all__ = ["Narrowed", "narrow"]


@dataclass(frozen=True)
class Narrowed:
    """An answer's result as narrowed, the sentence that says how, and the slots applied."""

    result: Any
    lead: str | None = None
    applied: dict[str, str] = field(default_factory=dict)


def _lots(codes: Sequence[str]) -> str:
    return "lot " + " and ".join(codes) if len(codes) < 3 else f"lots {', '.join(codes)}"


def _of(count: int, total: int, word: str) -> str:
    return f"{count} of {total} {word}{'' if total == 1 else 's'}"


def narrow(
    result: Any,
    lots: Sequence[str],
    *,
    party: str | None = None,
    item: str | None = None,
    site: str | None = None,
    item_of: Callable[[str], str | None] = lambda code: None,
) -> Narrowed:
    """``result`` kept to what ``party``, ``item`` or ``site`` name, where its kind of
    answer has them; ``item_of`` tells the item of a lot code.

    An item that is the named lot's own ("what went into the granola lot 4471")
    describes the lot and narrows nothing.
    """
    own = {item_of(code) for code in lots}
    if isinstance(result, Downstream) and party:
        return _downstream(result, lots, party)
    if isinstance(result, Upstream):
        if item and item not in own:
            return _upstream_item(result, lots, item, item_of)
        if party:
            return _upstream_party(result, lots, party)
    if isinstance(result, Expiring) and (item or site or party):
        return _expiring(result, item=item, site=site, party=party)
    if isinstance(result, PartyLots) and item:
        kept = tuple(line for line in result.lots if line.item == item)
        lead = f"Only {item}: {_of(len(kept), len(result.lots), 'lot')}."
        return Narrowed(replace(result, lots=kept), lead, {"item": item})
    if isinstance(result, LotInfo) and site and result.lot.location != site:
        where = result.lot.location or "no recorded site"
        return Narrowed(result, f"Lot {result.lot.lot} is not at {site}: its stock is at {where}.")
    if isinstance(result, Holds) and item:
        held = tuple(line for line in result.lots if line.item == item)
        lead = f"Only {item}: {_of(len(held), len(result.lots), 'lot')} on hold."
        return Narrowed(replace(result, lots=held), lead, {"item": item})
    if isinstance(result, QcFailures) and item:
        failed = tuple(check for check in result.checks if check.item == item)
        lead = f"Only {item}: {_of(len(failed), len(result.checks), 'failed check')}."
        return Narrowed(replace(result, checks=failed), lead, {"item": item})
    return Narrowed(result)


def _downstream(result: Downstream, lots: Sequence[str], party: str) -> Narrowed:
    shipped = tuple(line for line in result.shipments if line.party == party)
    if not shipped:
        elsewhere = f" It went to {', '.join(result.customers)}." if result.customers else ""
        return Narrowed(result, f"{party} got none of {_lots(lots)}.{elsewhere}")
    kept = replace(result, shipments=shipped, customers=(party,))
    lead = f"{party} got {_lots(lots)}: {_of(len(shipped), len(result.shipments), 'shipment')}."
    return Narrowed(kept, lead, {"party": party})


def _upstream_item(
    result: Upstream, lots: Sequence[str], item: str, item_of: Callable[[str], str | None]
) -> Narrowed:
    inputs = tuple(line for line in result.inputs if line.item == item)
    upstream = tuple(code for code in result.upstream_lots if item_of(code) == item)
    if not inputs and not upstream:
        return Narrowed(result, f"No {item} went into {_lots(lots)}; here is everything that did.")
    codes = set(upstream) | {line.lot for line in inputs}
    receipts = tuple(line for line in result.receipts if line.lot in codes)
    kept = Upstream(
        upstream_lots=tuple(sorted(codes)),
        inputs=inputs,
        suppliers=tuple(sorted({line.party for line in receipts})),
        receipts=receipts,
    )
    lead = (
        f"Only {item} in {_lots(lots)}: {_of(len(codes), len(result.upstream_lots), 'input lot')}."
    )
    return Narrowed(kept, lead, {"item": item})


def _upstream_party(result: Upstream, lots: Sequence[str], party: str) -> Narrowed:
    receipts = tuple(line for line in result.receipts if line.party == party)
    if not receipts:
        others = f" Its suppliers: {', '.join(result.suppliers)}." if result.suppliers else ""
        return Narrowed(result, f"Nothing from {party} went into {_lots(lots)}.{others}")
    codes = {line.lot for line in receipts}
    kept = Upstream(
        upstream_lots=tuple(sorted(codes)),
        inputs=tuple(line for line in result.inputs if line.lot in codes),
        suppliers=(party,),
        receipts=receipts,
    )
    lead = f"Only what {party} supplied: {_of(len(codes), len(result.upstream_lots), 'input lot')}."
    return Narrowed(kept, lead, {"party": party})


def _expiring(
    result: Expiring, *, item: str | None, site: str | None, party: str | None
) -> Narrowed:
    kept = result.lots
    applied: dict[str, str] = {}
    said: list[str] = []
    if item:
        kept = tuple(line for line in kept if line.item == item)
        applied["item"], said = item, [*said, item]
    if site:
        kept = tuple(line for line in kept if line.location == site)
        applied["site"], said = site, [*said, f"at {site}"]
    if party:
        kept = tuple(line for line in kept if party in line.shipped_to)
        applied["party"], said = party, [*said, f"shipped to {party}"]
    lead = f"Only {' '.join(said)}: {_of(len(kept), len(result.lots), 'lot')}."
    return Narrowed(replace(result, lots=kept), lead, applied)
