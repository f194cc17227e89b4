"""Label photo figures: read rate and time on 12-megapixel phone-like photos.

Generates GS1 labels with Debian's zint (GS1-128, GS1 DataMatrix, QR with a GS1
Digital Link), photographs them as a phone would (any rotation, keystone, blur,
dim light, low contrast, JPEG), and decodes each with `intents.imaging`; prints
the share read and parsed right per symbology and the decode times (target: every
photo within 1 s, at least 95 % right), and the shared zxing-cpp samples read.

Usage: python bench/scan_bench.py [--labels 90] [--seed 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intents.barcode import read_label  # noqa: E402
from intents.imaging import decode_image  # noqa: E402
from tests.intents.labels import photograph, render, specs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labels", type=int, default=90)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    right: dict[str, list[bool]] = defaultdict(list)
    seconds: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for spec in specs(args.labels, rng):
            photo = photograph(render(spec, Path(folder)), rng, megapixels=12.0)
            started = time.perf_counter()
            label = read_label(decode_image(photo))
            seconds.append(time.perf_counter() - started)
            right[spec.symbology].append(
                (label.gtin, label.lot, label.expiry) == (spec.gtin, spec.lot, spec.expiry)
            )
    total = sum(sum(values) for values in right.values())
    print(f"{args.labels} generated 12-megapixel label photos")
    for symbology, values in right.items():
        print(f"  {symbology:16} {sum(values):3d}/{len(values)} read and parsed right")
    print(f"  all              {total}/{args.labels} = {total / args.labels:.0%} (target >= 95%)")
    print(
        f"decode time: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s (target <= 1 s)"
    )
    samples = [
        p
        for p in sorted((ROOT.parent / "shared" / "barcode-samples").glob("*.*"))
        if p.suffix in (".png", ".webp")
    ]
    read = sum(
        p.with_suffix(".txt").read_bytes().decode()
        in [d.text for d in decode_image(p.read_bytes())]
        for p in samples
    )
    print(f"shared zxing-cpp samples read: {read}/{len(samples)}")


if __name__ == "__main__":
    main()
