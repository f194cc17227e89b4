"""Label photos: the zxing-cpp samples, bad files, generated and distorted labels."""

from __future__ import annotations

import io
import random
import time
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from intents.barcode import read_label
from intents.imaging import ImagingError, bar_regions, decode_image
from tests.conftest import SHARED
from tests.intents.labels import LabelSpec, have_zint, photograph, render, specs

SAMPLES = sorted(
    p for p in (SHARED / "barcode-samples").glob("*.*") if p.suffix in (".png", ".webp")
)
needs_zint = pytest.mark.skipif(
    not have_zint(), reason="Debian's zint is installed by scripts/system-packages.sh"
)


def expected(sample: Path) -> str:
    return sample.with_suffix(".txt").read_bytes().decode("utf-8")  # CR LF kept


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_decode_reads_every_sample_zxing_cpp_reads(sample: Path) -> None:
    plain = zxingcpp.read_barcodes(Image.open(sample), text_mode=zxingcpp.TextMode.Plain)
    if not plain:
        pytest.skip("zxing-cpp alone does not read this sample either")

    texts = [barcode.text for barcode in decode_image(sample.read_bytes())]

    assert expected(sample) in texts


def test_gs1_datamatrix_sample_parses_to_its_fields() -> None:
    sample = SHARED / "barcode-samples" / "datamatrix-1_gs1-figure-4.15.1-2-32x32.png"

    label = read_label(decode_image(sample.read_bytes()))

    assert (label.gtin, label.lot, label.serial, label.expiry) == (
        "09504000059101",
        "1234567p",
        "12345678p901",
        date(2014, 11, 20),
    )


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (
            b"%PDF-1.4 not a photo",
            "The file is not an image TraceBot can read (PNG, JPEG, WebP...).",
        ),
        (_png(Image.new("L", (400, 300), 255))[:120], "The image is damaged or truncated"),
        (
            _png(Image.new("1", (10_000, 10_000), 1)),
            "The image is too large to read (over 60 megapixels).",
        ),
    ],
    ids=["empty", "not an image", "truncated", "decompression bomb"],
)
def test_decode_refuses_what_is_not_a_photo(data: bytes, message: str) -> None:
    with pytest.raises(ImagingError) as refused:
        decode_image(data)

    assert str(refused.value).startswith(message)


def test_decode_of_a_photo_without_barcode_is_empty() -> None:
    assert decode_image(_png(Image.new("L", (800, 600), 200))) == []


@needs_zint
def test_distorted_labels_read_and_parse(tmp_path: Path) -> None:
    rng = random.Random(11)
    labels = specs(24, rng)  # GS1-128, GS1 DataMatrix and GS1 Digital Link QR in turn

    read = 0
    for spec in labels:
        label = read_label(decode_image(photograph(render(spec, tmp_path), rng)))
        read += (label.gtin, label.lot, label.expiry) == (spec.gtin, spec.lot, spec.expiry)

    assert read / len(labels) >= 0.95


@needs_zint
def test_level_gs1_128_label_reads(tmp_path: Path) -> None:
    spec = LabelSpec("00614141000418", "4471", date(2027, 7, 28), "gs1-128")

    label = read_label(decode_image(_png(render(spec, tmp_path))))

    assert (label.gtin, label.lot, label.expiry) == ("00614141000418", "4471", date(2027, 7, 28))


@pytest.mark.parametrize("size", [(1, 1), (2, 1), (1, 7)])
def test_decode_of_a_photo_a_few_pixels_wide_is_empty(size: tuple[int, int]) -> None:
    # Its crops are empty images, which zxing-cpp refuses (found by the HTTP fuzz test).
    photo = io.BytesIO()
    Image.new("L", size, 255).save(photo, "PNG")

    assert decode_image(photo.getvalue()) == []


@needs_zint
@pytest.mark.parametrize("angle", range(0, 360, 15))
def test_gs1_128_reads_at_any_angle(tmp_path: Path, angle: int) -> None:
    rng = random.Random(angle)
    spec = LabelSpec("00614141000418", "L4471-A1", date(2027, 7, 28), "gs1-128")

    label = read_label(decode_image(photograph(render(spec, tmp_path), rng, angle=angle)))

    assert (label.gtin, label.lot, label.expiry) == (spec.gtin, spec.lot, spec.expiry)


@needs_zint
@pytest.mark.parametrize("angle", [30, 45, 135, 200])
def test_databar_expanded_reads_through_heavy_blur(tmp_path: Path, angle: int) -> None:
    rng = random.Random(angle)
    spec = LabelSpec("09506000134352", "ABC123", date(2027, 3, 1), "databar-expanded")

    photo = photograph(render(spec, tmp_path), rng, angle=angle, blur=(2.5, 3.0))
    label = read_label(decode_image(photo))

    assert (label.gtin, label.lot, label.expiry) == (spec.gtin, spec.lot, spec.expiry)


@needs_zint
@pytest.mark.parametrize("angle", [20, 100, 260, 280])
def test_ean_13_beside_gs1_128_both_read_at_an_angle(tmp_path: Path, angle: int) -> None:
    rng = random.Random(angle)
    spec = LabelSpec("00614141000432", "L8796-G16", date(2027, 12, 1), "ean-13+gs1-128")

    label = read_label(decode_image(photograph(render(spec, tmp_path), rng, angle=angle)))

    assert (label.gtin, label.lot, label.expiry, label.conflict) == (
        spec.gtin,
        spec.lot,
        spec.expiry,
        None,
    )


@needs_zint
def test_twelve_megapixel_photo_decodes_within_a_second(tmp_path: Path) -> None:
    rng = random.Random(3)
    spec = LabelSpec("00614141000418", "4471", date(2027, 7, 28), "gs1-128")
    photo = photograph(render(spec, tmp_path), rng, megapixels=12.0, angle=35)

    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        decode_image(photo)
        seconds.append(time.perf_counter() - started)

    assert sorted(seconds)[1] < 1.0


def test_bar_regions_find_the_bars_angle() -> None:
    bars = Image.new("L", (600, 300), 255)
    for x in range(120, 480, 9):
        bars.paste(0, (x, 80, x + 4 + x % 3, 220))

    for turn in (0, 20, 70, 110, 160):
        region = bar_regions(bars.rotate(turn, expand=True, fillcolor=255))[0]
        across = (180 - turn) % 180
        assert min(abs(region.angle - across), 180 - abs(region.angle - across)) < 4
