"""GS1 identifiers as EPCIS writes them: EPC URNs and GS1 Digital Link URIs.

EPC URNs carry the GS1 company prefix apart from the rest, so the GTIN, SSCC or
GLN is rebuilt from the parts and given its check digit (GS1 EPC Tag Data
Standard); Digital Link URIs are read with biip.

Example:
    >>> parse_epc("urn:epc:class:lgtin:4012345.012345.998877")
    Epc(kind='lgtin', gtin='04012345123456', lot='998877', serial=None, code=None, sku=None)
    >>> parse_epc("https://id.gs1.org/01/09506000134352/10/ABC123").lot
    'ABC123'
    >>> parse_epc("urn:epc:id:sgln:0614141.00777.0").code
    '0614141007776'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import biip
from biip.checksums import gs1_standard_check_digit

__all__ = ["Epc", "EpcError", "parse_epc"]


class EpcError(ValueError):
    """An identifier that is not a GS1 EPC URN or Digital Link URI this importer reads."""


@dataclass(frozen=True)
class Epc:
    """What an identifier names: ``kind`` is lgtin, sgtin, gtin (a class without
    lot), sscc, sgln or pgln; ``code`` is the SSCC or GLN (``serial`` holds an
    SGLN's extension). ``other`` is an identifier with no meaning for traceability
    (a returnable asset, a ``geo:`` place, another Digital Link key or domain): it
    is recorded with its event and not traced; ``code`` holds what made it so."""

    kind: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    code: str | None = None
    sku: str | None = None  # items without a GTIN, in TraceBot's own URNs


def _digits(text: str) -> bool:
    """True for ASCII digits only ("²" and "٣" are digits to ``str.isdigit``)."""
    return text.isascii() and text.isdigit()


def _with_check_digit(digits: str) -> str:
    return digits + str(gs1_standard_check_digit(digits))


def _gtin(company: str, item: str) -> str:
    if not (_digits(company) and _digits(item)) or len(company) + len(item) != 13:
        raise EpcError(f"not a GTIN: company prefix {company!r}, item reference {item!r}")
    return _with_check_digit(item[0] + company + item[1:])


_URN = re.compile(r"^urn:epc:(id|class|idpat):([a-z]+):(.+)$")
TRACED = frozenset({"lgtin", "sgtin", "sscc", "sgln", "pgln"})
"""The EPC schemes that name goods, pallets and places; GRAI, GIAI, GSRN, GDTI and
the rest name assets, people and documents."""
PRIVATE = "urn:tracebot:"
"""TraceBot's own URNs for what has no GS1 key: ``urn:tracebot:lot:SKU:LOT``,
``urn:tracebot:item:SKU`` and ``urn:tracebot:party:ID`` (parts percent-encoded)."""


def parse_epc(uri: str) -> Epc:
    """The GS1 keys an EPC URN or a GS1 Digital Link URI names."""
    if uri.startswith(PRIVATE):
        return _from_private(uri)
    match = _URN.match(uri)
    if match:
        return _from_urn(match[2], unquote(match[3]), uri)
    if uri.startswith(("http://", "https://")):
        return _from_digital_link(uri)
    if uri.startswith(("geo:", "urn:epc:id:", "urn:epc:class:", "urn:uuid:")):
        return Epc("other", code="an identifier that names no goods, pallet or place here")
    raise EpcError(f"not a GS1 identifier: {uri!r}")


def _from_urn(scheme: str, body: str, uri: str) -> Epc:
    if scheme not in TRACED:
        return Epc("other", code=f"a {scheme.upper()}, which names no goods, pallet or place")
    parts = body.split(".")
    if scheme in ("lgtin", "sgtin") and len(parts) >= 3:
        gtin = _gtin(parts[0], parts[1])
        rest = ".".join(parts[2:])
        if rest == "*":
            return Epc("gtin", gtin=gtin)
        return (
            Epc("lgtin", gtin=gtin, lot=rest)
            if scheme == "lgtin"
            else Epc("sgtin", gtin=gtin, serial=rest)
        )
    if scheme == "sgtin" and len(parts) == 2:
        return Epc("gtin", gtin=_gtin(parts[0], parts[1]))
    if scheme == "sscc" and len(parts) == 2:
        digits = parts[1][:1] + parts[0] + parts[1][1:]
        if not _digits(digits) or len(digits) != 17 or not parts[1]:
            raise EpcError(f"not an SSCC: {uri!r}")
        return Epc("sscc", code=_with_check_digit(digits))
    if scheme in ("sgln", "pgln") and len(parts) >= 2:
        digits = parts[0] + parts[1]
        if not _digits(digits) or len(digits) != 12:
            raise EpcError(f"not a GLN: {uri!r}")
        extension = parts[2] if len(parts) > 2 and parts[2] not in ("", "0") else None
        return Epc(scheme, code=_with_check_digit(digits), serial=extension)
    raise EpcError(f"an EPC this importer does not read: {uri!r}")


def _from_private(uri: str) -> Epc:
    kind, _, rest = uri[len(PRIVATE) :].partition(":")
    parts = [unquote(part) for part in rest.split(":")]
    if kind == "lot" and len(parts) == 2 and all(parts):
        return Epc("lgtin", sku=parts[0], lot=parts[1])
    if kind == "item" and len(parts) == 1 and parts[0]:
        return Epc("gtin", sku=parts[0])
    if kind == "party" and len(parts) == 1 and parts[0]:
        return Epc("party", code=parts[0])
    raise EpcError(f"not a TraceBot identifier: {uri!r}")


def _from_digital_link(uri: str) -> Epc:
    result = biip.parse(uri)
    link = result.gs1_digital_link_uri
    if link is None:
        if re.search(r"/(01|00|414|417)/", uri) and "id.gs1.org" in uri.lower():
            raise EpcError(f"not a GS1 Digital Link URI: {uri!r}")
        return Epc("other", code="a web address that is no GS1 Digital Link of goods or places")
    values = {element.ai.ai: element.value for element in link.element_strings}
    if "00" in values:
        return Epc("sscc", code=values["00"])
    if "414" in values or "417" in values:
        return Epc("sgln" if "414" in values else "pgln", code=values.get("414") or values["417"])
    if "01" not in values:
        keys = ", ".join(sorted(values)) or "none"
        return Epc("other", code=f"a Digital Link of GS1 key {keys}, which names no goods or place")
    gtin = values["01"].zfill(14)
    if "10" in values:
        return Epc("lgtin", gtin=gtin, lot=values["10"])
    if "21" in values:
        return Epc("sgtin", gtin=gtin, serial=values["21"])
    return Epc("gtin", gtin=gtin)
