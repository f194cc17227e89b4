"""Label photos to decoded barcodes.

Phone photos of case labels are large, rotated, skewed, blurred or dim. The image
is opened safely (no decompression bombs, clear messages for what is not an
image), turned grey, and decoded with zxing-cpp on a pyramid of sizes, smallest
sufficient first: most labels read at 1,600 pixels in well under a second even
from a 12-megapixel photo. Where nothing reads, contrast is stretched, then the
photo is searched in overlapping crops, then turned, then pyzbar gets a try. GS1
separators (ASCII 29) and the symbology identifiers (``]C1``, ``]d2``...) are kept,
so :mod:`intents.barcode` can tell GS1 data from plain text.
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import biip
import zxingcpp
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

__all__ = ["Decoded", "ImagingError", "decode_image"]

MAX_PIXELS = 60_000_000
"""Larger images are refused: a 12-megapixel photo is fine, a decompression bomb is not."""
SIZES = (1600, 2600, 900)
BUDGET = 0.9  # seconds before the slower retries stop
ANGLES = (45, 22.5, 67.5, 11.25, 33.75, 56.25, 78.75, 5.6, 16.9, 28.1, 39.4, 50.6, 61.9, 73.1, 84.4)


class ImagingError(Exception):
    """The file cannot be read as a photo of a label; the message says why."""


@dataclass(frozen=True)
class Decoded:
    """One barcode read: its format, raw text (GS as ASCII 29) and symbology identifier."""

    format: str
    text: str
    symbology: str = ""

    @property
    def gs1_text(self) -> str:
        """The text with its symbology identifier in front, as GS1 parsers expect."""
        return f"{self.symbology}{self.text}"


def _open(data: bytes) -> Image.Image:
    if not data:
        raise ImagingError("The file is empty.")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            opened.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImagingError(
            f"The image is too large to read (over {MAX_PIXELS // 1_000_000} megapixels)."
        ) from err
    except UnidentifiedImageError as err:
        raise ImagingError(
            "The file is not an image TraceBot can read (PNG, JPEG, WebP...)."
        ) from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ImagingError(f"The image is damaged or truncated ({err}).") from err
    upright = ImageOps.exif_transpose(opened) or opened  # phones store rotation in EXIF
    return upright.convert("L")


def _scaled(image: Image.Image, side: int) -> Image.Image:
    if max(image.size) <= side:
        return image
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.BILINEAR)
    return copy


def _read(image: Image.Image) -> list[Decoded]:
    if min(image.size) < 1:  # a crop of a photo a few pixels wide; zxing-cpp refuses it
        return []
    found = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    return [Decoded(str(b.format), b.text, b.symbology_identifier) for b in found if b.valid]


def _crops(image: Image.Image) -> Iterator[Image.Image]:
    width, height = image.size
    for columns, rows in ((2, 2), (3, 3)):
        step_x, step_y = width // columns, height // rows
        for row in range(rows):
            for column in range(columns):
                box = (
                    max(column * step_x - step_x // 3, 0),
                    max(row * step_y - step_y // 3, 0),
                    min((column + 1) * step_x + step_x // 3, width),
                    min((row + 1) * step_y + step_y // 3, height),
                )
                yield image.crop(box)


def _bar_angle(image: Image.Image) -> float | None:
    """The angle (degrees) of the strongest edges: a linear barcode's bars dominate.

    Sobel gradients on a small copy, a magnitude-weighted histogram of their
    directions (modulo 180 degrees, 3-degree bins); None when nothing stands out.
    """
    small = _scaled(image, 360)
    sobel_x = small.filter(
        ImageFilter.Kernel((3, 3), [-1, 0, 1, -2, 0, 2, -1, 0, 1], scale=4, offset=128)
    )
    sobel_y = small.filter(
        ImageFilter.Kernel((3, 3), [-1, -2, -1, 0, 0, 0, 1, 2, 1], scale=4, offset=128)
    )
    bins = [0.0] * 60
    for gx, gy in zip(sobel_x.tobytes(), sobel_y.tobytes(), strict=True):
        dx, dy = gx - 128, gy - 128
        strength = dx * dx + dy * dy
        if strength > 400:
            bins[int(math.degrees(math.atan2(dy, dx)) % 180 // 3) % 60] += strength
    total = sum(bins)
    if not total:
        return None
    peak = max(range(60), key=lambda index: bins[index - 1] + bins[index] + bins[(index + 1) % 60])
    return peak * 3 + 1.5


def _pyzbar(image: Image.Image, *, linear_only: bool = False) -> list[Decoded]:
    """ZBar's reading, where libzbar0 is installed: steadier than zxing-cpp on
    blurred, levelled linear barcodes."""
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError):  # libzbar0 missing: zxing-cpp alone then
        return []
    linear = [
        pyzbar.ZBarSymbol.CODE128,
        pyzbar.ZBarSymbol.EAN13,
        pyzbar.ZBarSymbol.UPCA,
        pyzbar.ZBarSymbol.I25,
        pyzbar.ZBarSymbol.DATABAR,
        pyzbar.ZBarSymbol.DATABAR_EXP,
    ]
    found = []
    for symbol in pyzbar.decode(image, symbols=linear if linear_only else None):
        kind = str(symbol.type)
        text = symbol.data.decode("utf-8", errors="replace").lstrip("\x1d")
        # ZBar does not report the leading FNC1: GS1 data is known by parsing as GS1.
        gs1 = kind == "CODE128" and biip.parse(f"]C1{text}").gs1_message is not None
        symbology = (
            "]C1"
            if gs1
            else {"CODE128": "]C0", "EAN13": "]E0", "UPCA": "]E0", "I25": "]I0"}.get(kind, "")
        )
        name = {"CODE128": "Code 128", "EAN13": "EAN-13", "UPCA": "UPC-A", "I25": "ITF"}.get(
            kind, kind
        )
        found.append(Decoded(name, text, symbology))
    return found


def _unique(decoded: Iterable[Decoded]) -> list[Decoded]:
    return list(dict.fromkeys(decoded))


def decode_image(data: bytes) -> list[Decoded]:
    """Every barcode in a photo, each once; an empty list when none reads.

    Raises:
        ImagingError: the bytes are not a readable image.
    """
    started = time.perf_counter()
    image = _open(data)
    attempts: list[Image.Image] = [
        _scaled(image, side) for side in SIZES if side < max(image.size) * 1.2
    ]
    attempts = attempts or [image]
    for attempt in attempts:
        found = _read(attempt)
        if found:
            return _unique(found)
    base = attempts[0]
    turned = _scaled(image, 1700)
    angle = _bar_angle(image)
    if angle is not None:
        # The strongest edges run along the bars, to within a few degrees: level them.
        level = turned.rotate(-angle, expand=True, fillcolor=255)
        found = _read(level) or _pyzbar(level, linear_only=True)
        if found:
            return _unique(found)
    retries: Iterable[Image.Image] = (
        ImageOps.autocontrast(base, cutoff=2),
        ImageOps.equalize(base),
        base.filter(ImageFilter.UnsharpMask(radius=2, percent=180)),
        *_crops(_scaled(image, 2600)),
        # Long linear barcodes read only within a few degrees of level (zxing-cpp
        # tries the right angles itself): turn the photo in steps between.
        *(turned.rotate(turn, expand=True, fillcolor=255) for turn in ANGLES),
    )
    for retry in retries:
        found = _read(retry)
        if found:
            return _unique(found)
        if time.perf_counter() - started > BUDGET:
            break
    return _unique(_pyzbar(base))
