"""The engine on tiny inline plants, in both loading modes."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest

from trace_engine import AmbiguousLot, Genealogy, UnknownLot, UnknownParty
from trace_engine.memory import MemoryStore
from trace_engine.model import (
    AdjustmentFacts,
    Candidate,
    CommonLot,
    FormulaFacts,
    InputLine,
    MassBalance,
    Movement,
    OnHand,
    QcFacts,
)


@pytest.fixture(params=[True, False], ids=["preloaded", "lazy"])
def preload(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def chain(depth: int) -> MemoryStore:
    codes = [f"L{n}" for n in range(depth)]
    return MemoryStore.build(
        lots={code: "RAW" if n == 0 else "FIN" for n, code in enumerate(codes)},
        links=list(itertools.pairwise(codes)),
        shipments=[(codes[-1], "SYSCO", 10, "2026-11-05")],
    )


def diamond() -> MemoryStore:
    """OAT reaches GRAN by two paths: through BASE and directly."""
    return MemoryStore.build(
        lots={"OAT": "OAT", "HONEY": "RAW", "BASE": "BASE", "GRAN": "GRAN", "BAR": "BAR"},
        links=[
            ("OAT", "BASE", 300),
            ("HONEY", "BASE", 50),
            ("BASE", "GRAN", 200),
            ("OAT", "GRAN", 20),
            ("BASE", "BAR", 100),
        ],
        shipments=[
            ("GRAN", "SYSCO", 400, "2026-11-05"),
            ("GRAN", "FRESHMART", 300, "2026-11-06"),
            ("BAR", "SYSCO", 100, "2026-11-07"),
        ],
        receipts=[("OAT", "ACME", 1000, "2026-10-01"), ("HONEY", "BEES", 1000, "2026-10-02")],
    )


def test_downstream_follows_a_deep_chain(preload: bool) -> None:
    genealogy = Genealogy(chain(60), preload=preload)

    result = genealogy.downstream("L0")

    assert result.downstream_lots == tuple(sorted(f"L{n}" for n in range(1, 60)))
    assert result.customers == ("Sysco",)


def test_upstream_follows_a_deep_chain(preload: bool) -> None:
    genealogy = Genealogy(chain(60), preload=preload)

    result = genealogy.upstream("L59")

    assert result.upstream_lots == tuple(sorted(f"L{n}" for n in range(59)))
    assert result.inputs == (InputLine("L58", "Fin", 1.0, "kg"),)


def test_downstream_counts_a_diamond_once(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    result = genealogy.downstream("OAT")

    assert result.downstream_lots == ("BAR", "BASE", "GRAN")
    assert result.customers == ("Freshmart", "Sysco")
    assert result.shipments == (
        Movement("GRAN", "Sysco", 400, "kg", date(2026, 11, 5)),
        Movement("GRAN", "Freshmart", 300, "kg", date(2026, 11, 6)),
        Movement("BAR", "Sysco", 100, "kg", date(2026, 11, 7)),
    )


def test_upstream_lists_direct_inputs_and_suppliers_of_every_depth(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    result = genealogy.upstream("GRAN")

    assert result.upstream_lots == ("BASE", "HONEY", "OAT")
    assert result.inputs == (
        InputLine("BASE", "Base", 200, "kg"),
        InputLine("OAT", "Oat", 20, "kg"),
    )
    assert result.suppliers == ("Acme", "Bees")
    assert [r.lot for r in result.receipts] == ["OAT", "HONEY"]


def test_upstream_of_a_received_lot_names_its_own_supplier(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    result = genealogy.upstream("OAT")

    assert result.upstream_lots == ()
    assert result.suppliers == ("Acme",)


def test_downstream_of_several_lots_merges_them(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    result = genealogy.downstream(["HONEY", "OAT"])

    assert result.downstream_lots == ("BAR", "BASE", "GRAN")


def test_partial_shipments_leave_stock_on_hand(preload: bool) -> None:
    store = diamond()
    genealogy = Genealogy(store, preload=preload)

    info = genealogy.lot_info("GRAN").lot

    assert (info.quantity, info.on_hand, info.location) == (1000, 300, "Main Plant")


def test_mass_balance_counts_consumed_shipped_adjusted(preload: bool) -> None:
    store = diamond()
    store.adjustment_list.append(
        AdjustmentFacts(store.lot_id("BASE"), -50.0, datetime(2026, 11, 3), "scrap")
    )
    genealogy = Genealogy(store, preload=preload)

    assert genealogy.mass_balance("BASE") == MassBalance(
        lot="BASE",
        produced=1000,
        consumed=300,
        shipped=0,
        on_hand=650,
        adjusted=-50,
        unaccounted=0,
        uom="kg",
        inputs_consumed=350,
    )


def test_mass_balance_reports_more_out_than_made(preload: bool) -> None:
    store = MemoryStore.build(
        lots={"A": "RAW", "B": "FIN"},
        links=[("A", "B", 120)],
        quantities={"A": 100},
    )

    balance = Genealogy(store, preload=preload).mass_balance("A")

    assert (balance.on_hand, balance.unaccounted) == (0, -20)


def test_recall_scopes_stock_customers_and_checklist(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    recall = genealogy.recall(["HONEY"])

    assert recall.affected_lots == ("BAR", "BASE", "GRAN", "HONEY")
    assert recall.on_hand == (
        OnHand("BAR", "Main Plant", 900, "kg"),
        OnHand("BASE", "Main Plant", 700, "kg"),
        OnHand("GRAN", "Main Plant", 300, "kg"),
        OnHand("HONEY", "Main Plant", 950, "kg"),
    )
    assert recall.customers == ("Freshmart", "Sysco")
    assert [step.step for step in recall.checklist] == [
        "Hold on-hand stock",
        "Notify Freshmart",
        "Notify Sysco",
        "Notify supplier Bees",
        "Regulatory notice",
        "Reconcile the mass balance",
        "Record effectiveness checks",
    ]
    notify_sysco = recall.checklist[2].detail
    assert "GRAN 400 kg shipped 2026-11-05" in notify_sysco
    assert "BAR 100 kg shipped 2026-11-07" in notify_sysco
    assert "sysco@example.com" in notify_sysco


def test_common_source_finds_the_shared_ingredient(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    result = genealogy.common_source(["GRAN", "BAR"])

    assert result.common_lots == ("HONEY", "OAT", "BASE")
    assert result.details[0] == CommonLot("HONEY", "Raw", "Bees")


def test_shared_lot_code_asks_which_item(preload: bool) -> None:
    store = MemoryStore.build(lots=[("12", "GRAN"), ("12", "BAR"), ("OAT", "OAT")], links=[])
    genealogy = Genealogy(store, preload=preload)

    with pytest.raises(AmbiguousLot) as raised:
        genealogy.downstream("12")

    assert raised.value.candidates == (
        Candidate("12", "Gran", "GRAN"),
        Candidate("12", "Bar", "BAR"),
    )
    assert str(raised.value) == "Lot 12 exists for Gran and for Bar: which one?"
    assert genealogy.downstream("12", sku="BAR").downstream_lots == ()


def test_unknown_lot_is_reported(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    with pytest.raises(UnknownLot, match=r"^I can't find lot 9999\.$"):
        genealogy.upstream("9999")


def test_lot_codes_match_in_any_case(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    assert genealogy.upstream("gran").suppliers == ("Acme", "Bees")


def test_qc_status_lists_checks_oldest_first(preload: bool) -> None:
    store = diamond()
    gran = store.lot_id("GRAN")
    store.qc_list += [
        QcFacts(gran, "moisture", "pass", datetime(2026, 11, 4, 9), "3%", "<= 4%", "Ana", "Tom"),
        QcFacts(
            gran, "aflatoxin", "fail", datetime(2026, 11, 3, 9), "22 ppb", "<= 20", "Ana", None
        ),
    ]

    checks = Genealogy(store, preload=preload).qc_status("GRAN").checks

    assert [(c.test, c.result, c.signed_off_by) for c in checks] == [
        ("aflatoxin", "fail", None),
        ("moisture", "pass", "Tom"),
    ]


def test_expiring_skips_lots_used_up_and_keeps_shipped_ones(preload: bool) -> None:
    store = diamond()
    for code in ("OAT", "GRAN"):
        store.update_lot(code, expires_on=date(2026, 11, 28))
    store.update_lot("BASE", expires_on=date(2026, 11, 27), quantity=300.0)  # all consumed

    result = Genealogy(store, preload=preload).expiring(date(2026, 11, 25), date(2026, 12, 1))

    assert [(lot.lot, lot.on_hand, lot.shipped_to) for lot in result.lots] == [
        ("GRAN", 300, ("Freshmart", "Sysco")),
        ("OAT", 680, ()),
    ]


def test_supplier_and_customer_lots_in_a_window(preload: bool) -> None:
    genealogy = Genealogy(diamond(), preload=preload)

    received = genealogy.supplier_lots("acme", date(2026, 10, 1), date(2026, 10, 31))
    shipped = genealogy.customer_lots("sysco", date(2026, 11, 6), None)

    assert (received.party, [lot.lot for lot in received.lots]) == ("Acme", ["OAT"])
    assert (shipped.party, [lot.lot for lot in shipped.lots]) == ("Sysco", ["BAR"])
    with pytest.raises(UnknownParty):
        genealogy.customer_lots("Walmart", None, None)


def test_formula_changes_and_the_version_that_made_a_lot(preload: bool) -> None:
    store = diamond()
    store.update_lot("GRAN", produced_on=date(2026, 11, 2))
    gran = store.lot_list[store.lot_id("GRAN") - 1].item_id
    store.formula_list += [
        FormulaFacts(gran, "1", date(2026, 1, 1), "Ana", "first recipe"),
        FormulaFacts(gran, "2", date(2026, 11, 1), "Tom", "less honey"),
        FormulaFacts(gran, "3", date(2026, 11, 20), "Tom", "new oats supplier"),
    ]
    genealogy = Genealogy(store, preload=preload)

    result = genealogy.formula_changes(lot="GRAN")

    assert [c.version for c in result.changes] == ["1", "2", "3"]
    assert result.lot_version == "2"
    assert genealogy.formula_changes("gran").changes[-1].summary == "new oats supplier"


def test_genealogy_catches_up_when_the_store_changes(preload: bool) -> None:
    store = diamond()
    genealogy = Genealogy(store, preload=preload)
    assert genealogy.downstream("GRAN").downstream_lots == ()

    store.lot_list.append(type(store.lot_list[0])(len(store.lot_list) + 1, "CASE-1", 1))
    store.lot_revisions[len(store.lot_list)] = store.version + 1
    store.link_list.append(type(store.link_list[0])(store.lot_id("GRAN"), store.lot_id("CASE-1")))
    store.version += 1

    assert genealogy.downstream("GRAN").downstream_lots == ("CASE-1",)
