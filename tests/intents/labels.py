"""Generated GS1 labels (Debian's zint) and phone-photo distortions, for tests and bench."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter

SYMBOLOGIES = {
    "gs1-128": ("16", "--gs1"),
    "datamatrix": ("71", "--gs1"),
    "qr-digital-link": ("58", ""),
}
MORE_SYMBOLOGIES = {
    "databar-expanded": ("31", "--gs1"),
    "ean-13+gs1-128": ("13", ""),  # an EAN-13 of the GTIN above a GS1-128 with lot and expiry
}


@dataclass(frozen=True)
class LabelSpec:
    gtin: str
    lot: str
    expiry: date
    symbology: str

    def data(self) -> str:
        if self.symbology == "ean-13+gs1-128":
            return self.gtin[1:]
        if self.symbology == "qr-digital-link":
            return f"https://id.gs1.org/01/{self.gtin}/10/{self.lot}?17={self.expiry:%y%m%d}"
        return f"[01]{self.gtin}[17]{self.expiry:%y%m%d}[10]{self.lot}"


def have_zint() -> bool:
    return shutil.which("zint") is not None


def render(spec: LabelSpec, folder: Path) -> Image.Image:
    """The label drawn by zint, on a white margin, as a greyscale image."""
    kind, gs1 = (SYMBOLOGIES | MORE_SYMBOLOGIES)[spec.symbology]
    symbol = _zint(kind, gs1, spec.data(), folder / f"{spec.symbology}-{spec.lot}.png")
    if spec.symbology == "ean-13+gs1-128":
        below = replace(spec, symbology="gs1-128")
        lower = _zint("16", "--gs1", below.data(), folder / f"pair-{spec.lot}.png")
        page = Image.new(
            "L", (max(symbol.width, lower.width) + 120, symbol.height + lower.height + 180), 255
        )
        page.paste(symbol, (60, 60))
        page.paste(lower, (60, symbol.height + 120))
        return page
    page = Image.new("L", (symbol.width + 120, symbol.height + 120), 255)
    page.paste(symbol, (60, 60))
    return page


def _zint(kind: str, gs1: str, data: str, path: Path) -> Image.Image:
    command = ["zint", "-b", kind, "-d", data, "-o", str(path), "--scale=3"]
    if gs1:
        command.insert(3, gs1)
    subprocess.run(command, check=True, capture_output=True)
    return Image.open(path).convert("L")


def photograph(
    label: Image.Image,
    rng: random.Random,
    *,
    megapixels: float = 12.0,
    angle: float | None = None,
    blur: tuple[float, float] = (0.5, 1.5),
) -> bytes:
    """The label as a phone might see it: on a larger scene, turned (by ``angle``, or at
    random), skewed, blurred (a Gaussian radius in ``blur``, in pixels of the photo), dim."""
    angle = rng.uniform(0, 360) if angle is None else angle
    # The background around the label first, so the keystone below (which trims up to
    # 6 % off the edges) never cuts into the label itself.
    pad_x, pad_y = int(label.width * 0.08) + 8, int(label.height * 0.08) + 8
    framed = Image.new("L", (label.width + 2 * pad_x, label.height + 2 * pad_y), 235)
    framed.paste(label, (pad_x, pad_y))
    turned = framed.rotate(angle, expand=True, fillcolor=235, resample=Image.Resampling.BICUBIC)
    width, height = turned.size
    # Keystone, as when the phone is not square on: one edge seen shorter than the
    # opposite one (QUAD takes the source corners: upper left, lower left,
    # lower right, upper right).
    inset_x = rng.uniform(0, 0.06) * width
    inset_y = rng.uniform(0, 0.06) * height
    quad = [inset_x, 0, 0, height, width, height - inset_y, width - inset_x, inset_y]
    skewed = turned.transform(
        (width, height), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=235
    )
    side = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    scene = Image.new("L", (side, side * 3 // 4), rng.randint(150, 235))
    # People fill most of the frame with the label they photograph.
    scale = rng.uniform(0.55, 0.9) * min(scene.width / width, scene.height / height)
    placed = skewed.resize((int(width * scale), int(height * scale)), Image.Resampling.BICUBIC)
    scene.paste(
        placed,
        (rng.randint(0, scene.width - placed.width), rng.randint(0, scene.height - placed.height)),
    )
    scene = scene.filter(ImageFilter.GaussianBlur(rng.uniform(*blur)))
    scene = ImageEnhance.Brightness(scene).enhance(rng.uniform(0.45, 1.0))
    scene = ImageEnhance.Contrast(scene).enhance(rng.uniform(0.45, 1.0))
    buffer = io.BytesIO()
    scene.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def specs(
    count: int, rng: random.Random, kinds: tuple[str, ...] = tuple(SYMBOLOGIES)
) -> list[LabelSpec]:
    gtins = ["00614141000418", "00614141000425", "00614141000432", "09506000134352"]
    return [
        LabelSpec(
            rng.choice(gtins),
            f"L{rng.randint(1000, 9999)}-{rng.choice('ABCDEFGH')}{rng.randint(1, 99)}",
            date(2027, rng.randint(1, 12), rng.randint(1, 28)),
            kinds[index % len(kinds)],
        )
        for index in range(count)
    ]


SAFE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def compress_digital_link(pairs: list[tuple[str, str]], *, stem: str = "https://id.gs1.org") -> str:
    """A GS1 Digital Link in GS1's compressed form (the encoder side of the standard's
    binary layout: AI digits as hex, fixed numbers as binary, variable text with a 3-bit
    encoding and a length; ``01`` then ``10`` as the one-code sequence ``0B``)."""
    import math

    from biip.gs1_application_identifiers import GS1ApplicationIdentifier

    def number(digits: str) -> str:
        width = math.ceil(len(digits) * math.log2(10) + 0.01)
        return format(int(digits or "0"), f"0{width}b")

    def value(ai: str, text: str) -> str:
        fmt = GS1ApplicationIdentifier.extract(ai).format.split("+", 1)[1]
        kind, variable, size = __import__("re").findall(r"([NX])(\.\.)?(\d+)", fmt)[0]
        longest = int(size)
        if kind == "N" and not variable:
            return number(text.zfill(longest))
        if kind == "N":
            return format(len(text), f"0{longest.bit_length()}b") + number(text)
        length = format(len(text), f"0{longest.bit_length()}b")
        if text.isdigit():
            return "000" + length + number(text)
        if all(c in SAFE64 for c in text):
            return "011" + length + "".join(format(SAFE64.index(c), "06b") for c in text)
        return "100" + length + "".join(format(ord(c), "07b") for c in text)

    bits = ""
    rest = list(pairs)
    if len(rest) >= 2 and rest[0][0] == "01" and rest[1][0] == "10":
        bits += "00001011" + value("01", rest[0][1]) + value("10", rest[1][1])
        rest = rest[2:]
    for ai, text in rest:
        bits += "".join(format(int(d), "04b") for d in ai) + value(ai, text)
    bits += "0" * (-len(bits) % 6)
    return stem + "/" + "".join(SAFE64[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))
