"""The demo plant: Hillside Granola Co., a small granola and snack-bar maker.

Deterministic for a given anchor day (the day the demo was first loaded), with
every date set relative to it, so "what expires in the next 7 days?" always has
an answer. It is written as CSV files in the contract's format and loaded with
the ordinary importer, so the demo also shows what a plant's export looks like.

What it holds, for the README's questions:

* suppliers of oats, honey, almonds, raisins and packaging; customers Sysco,
  FreshMart and GreenBasket, and Metro, a distributor;
* received lots -> toasted oat base (``L-2024-0113``, ``240115-03``) -> finished
  granola and bars (``4471``, ``4480``, ``5120``, ``5133``), with a diamond
  (honey ``HN-0912`` reaches ``4471`` directly and through the base);
* ``4471`` and ``4480`` share almond lot ``ALM-5531`` and the base;
* partial shipments (``4471`` went to three customers and has stock left);
* a failed QC check on ``5120`` (moisture over spec), which is on hold;
* ``5133`` shipped before its QC release; ``4398`` and ``4402`` expire within a
  week; honey ``HN-0877`` expired with stock left;
* lot code ``12`` used by two items; a released hold; formula version 2 of the
  honey almond granola three weeks before the anchor; two adjustments.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from storage.db import init_schema, make_engine
from storage.importers.csv_import import import_csv_dir
from storage.importers.report import ImportReport
from storage.tables import META

__all__ = ["DEMO_FILES", "EXAMPLE_QUESTIONS", "load_demo", "write_demo_csv"]

ANCHOR_KEY = "demo_anchor"

EXAMPLE_QUESTIONS = (
    "who got lot 4471?",
    "what went into L-2024-0113?",
    "when does 4471 expire?",
    "did 5120 pass QC?",
    "what expires in the next 7 days?",
    "mock recall on ALM-5531",
    "what did Acme send us in the last 30 days?",
    "what did Sysco get in the last 30 days?",
    "what do 4471 and 4480 have in common?",
    "reconcile lot 4471",
    "what changed in the honey almond granola recipe?",
    "where did batch 240115-03 go?",
    "tell me about lot A12B",
    "what went into lot 12?",
)

DEMO_FILES = (
    "items.csv",
    "parties.csv",
    "lots.csv",
    "receipts.csv",
    "formulas.csv",
    "consumption.csv",
    "shipments.csv",
    "qc.csv",
    "holds.csv",
    "adjustments.csv",
)

ITEMS = [
    ("OAT-ROLLED", "Rolled oats", "raw", "kg", 365, ""),
    ("HONEY-CLOVER", "Clover honey", "raw", "kg", 730, ""),
    ("ALMOND-SLICED", "Sliced almonds", "raw", "kg", 270, ""),
    ("RAISIN-THOMPSON", "Thompson raisins", "raw", "kg", 365, ""),
    ("OIL-SUNFLOWER", "Sunflower oil", "raw", "l", 365, ""),
    ("SALT-SEA", "Sea salt", "raw", "kg", 1825, ""),
    ("FILM-PP", "Printed PP film bag", "packaging", "ea", 1095, ""),
    ("CARTON-12", "Shipping carton, 12 units", "packaging", "ea", 1095, ""),
    ("BASE-TOAST", "Toasted oat base", "wip", "kg", 60, ""),
    ("GRAN-HA-500", "Honey Almond Granola 500 g", "finished", "ea", 270, "00614141000418"),
    ("BAR-TRAIL-12", "Trail Mix Bar 12-pack", "finished", "ea", 240, "00614141000425"),
    ("GRAN-RC-500", "Raisin Crunch Granola 500 g", "finished", "ea", 270, "00614141000432"),
]

PARTIES = [
    (
        "ACME",
        "Acme Grain Co.",
        "supplier",
        "0614141000005",
        "orders@acmegrain.example",
        "+1 555 0100",
    ),
    ("BEES", "Busy Bees Apiaries", "supplier", "", "sales@busybees.example", "+1 555 0111"),
    ("NUTCO", "Valley Nut Company", "supplier", "", "qa@valleynut.example", "+1 555 0122"),
    ("SUNDRY", "Sundried Fruit Traders", "supplier", "", "trade@sundried.example", "+1 555 0133"),
    ("PACK", "PackRight Packaging", "supplier", "", "service@packright.example", "+1 555 0144"),
    ("SYSCO", "Sysco", "customer", "", "recalls@sysco.example", "+1 555 0199"),
    ("FRESH", "FreshMart Grocers", "customer", "", "buyer@freshmart.example", "+1 555 0188"),
    ("GREEN", "GreenBasket Online", "customer", "", "ops@greenbasket.example", "+1 555 0177"),
    ("METRO", "Metro Food Distributors", "distributor", "", "qa@metrofood.example", "+1 555 0166"),
    ("PLANT", "Hillside main plant", "site", "", "", "+1 555 0150"),
    ("COLD", "Riverside cold store", "site", "", "", "+1 555 0155"),
    ("FASTF", "FastFreight Logistics", "carrier", "", "dispatch@fastfreight.example", ""),
]

# Received lots: code, sku, supplier, supplier's lot, quantity, received (days from anchor), PO.
RECEIPTS = [
    ("R-OAT-1907", "OAT-ROLLED", "ACME", "AC-70233", 5000, -300, "PO-4410"),
    ("HN-0877", "HONEY-CLOVER", "BEES", "BB-2302-07", 600, -400, "PO-4388"),
    ("SALT-77", "SALT-SEA", "ACME", "AC-S-0077", 300, -200, "PO-4517"),
    ("FILM-9001", "FILM-PP", "PACK", "PR-229001", 20000, -70, "PO-4602"),
    ("CTN-4410", "CARTON-12", "PACK", "PR-114410", 5000, -70, "PO-4602"),
    ("R-OAT-2231", "OAT-ROLLED", "ACME", "AC-77812", 5000, -60, "PO-4611"),
    ("OIL-3301", "OIL-SUNFLOWER", "ACME", "AC-O-3301", 400, -55, "PO-4611"),
    ("HN-0912", "HONEY-CLOVER", "BEES", "BB-2409-12", 800, -50, "PO-4620"),
    ("ALM-5531", "ALMOND-SLICED", "NUTCO", "VN-5531A", 1200, -45, "PO-4625"),
    ("RS-118", "RAISIN-THOMPSON", "SUNDRY", "SF-118", 600, -40, "PO-4631"),
    ("R-OAT-2260", "OAT-ROLLED", "ACME", "AC-78102", 5000, -20, "PO-4660"),
    ("ALM-5602", "ALMOND-SLICED", "NUTCO", "VN-5602C", 1000, -15, "PO-4668"),
    ("A12B", "HONEY-CLOVER", "BEES", "BB-2411-02", 500, -14, "PO-4675"),
]

# Made lots: code, sku, quantity, produced (days from anchor), site.
MADE = [
    ("4398", "GRAN-HA-500", 2400, -266, "COLD"),
    ("4402", "BAR-TRAIL-12", 1200, -234, "COLD"),
    ("L-2024-0113", "BASE-TOAST", 2000, -30, "PLANT"),
    ("4471", "GRAN-HA-500", 4000, -25, "COLD"),
    ("4480", "BAR-TRAIL-12", 2400, -22, "COLD"),
    ("240115-03", "BASE-TOAST", 2000, -12, "PLANT"),
    ("12", "BASE-TOAST", 500, -8, "PLANT"),
    ("5120", "GRAN-RC-500", 3000, -6, "PLANT"),
    ("12", "BAR-TRAIL-12", 600, -5, "COLD"),
    ("5133", "GRAN-HA-500", 3000, -3, "COLD"),
]

# Consumption: output, input, quantity, unit, day, work order.
CONSUMPTION = [
    ("4398", "R-OAT-1907", 900, "kg", -266, "WO-3120"),
    ("4398", "HN-0877", 50, "kg", -266, "WO-3120"),
    ("4402", "R-OAT-1907", 400, "kg", -234, "WO-3168"),
    ("L-2024-0113", "R-OAT-2231", 1400, "kg", -30, "WO-3402"),
    ("L-2024-0113", "HN-0912", 250, "kg", -30, "WO-3402"),
    ("L-2024-0113", "OIL-3301", 120, "l", -30, "WO-3402"),
    ("L-2024-0113", "SALT-77", 10, "kg", -30, "WO-3402"),
    ("4471", "L-2024-0113", 1200, "kg", -25, "WO-3411"),
    ("4471", "ALM-5531", 300, "kg", -25, "WO-3411"),
    ("4471", "HN-0912", 80, "kg", -25, "WO-3411"),
    ("4471", "FILM-9001", 4000, "ea", -25, "WO-3411"),
    ("4471", "CTN-4410", 340, "ea", -25, "WO-3411"),
    ("4480", "L-2024-0113", 500, "kg", -22, "WO-3417"),
    ("4480", "ALM-5531", 200, "kg", -22, "WO-3417"),
    ("4480", "RS-118", 150, "kg", -22, "WO-3417"),
    ("4480", "FILM-9001", 2400, "ea", -22, "WO-3417"),
    ("4480", "CTN-4410", 200, "ea", -22, "WO-3417"),
    ("240115-03", "R-OAT-2260", 1400, "kg", -12, "WO-3440"),
    ("240115-03", "A12B", 200, "kg", -12, "WO-3440"),
    ("240115-03", "OIL-3301", 120, "l", -12, "WO-3440"),
    ("240115-03", "SALT-77", 10, "kg", -12, "WO-3440"),
    ("5120", "240115-03", 1300, "kg", -6, "WO-3452"),
    ("5120", "RS-118", 200, "kg", -6, "WO-3452"),
    ("5120", "FILM-9001", 3000, "ea", -6, "WO-3452"),
    ("5120", "CTN-4410", 250, "ea", -6, "WO-3452"),
    ("5133", "240115-03", 600, "kg", -3, "WO-3460"),
    ("5133", "ALM-5602", 250, "kg", -3, "WO-3460"),
    ("5133", "A12B", 60, "kg", -3, "WO-3460"),
    ("5133", "FILM-9001", 3000, "ea", -3, "WO-3460"),
    ("5133", "CTN-4410", 250, "ea", -3, "WO-3460"),
]

# Shipments: lot, customer, quantity, day, bill of lading, from site.
SHIPMENTS = [
    ("4398", "SYSCO", 2280, -250, "BOL-80412", "COLD"),
    ("4402", "METRO", 1200, -230, "BOL-80566", "COLD"),
    ("4471", "SYSCO", 1500, -20, "BOL-88120", "COLD"),
    ("4471", "FRESH", 1200, -18, "BOL-88131", "COLD"),
    ("4480", "GREEN", 600, -15, "BOL-88150", "COLD"),
    ("4480", "SYSCO", 1000, -12, "BOL-88166", "COLD"),
    ("4471", "METRO", 800, -10, "BOL-88177", "COLD"),
    ("5133", "FRESH", 1000, -1, "BOL-88230", "COLD"),
]

# QC checks: lot, test, result, value, spec, performed by, signed off by, day, hour.
QC = [
    ("4398", "moisture", "pass", "3.9%", "<= 5.0%", "Ana Ruiz", "Tom Lee", -265, 10),
    (
        "4402",
        "metal detection",
        "pass",
        "no detect",
        "Fe 1.5 mm / SS 2.5 mm",
        "Ana Ruiz",
        "Tom Lee",
        -233,
        9,
    ),
    ("ALM-5531", "aflatoxin B1", "pass", "4 ppb", "<= 10 ppb", "Ana Ruiz", "Tom Lee", -44, 11),
    ("ALM-5602", "aflatoxin B1", "pass", "3 ppb", "<= 10 ppb", "Ana Ruiz", "Tom Lee", -14, 11),
    ("HN-0912", "moisture", "pass", "17.2%", "<= 18.6%", "Ana Ruiz", "Tom Lee", -49, 14),
    ("L-2024-0113", "moisture", "pass", "2.8%", "<= 4.0%", "Ana Ruiz", "Priya Nair", -30, 15),
    ("4471", "moisture", "pass", "3.6%", "<= 5.0%", "Ana Ruiz", "Priya Nair", -24, 9),
    (
        "4471",
        "metal detection",
        "pass",
        "no detect",
        "Fe 1.5 mm / SS 2.5 mm",
        "Luis Ortega",
        "Priya Nair",
        -24,
        10,
    ),
    (
        "4480",
        "metal detection",
        "pass",
        "no detect",
        "Fe 1.5 mm / SS 2.5 mm",
        "Luis Ortega",
        "Priya Nair",
        -21,
        10,
    ),
    ("240115-03", "moisture", "pass", "3.1%", "<= 4.0%", "Ana Ruiz", "Priya Nair", -12, 15),
    ("5120", "moisture", "fail", "6.8%", "<= 5.0%", "Ana Ruiz", "Priya Nair", -5, 9),
]

FORMULAS = [
    (
        "GRAN-HA-500",
        "1",
        -400,
        "Maria Lopez",
        "Launch recipe.",
        "oat base 63%; sliced almonds 15%; honey 10%; packaging film; carton",
    ),
    (
        "GRAN-HA-500",
        "2",
        -21,
        "Maria Lopez",
        "Honey cut from 10% to 8% and almonds raised to 17% after customer panel; bake time 22 to 24 min.",
        "oat base 63%; sliced almonds 17%; honey 8%; packaging film; carton",
    ),
    (
        "BAR-TRAIL-12",
        "1",
        -500,
        "Maria Lopez",
        "Launch recipe.",
        "oat base 55%; almonds 20%; raisins 15%; binder 10%",
    ),
    ("GRAN-RC-500", "1", -90, "Sam Patel", "Launch recipe.", "oat base 70%; raisins 15%; honey 5%"),
]


def _day(anchor: date, offset: int) -> str:
    return (anchor + timedelta(days=offset)).isoformat()


def _moment(anchor: date, offset: int, hour: int) -> str:
    return datetime.combine(anchor + timedelta(days=offset), time(hour)).isoformat()


def _shelf_life(sku: str) -> int:
    return next(item[4] for item in ITEMS if item[0] == sku)


def _uom(sku: str) -> str:
    return next(item[3] for item in ITEMS if item[0] == sku)


def write_demo_csv(directory: Path, *, anchor: date) -> dict[str, int]:
    """Write the demo plant's CSV files; return rows per file. Same anchor, same bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    lots = [
        (
            code,
            sku,
            quantity,
            _uom(sku),
            _day(anchor, day),
            "",
            _day(anchor, day + _shelf_life(sku)),
            site,
            "on_hold" if code == "5120" else "",
        )
        for code, sku, quantity, day, site in MADE
    ]
    expired_honey = (
        "HN-0877",
        "HONEY-CLOVER",
        600,
        "kg",
        "",
        _day(anchor, -400),
        _day(anchor, -35),
        "PLANT",
        "",
    )
    tables: dict[str, tuple[tuple[str, ...], list[tuple[object, ...]]]] = {
        "items.csv": (
            ("sku", "name", "kind", "uom", "shelf_life_days", "gtin", "qc_release"),
            # Finished goods ship only once QC released them.
            [(*item, "true" if item[2] == "finished" else "") for item in ITEMS],
        ),
        "parties.csv": (("id", "name", "kind", "gln", "email", "phone"), list(PARTIES)),
        "lots.csv": (
            (
                "lot_code",
                "sku",
                "quantity",
                "uom",
                "produced_on",
                "received_on",
                "expires_on",
                "site",
                "status",
            ),
            [expired_honey, *lots],
        ),
        "receipts.csv": (
            (
                "lot_code",
                "sku",
                "supplier",
                "supplier_lot",
                "quantity",
                "uom",
                "received_on",
                "site",
                "reference",
            ),
            [
                (code, sku, party, theirs, quantity, _uom(sku), _day(anchor, day), "PLANT", po)
                for code, sku, party, theirs, quantity, day, po in RECEIPTS
            ],
        ),
        "formulas.csv": (
            ("sku", "version", "effective_from", "changed_by", "summary", "ingredients"),
            [
                (sku, version, _day(anchor, day), by, summary, ingredients)
                for sku, version, day, by, summary, ingredients in FORMULAS
            ],
        ),
        "consumption.csv": (
            ("output_lot", "input_lot", "quantity", "uom", "at", "work_order"),
            [
                (output, source, quantity, uom, _moment(anchor, day, 7), order)
                for output, source, quantity, uom, day, order in CONSUMPTION
            ],
        ),
        "shipments.csv": (
            ("lot_code", "to", "from_site", "quantity", "uom", "shipped_on", "reference"),
            [
                (lot, to, site, quantity, "ea", _day(anchor, day), bol)
                for lot, to, quantity, day, bol, site in SHIPMENTS
            ],
        ),
        "qc.csv": (
            ("lot_code", "test", "result", "value", "spec", "performed_by", "signed_off_by", "at"),
            [
                (lot, test, result, value, spec, by, signer, _moment(anchor, day, hour))
                for lot, test, result, value, spec, by, signer, day, hour in QC
            ],
        ),
        "holds.csv": (
            ("lot_code", "reason", "placed_by", "placed_at", "released_by", "released_at"),
            [
                (
                    "4471",
                    "Label check after printer fault",
                    "Tom Lee",
                    _moment(anchor, -24, 8),
                    "Priya Nair",
                    _moment(anchor, -24, 13),
                ),
                (
                    "5120",
                    "Moisture 6.8% over the 5.0% spec",
                    "Priya Nair",
                    _moment(anchor, -5, 10),
                    "",
                    "",
                ),
            ],
        ),
        "adjustments.csv": (
            ("lot_code", "quantity", "reason", "at", "by"),
            [
                ("4471", -24, "QA retention samples", _moment(anchor, -24, 11), "Ana Ruiz"),
                (
                    "L-2024-0113",
                    -15,
                    "Scrap: burnt edge of the bake",
                    _moment(anchor, -30, 16),
                    "Luis Ortega",
                ),
            ],
        ),
    }
    counts = {}
    for name, (header, rows) in tables.items():
        with (directory / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        counts[name] = len(rows)
    return counts


def load_demo(url: str, *, anchor: date | None = None) -> tuple[date, ImportReport]:
    """Create the schema if needed and load the demo plant; idempotent.

    The first load fixes the anchor day (``anchor`` or today) in the database;
    later loads reuse it, so loading again changes nothing.
    """
    init_schema(url)
    meta = META
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(
            select(meta.c.value).where(meta.c.key == ANCHOR_KEY)
        ).scalar_one_or_none()
    day = date.fromisoformat(stored) if stored else anchor or date.today()
    with tempfile.TemporaryDirectory(prefix="tracebot-demo-") as folder:
        write_demo_csv(Path(folder), anchor=day)
        # The demo's recent events are news: only those past the horizon are history.
        report = import_csv_dir(
            url, Path(folder), actor="demo", reason="tracebot demo", history=False, today=day
        )
    if not stored:
        with engine.begin() as connection:
            connection.execute(insert(meta).values(key=ANCHOR_KEY, value=day.isoformat()))
    return day, report
