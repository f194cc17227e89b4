"""Units of measure: converting quantities recorded in different units of one kind.

Example:
    >>> convert(1500, "g", "kg")
    1.5
    >>> convert(3, "case", "ea") is None
    True
"""

from __future__ import annotations

__all__ = ["convert"]

# Factor to the base unit of each kind (kilogram, litre, each).
_UNITS: dict[str, tuple[str, float]] = {
    "mg": ("mass", 1e-6),
    "g": ("mass", 1e-3),
    "kg": ("mass", 1.0),
    "t": ("mass", 1000.0),
    "lb": ("mass", 0.45359237),
    "lbs": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
    "ml": ("volume", 1e-3),
    "cl": ("volume", 1e-2),
    "l": ("volume", 1.0),
    "hl": ("volume", 100.0),
    "gal": ("volume", 3.785411784),
    "ea": ("count", 1.0),
    "each": ("count", 1.0),
    "pc": ("count", 1.0),
    "pcs": ("count", 1.0),
    "unit": ("count", 1.0),
    "units": ("count", 1.0),
}


def convert(quantity: float, from_uom: str | None, to_uom: str | None) -> float | None:
    """``quantity`` in ``from_uom`` expressed in ``to_uom``; None when they don't convert.

    A missing unit is taken to be the target unit, as plants often leave it out.
    """
    if not from_uom or not to_uom:
        return quantity
    source, target = from_uom.strip().lower(), to_uom.strip().lower()
    if source == target:
        return quantity
    if source not in _UNITS or target not in _UNITS:
        return None
    (source_kind, source_factor), (target_kind, target_factor) = _UNITS[source], _UNITS[target]
    if source_kind != target_kind:
        return None
    return quantity * source_factor / target_factor
