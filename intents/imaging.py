"""Label photos to decoded barcodes.

Phone photos of case labels are large, rotated, skewed, blurred or dim. The image
is opened safely (no decompression bombs, clear messages for what is not an
image), turned grey (a large JPEG is decoded at half size, which it holds at no
cost, keeping well over the detail a label needs), and decoded with zxing-cpp at
1,600 pixels first: most labels read there in a few tens of milliseconds.

Linear barcodes read only within a few degrees of level or upright, so the photo is
then searched the way the bars show themselves: the structure tensor of its
gradients, pooled in small blocks, gives each block an orientation and how
strongly one orientation dominates; blocks of bars (strong, coherent gradients)
are grouped by orientation and place into regions, and each region is cut from
the photo at full detail, turned level by its own angle, and read as it is, then
through a deblurring pass (averaged along the bars, sharpened across them), then
by ZBar. Every code in the photo is read, so a GS1-128 carrying the lot beside an
EAN-13 carrying only the item is not missed. Where still nothing reads, contrast is
stretched, the photo is searched in overlapping crops, then turned in steps. GS1
separators (ASCII 29) and the symbology identifiers (``]C1``, ``]d2``...) are
kept, so :mod:`intents.barcode` can tell GS1 data from plain text.
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import biip
import numpy as np
import zxingcpp
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

__all__ = ["Decoded", "ImagingError", "bar_regions", "decode_image"]

MAX_PIXELS = 60_000_000
"""Larger images are refused: a 12-megapixel photo is fine, a decompression bomb is not."""
SIZES = (1600, 2600, 900)
BUDGET = 0.85  # seconds before the slower retries stop
ANGLES = (45, 22.5, 67.5, 11.25, 33.75, 56.25, 78.75, 5.6, 16.9, 28.1, 39.4, 50.6, 61.9, 73.1, 84.4)
MATRIX = frozenset({"QR Code", "Data Matrix", "Aztec", "PDF417", "MicroQR Code", "rMQR Code"})
RETAIL = frozenset({"EAN-13", "EAN-8", "UPC-A", "UPC-E"})
BLOCK = 10  # pixels of the small copy pooled into one orientation block
REGION_SIDE = 1800  # a levelled region is read at most this large


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


@dataclass(frozen=True)
class Region:
    """Where bars of one orientation are: a box of the photo (left, top, right, bottom, in
    pixels of the photo), the direction across the bars (degrees, 0 to 180, y down) and
    the region's weight (how much bar-like edge it holds)."""

    box: tuple[int, int, int, int]
    angle: float
    weight: float


