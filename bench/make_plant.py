"""Generate a large, realistic plant in the contract's CSV format.

Deterministic for a seed. Received raw materials and packaging feed toasted
bases (first-level WIP), some bases feed blends (second-level WIP), and finished
lots are made from bases, blends, raw materials and packaging; inputs are always
received or made before they are used. A few "hub" lots (salt, a vitamin premix,
a sugar lot) go into thousands of bases: the widest fan-out a downstream query
meets. Most finished lots are shipped in one to three parts; about 1 % of QC
checks fail.

Usage: python bench/make_plant.py OUTDIR [--lots 300000] [--links 1000000] [--seed 7]

Writes items.csv, parties.csv, lots.csv, receipts.csv, consumption.csv,
shipments.csv, qc.csv and bench_meta.json (hub lots, a sample of typical lots,
row counts).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import random
import time
from datetime import date, timedelta
from pathlib import Path

START = date(2025, 1, 1)
DAYS = 660


def _day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


def generate(out: Path, *, lots: int, links: int, seed: int) -> dict:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    raw_skus = [f"RAW-{n:03d}" for n in range(150)]
    pack_skus = [f"PKG-{n:03d}" for n in range(40)]
    base_skus = [f"BASE-{n:03d}" for n in range(60)]
    blend_skus = [f"BLEND-{n:03d}" for n in range(30)]
    fin_skus = [f"FG-{n:04d}" for n in range(300)]
    items = (
        [(s, f"Raw material {s[4:]}", "raw", "kg", 365, "") for s in raw_skus]
        + [(s, f"Packaging {s[4:]}", "packaging", "ea", 1095, "") for s in pack_skus]
        + [(s, f"Toasted base {s[5:]}", "wip", "kg", 60, "") for s in base_skus]
        + [(s, f"Blend {s[6:]}", "wip", "kg", 90, "") for s in blend_skus]
        + [(s, f"Finished product {s[3:]}", "finished", "case", 270, "") for s in fin_skus]
    )
    suppliers = [f"SUP{n:03d}" for n in range(100)]
    customers = [f"CUS{n:03d}" for n in range(450)] + [f"DIS{n:03d}" for n in range(50)]
    sites = [f"SITE{n}" for n in range(5)]
    parties = (
        [
            (p, f"Supplier {p[3:]} Ltd", "supplier", "", f"qa@{p.lower()}.example", "+1 555 0100")
            for p in suppliers
        ]
        + [
            (p, f"Customer {p[3:]} Foods", "customer", "", f"buyer@{p.lower()}.example", "")
            for p in customers
            if p.startswith("CUS")
        ]
        + [
            (p, f"Distributor {p[3:]}", "distributor", "", f"ops@{p.lower()}.example", "")
            for p in customers
            if p.startswith("DIS")
        ]
        + [(s, f"Site {s[4:]}", "site", "", "", "") for s in sites]
        + [("CARRIER1", "Interstate Freight", "carrier", "", "", "")]
    )

    # Lot counts per level: 30 % raw, 5 % packaging, 20 % bases, 5 % blends, 40 % finished.
    n_raw, n_pack = int(lots * 0.30), int(lots * 0.05)
    n_base, n_blend = int(lots * 0.20), int(lots * 0.05)
    n_fin = lots - n_raw - n_pack - n_base - n_blend
    # Links per level, scaled so the total reaches ``links``.
    per_base, per_blend = 5, 5
    per_fin = max(3, round((links - n_base * per_base - n_blend * per_blend) / n_fin))

    def spread(count: int, first: int, last: int) -> list[int]:
        return sorted(rng.randint(first, last) for _ in range(count))

    raw_days = spread(n_raw, 0, DAYS - 40)
    pack_days = spread(n_pack, 0, DAYS - 40)
    base_days = spread(n_base, 30, DAYS - 20)
    blend_days = spread(n_blend, 40, DAYS - 15)
    fin_days = spread(n_fin, 45, DAYS - 5)
    raw = [f"R{n:07d}" for n in range(n_raw)]
    pack = [f"P{n:06d}" for n in range(n_pack)]
    base = [f"W-{2025 + d // 365}-{n:06d}" for n, d in enumerate(base_days)]
    blend = [f"B-{2025 + d // 365}-{n:06d}" for n, d in enumerate(blend_days)]
    fin = [
        f"F{(START + timedelta(days=d)).strftime('%y%m%d')}-{n:06d}" for n, d in enumerate(fin_days)
    ]
    hubs = raw[:3]  # salt, premix, sugar: used by thousands of bases

    lots_rows, receipts = [], []
    raw_sku = {code: rng.choice(raw_skus) for code in raw}
    for code, day in zip(raw, raw_days, strict=True):
        quantity = 50000 if code in hubs else 2000
        lots_rows.append(
            (code, raw_sku[code], quantity, "kg", "", _day(day), "", rng.choice(sites))
        )
        receipts.append(
            (
                code,
                raw_sku[code],
                rng.choice(suppliers),
                f"S{rng.randrange(10**8):08d}",
                quantity,
                "kg",
                _day(day),
                "SITE0",
                f"PO-{rng.randrange(10**6):06d}",
            )
        )
    for code, day in zip(pack, pack_days, strict=True):
        sku = rng.choice(pack_skus)
        lots_rows.append((code, sku, 100000, "ea", "", _day(day), "", "SITE0"))
        receipts.append(
            (
                code,
                sku,
                rng.choice(suppliers),
                f"S{rng.randrange(10**8):08d}",
                100000,
                "ea",
                _day(day),
                "SITE0",
                f"PO-{rng.randrange(10**6):06d}",
            )
        )

    consumption: list[tuple] = []
    qc: list[tuple] = []

    def pick(pool: list[str], days: list[int], day: int, window: int, count: int) -> list[str]:
        low = bisect.bisect_left(days, day - window)
        high = bisect.bisect_left(days, day)
        if high <= low:
            return []
        return list({pool[rng.randrange(low, high)] for _ in range(count)})

    def make(codes: list[str], days: list[int], skus: list[str], quantity: int, uom: str) -> None:
        for code, day in zip(codes, days, strict=True):
            lots_rows.append(
                (code, rng.choice(skus), quantity, uom, _day(day), "", "", rng.choice(sites))
            )
            failed = rng.random() < 0.01
            qc.append(
                (
                    code,
                    "moisture",
                    "fail" if failed else "pass",
                    "6.1%" if failed else "3.2%",
                    "<= 5.0%",
                    "QA tech",
                    "QA lead",
                    f"{_day(day)}T14:00:00",
                )
            )

    make(base, base_days, base_skus, 4000, "kg")
    make(blend, blend_days, blend_skus, 3000, "kg")
    make(fin, fin_days, fin_skus, 1000, "case")

    for code, day in zip(base, base_days, strict=True):
        inputs = pick(raw, raw_days, day, 90, per_base)
        if rng.random() < 0.06:  # the hubs: a salt lot, a premix, a sugar lot
            inputs.append(hubs[rng.randrange(3)])
        for source in dict.fromkeys(inputs):
            amount = 0.5 if source in hubs else rng.randint(10, 60)
            consumption.append((code, source, amount, "kg", f"{_day(day)}T07:00:00", f"WO-{code}"))
    for code, day in zip(blend, blend_days, strict=True):
        for source in pick(base, base_days, day, 25, 3) + pick(
            raw, raw_days, day, 90, per_blend - 3
        ):
            consumption.append(
                (code, source, rng.randint(20, 200), "kg", f"{_day(day)}T08:00:00", f"WO-{code}")
            )
    fin_links = per_fin
    for code, day in zip(fin, fin_days, strict=True):
        sources = (
            pick(base, base_days, day, 25, 2)
            + pick(blend, blend_days, day, 30, 1)
            + pick(raw, raw_days, day, 90, max(1, fin_links - 5))
            + pick(pack, pack_days, day, 200, 2)
        )
        for source in dict.fromkeys(sources):
            uom = "ea" if source.startswith("P") else "kg"
            consumption.append(
                (code, source, rng.randint(5, 200), uom, f"{_day(day)}T09:00:00", f"WO-{code}")
            )
    # Top up to the requested number of links with extra raw inputs of finished lots.
    seen = {(row[0], row[1]) for row in consumption}
    while len(consumption) < links:
        index = rng.randrange(n_fin)
        extra = pick(raw, raw_days, fin_days[index], 90, 1)
        if extra and (fin[index], extra[0]) not in seen:
            seen.add((fin[index], extra[0]))
            consumption.append(
                (
                    fin[index],
                    extra[0],
                    rng.randint(5, 50),
                    "kg",
                    f"{_day(fin_days[index])}T09:00:00",
                    f"WO-{fin[index]}",
                )
            )

    shipments = []
    for code, day in zip(fin, fin_days, strict=True):
        if rng.random() < 0.9:
            for part in range(rng.randint(1, 3)):
                shipments.append(
                    (
                        code,
                        rng.choice(customers),
                        "SITE0",
                        rng.randint(50, 300),
                        "case",
                        _day(day + 1 + part * 3),
                        f"BOL-{code}-{part}",
                    )
                )

    files = {
        "items.csv": (("sku", "name", "kind", "uom", "shelf_life_days", "gtin"), items),
        "parties.csv": (("id", "name", "kind", "gln", "email", "phone"), parties),
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
            ),
            lots_rows,
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
            receipts,
        ),
        "consumption.csv": (
            ("output_lot", "input_lot", "quantity", "uom", "at", "work_order"),
            consumption,
        ),
        "shipments.csv": (
            ("lot_code", "to", "from_site", "quantity", "uom", "shipped_on", "reference"),
            shipments,
        ),
        "qc.csv": (
            ("lot_code", "test", "result", "value", "spec", "performed_by", "signed_off_by", "at"),
            qc,
        ),
    }
    counts = {}
    for name, (header, rows) in files.items():
        with (out / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        counts[name] = len(rows)
    sample = (
        rng.sample(raw[3:], 60) + rng.sample(base, 40) + rng.sample(blend, 20) + rng.sample(fin, 80)
    )
    meta = {
        "lots": lots,
        "links": links,
        "seed": seed,
        "hub_lots": hubs,
        "sample_lots": sample,
        "counts": counts,
    }
    (out / "bench_meta.json").write_text(json.dumps(meta, indent=1))
    print(
        f"generated in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--lots", type=int, default=300_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.out, lots=args.lots, links=args.links, seed=args.seed)


if __name__ == "__main__":
    main()
