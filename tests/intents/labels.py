"""Generated GS1 labels (Debian's zint) and phone-photo distortions, for tests and bench."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter

SYMBOLOGIES = {
    "gs1-128": ("16", "--gs1"),
    "datamatrix": ("71", "--gs1"),
    "qr-digital-link": ("58", ""),
}


@dataclass(frozen=True)
class LabelSpec:
    gtin: str
    lot: str
    expiry: date
    symbology: str

    def data(self) -> str:
        if self.symbology == "qr-digital-link":
            return f"https://id.gs1.org/01/{self.gtin}/10/{self.lot}?17={self.expiry:%y%m%d}"
        return f"[01]{self.gtin}[17]{self.expiry:%y%m%d}[10]{self.lot}"


def have_zint() -> bool:
    return shutil.which("zint") is not None


def render(spec: LabelSpec, folder: Path) -> Image.Image:
    """The label drawn by zint, on a white margin, as a greyscale image."""
    kind, gs1 = SYMBOLOGIES[spec.symbology]
    path = folder / f"{spec.symbology}-{spec.lot}.png"
    command = ["zint", "-b", kind, "-d", spec.data(), "-o", str(path), "--scale=3"]
    if gs1:
        command.insert(3, gs1)
    subprocess.run(command, check=True, capture_output=True)
    symbol = Image.open(path).convert("L")
    page = Image.new("L", (symbol.width + 120, symbol.height + 120), 255)
    page.paste(symbol, (60, 60))
    return page


def photograph(label: Image.Image, rng: random.Random, *, megapixels: float = 12.0) -> bytes:
    """The label as a phone might see it: on a larger scene, turned, skewed, blurred, dim."""
    angle = rng.uniform(0, 360)
    turned = label.rotate(angle, expand=True, fillcolor=235, resample=Image.Resampling.BICUBIC)
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
    scene = scene.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    scene = ImageEnhance.Brightness(scene).enhance(rng.uniform(0.45, 1.0))
    scene = ImageEnhance.Contrast(scene).enhance(rng.uniform(0.45, 1.0))
    buffer = io.BytesIO()
    scene.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def specs(count: int, rng: random.Random) -> list[LabelSpec]:
    gtins = ["00614141000418", "00614141000425", "00614141000432", "09506000134352"]
    return [
        LabelSpec(
            rng.choice(gtins),
            f"L{rng.randint(1000, 9999)}-{rng.choice('ABCDEFGH')}{rng.randint(1, 99)}",
            date(2027, rng.randint(1, 12), rng.randint(1, 28)),
            list(SYMBOLOGIES)[index % len(SYMBOLOGIES)],
        )
        for index in range(count)
    ]