def _open(data: bytes) -> Image.Image:
    if not data:
        raise ImagingError("The file is empty.")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.format == "JPEG" and opened.width * opened.height > 9_000_000:
                # A large JPEG decodes at half size for free (DCT scaling): 12 MP to 3 MP.
                opened.draft("L", (opened.width // 2, opened.height // 2))
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


def _read(image: Image.Image, **options: object) -> list[Decoded]:
    if min(image.size) < 1:  # a crop of a photo a few pixels wide; zxing-cpp refuses it
        return []
    found = [
        barcode
        for barcode in zxingcpp.read_barcodes(
            image,
            text_mode=zxingcpp.TextMode.Plain,
            **options,  # type: ignore[arg-type]
        )
        if barcode.valid
    ]
    # An EAN/UPC "read" inside the bars of another linear code is a misreading (EAN's
    # check digit lets one in ten through): the other code is the one there.
    # So is a second, thinner EAN/UPC reading inside the box of another: the one read
    # over more lines stands.
    others = [_box(b) for b in found if str(b.format) not in RETAIL and str(b.format) not in MATRIX]
    kept: list[zxingcpp.Barcode] = []
    for barcode in sorted(found, key=_area, reverse=True):
        if str(barcode.format) in RETAIL:
            boxes = others + [_box(b) for b in kept if str(b.format) in RETAIL]
            if any(_inside(_centre(barcode), box) for box in boxes):
                continue
        kept.append(barcode)
    order = {id(barcode): index for index, barcode in enumerate(found)}
    kept.sort(key=lambda barcode: order[id(barcode)])
    return [Decoded(str(b.format), b.text, b.symbology_identifier) for b in kept]


def _area(barcode: zxingcpp.Barcode) -> int:
    left, top, right, bottom = _box(barcode)
    return (right - left + 1) * (bottom - top + 1)


def _corners(barcode: zxingcpp.Barcode) -> list[tuple[int, int]]:
    p = barcode.position
    return [(p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y),
            (p.bottom_right.x, p.bottom_right.y), (p.bottom_left.x, p.bottom_left.y)]  # fmt: skip


def _box(barcode: zxingcpp.Barcode) -> tuple[int, int, int, int]:
    xs, ys = zip(*_corners(barcode), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def _centre(barcode: zxingcpp.Barcode) -> tuple[float, float]:
    xs, ys = zip(*_corners(barcode), strict=True)
    return sum(xs) / 4, sum(ys) / 4


def _inside(point: tuple[float, float], box: tuple[int, int, int, int]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


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


def _components(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """The 8-connected groups of True cells of a small grid."""
    seen = np.zeros(mask.shape, dtype=bool)
    rows, columns = mask.shape
    groups = []
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        stack, group = [start], []
        while stack:
            row, column = stack.pop()
            group.append((int(row), int(column)))
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    r, c = row + dr, column + dc
                    if 0 <= r < rows and 0 <= c < columns and mask[r, c] and not seen[r, c]:
                        seen[r, c] = True
                        stack.append((r, c))
        groups.append(group)
    return groups


def bar_regions(image: Image.Image, *, limit: int = 4) -> list[Region]:
    """Where linear barcodes may be, strongest first, each with the angle of its bars.

    The structure tensor of the gradients of a small copy, summed over blocks: a
    block of bars has strong gradients that all point one way (coherence near 1).
    Such blocks are grouped by orientation (15-degree sectors, each block also in
    the sector beside it when near its edge) and by place; each group is a region,
    its angle the strength-weighted mean of its blocks' angles.

    Example:
        >>> bars = Image.new("L", (400, 200), 255)
        >>> for x in range(100, 300, 8):
        ...     bars.paste(0, (x, 50, x + 4, 150))
        >>> region = bar_regions(bars.rotate(30, expand=True, fillcolor=255))[0]
        >>> round(region.angle) in range(145, 156)
        True
    """
    small = _scaled(image, 720)
    scale = image.width / small.width
    pixels = np.asarray(small, dtype=np.float32)
    if min(pixels.shape) < 3 * BLOCK:
        return []
    # Scharr's operator: central differences smoothed across, nearly the same in every
    # direction (plain differences bend angles towards the axes by a few degrees).
    dx = pixels[:, 2:] - pixels[:, :-2]
    dy = pixels[2:, :] - pixels[:-2, :]
    gx = 3 * dx[:-2, :] + 10 * dx[1:-1, :] + 3 * dx[2:, :]
    gy = 3 * dy[:, :-2] + 10 * dy[:, 1:-1] + 3 * dy[:, 2:]
    height, width = (gx.shape[0] // BLOCK) * BLOCK, (gx.shape[1] // BLOCK) * BLOCK

    def pooled(values: np.ndarray) -> np.ndarray:
        cut = values[:height, :width]
        return cut.reshape(height // BLOCK, BLOCK, width // BLOCK, BLOCK).sum(axis=(1, 3))

    sxx, syy, sxy = pooled(gx * gx), pooled(gy * gy), pooled(gx * gy)
    energy = sxx + syy
    if not energy.any():
        return []
    coherence = np.sqrt((sxx - syy) ** 2 + 4 * sxy**2) / (energy + 1e-6)
    angle = (np.degrees(np.arctan2(2 * sxy, sxx - syy)) / 2) % 180
    strong = energy > 0.15 * np.percentile(energy, 99)
    bars = strong & (coherence > 0.45)
    regions: list[Region] = []
    for sector in range(0, 180, 15):
        offset = (angle - sector) % 180
        near = bars & ((offset < 22.5) | (offset > 172.5))  # the sector, widened
        # Wide spaces leave gaps of a block or two in a barcode: bridge them.
        for group in _components(_grown(near)):
            cells = tuple(np.array([cell for cell in group if near[cell]]).T)
            if len(cells) == 0 or len(cells[0]) < 3:
                continue
            weights = (energy * coherence)[cells]
            doubled = np.radians(angle[cells] * 2)
            mean = (
                np.degrees(
                    np.arctan2((weights * np.sin(doubled)).sum(), (weights * np.cos(doubled)).sum())
                )
                / 2
            ) % 180
            if min((mean - sector) % 180, (sector - mean) % 180) > 7.5:
                continue  # found again, better centred, from its own sector
            rows, columns = cells
            # The quiet zone and the ends of the bars; and, across the bars, a fifth more
            # of the length each way: a code's end blocks (wide spaces, its text) often
            # fall short of the thresholds.
            across = abs(np.cos(np.radians(mean))), abs(np.sin(np.radians(mean)))
            grow_x = 3 + 0.2 * across[0] * (columns.max() - columns.min() + 1)
            grow_y = 3 + 0.2 * across[1] * (rows.max() - rows.min() + 1)
            box = (
                int(max((columns.min() - grow_x) * BLOCK * scale, 0)),
                int(max((rows.min() - grow_y) * BLOCK * scale, 0)),
                int(min((columns.max() + 1 + grow_x) * BLOCK * scale, image.width)),
                int(min((rows.max() + 1 + grow_y) * BLOCK * scale, image.height)),
            )
            regions.append(Region(box, float(mean), float(weights.sum())))
    regions.sort(key=lambda region: region.weight, reverse=True)
    kept: list[Region] = []
    for region in regions:
        if not any(_same(region, other) for other in kept):
            kept.append(region)
    return kept[:limit]


def _grown(mask: np.ndarray) -> np.ndarray:
    """The mask with each True cell grown by one cell every way (a 3 by 3 dilation)."""
    grown = mask.copy()
    grown[1:, :] |= mask[:-1, :]
    grown[:-1, :] |= mask[1:, :]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide


def _same(one: Region, other: Region) -> bool:
    """Whether two regions are the same bars (close angle, mostly the same box)."""
    turn = abs(one.angle - other.angle) % 180
    if min(turn, 180 - turn) > 8:
        return False
    left, top = max(one.box[0], other.box[0]), max(one.box[1], other.box[1])
    right, bottom = min(one.box[2], other.box[2]), min(one.box[3], other.box[3])
    shared = max(right - left, 0) * max(bottom - top, 0)
    area = (one.box[2] - one.box[0]) * (one.box[3] - one.box[1])
    return shared > 0.6 * area


def _level(image: Image.Image, region: Region) -> Image.Image:
    """The region cut out and turned so that its bars stand upright."""
    crop = image.crop(region.box)
    crop = _scaled(crop, int(REGION_SIDE / 1.2))
    return crop.rotate(region.angle, expand=True, fillcolor=255, resample=Image.Resampling.BILINEAR)


def _deblurred(image: Image.Image) -> Image.Image:
    """Upright bars made crisper: averaged along the bars (noise and JPEG blocks fade, the
    bars do not) and sharpened across them, contrast stretched."""
    pixels = np.asarray(image, dtype=np.float32)
    if pixels.shape[0] < 12 or pixels.shape[1] < 12:
        return image
    run = 7
    summed = np.cumsum(np.pad(pixels, ((run // 2 + 1, run // 2), (0, 0)), mode="edge"), axis=0)
    along = (summed[run:] - summed[:-run]) / run
    soft = np.asarray(
        Image.fromarray(along.clip(0, 255).astype(np.uint8)).filter(ImageFilter.BoxBlur(2)),
        dtype=np.float32,
    )
    sharp = along + 1.6 * (along - soft)
    low, high = np.percentile(sharp, (2, 98))
    stretched = (sharp - low) * (255.0 / max(high - low, 1.0))
    return Image.fromarray(stretched.clip(0, 255).astype(np.uint8))


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
        pyzbar.ZBarSymbol.EAN8,
        pyzbar.ZBarSymbol.UPCA,
        pyzbar.ZBarSymbol.UPCE,
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
            else {
                "CODE128": "]C0",
                "EAN13": "]E0",
                "UPCA": "]E0",
                "I25": "]I0",
                "DATABAR": "]e0",
                "DATABAR_EXP": "]e0",
            }.get(kind, "")
        )
        name = {
            "CODE128": "Code 128",
            "EAN13": "EAN-13",
            "UPCA": "UPC-A",
            "I25": "ITF",
            "DATABAR": "DataBar",
            "DATABAR_EXP": "DataBar Expanded",
        }.get(kind, kind)
        found.append(Decoded(name, text, symbology))
    return found


def _pyzbar_linear(image: Image.Image) -> list[Decoded]:
    return _pyzbar(image, linear_only=True)


class _Found:
    """The barcodes read so far, each once, and whether the label needs more looking."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], Decoded] = {}

    def add(self, decoded: Iterable[Decoded]) -> bool:
        before = len(self.codes)
        for code in decoded:
            key = (code.format.replace("-", "").replace(" ", "").upper(), code.text)
            self.codes.setdefault(key, code)
        return len(self.codes) > before

    @property
    def any(self) -> bool:
        return bool(self.codes)

    @property
    def complete(self) -> bool:
        """A code that carries the whole label: a 2D code, a Digital Link, or GS1 data
        with a lot or SSCC. An EAN/UPC or ITF alone holds only the item: a code beside
        it may hold the lot."""
        from intents.barcode import read_one

        for code in self.codes.values():
            if code.format in MATRIX or code.text.lower().startswith(("http://", "https://")):
                return True
            label = read_one(code)
            if label.lots or label.sscc:
                return True
        return False

    def result(self) -> list[Decoded]:
        return list(self.codes.values())


def decode_image(data: bytes, *, budget: float = BUDGET) -> list[Decoded]:
    """Every barcode in a photo, each once; an empty list when none reads.

    Raises:
        ImagingError: the bytes are not a readable image.
    """
    started = time.perf_counter()

    def late() -> bool:
        return time.perf_counter() - started > budget

    image = _open(data)
    found = _Found()
    attempts = [_scaled(image, side) for side in SIZES if side < max(image.size) * 1.2]
    attempts = attempts or [image]
    found.add(_read(attempts[0]))
    if found.complete:
        return found.result()
    # Bars at any angle, region by region, at full detail; every code is read.
    for region in bar_regions(image):
        level = _level(image, region)
        sharp = _deblurred(level)
        for reader, picture in ((_read, level), (_read, sharp), (_pyzbar_linear, sharp)):
            found.add(reader(picture))
            if found.complete:
                return found.result()
            if late():
                break
    base = attempts[0]
    if max(image.size) < 800:  # a small photo: its modules may be too few pixels wide
        found.add(
            _read(image.resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC))
        )
        if found.complete:
            return found.result()
    found.add(_pyzbar(base))
    if found.any:
        return found.result()
    for attempt in attempts[1:]:
        if found.add(_read(attempt)) or late():
            return found.result()
    turned = _scaled(image, 1700)
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
        if found.add(_read(retry)) or late():
            return found.result()
    found.add(_pyzbar(base.filter(ImageFilter.UnsharpMask(radius=3, percent=250))))
    return found.result()
