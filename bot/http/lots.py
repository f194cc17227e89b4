"""Lots as resources: a lot's facts, its trace page by page, its lineage diagram.

Long lists page with ``limit`` and ``offset``; the response says the ``total`` of
each paged list and the ``next_offset`` when more follow. A code two items share
answers 409 with the candidates; ``?sku=`` picks one. A code may hold slashes
(``/api/lots/L/24/001/trace``, or ``L%2F24%2F001``): the routes of one lot come
before the lot alone, so ``/trace`` and ``/diagram`` are never read as part of it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bot.http.deps import Reader, Service
from bot.http.schemas import READ, LotBody, Refusals, TraceBody, binary, success

__all__ = ["MAX_PAGE", "PAGE", "page", "router"]

PAGE = 100
"""Items per page of a long list unless ``limit`` says otherwise."""
MAX_PAGE = 1000

router = APIRouter(tags=["lots"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page of each list")]
Offset = Annotated[int, Query(ge=0, description="items to skip in each list")]
Sku = Annotated[
    str | None,
    Query(
        max_length=100,
        description="the item, where two items share the lot code",
        examples=["BAR-TRAIL-12"],
    ),
]
Code = Annotated[str, Path(description="the lot code (may hold slashes)", examples=["4471"])]

PAGED = {
    "down": ("downstream_lots", "shipments", "customers"),
    "up": ("upstream_lots", "inputs", "suppliers", "receipts"),
}


def page(data: dict[str, Any], keys: tuple[str, ...], limit: int, offset: int) -> dict[str, Any]:
    """``data`` with each list in ``keys`` cut to one page, and its total.

    Example:
        >>> page({"lots": list("abcde")}, ("lots",), 2, 2)
        {'lots': ['c', 'd'], 'total': {'lots': 5}, 'next_offset': 4}
    """
    paged = dict(data)
    totals = {}
    more = False
    for key in keys:
        items = data.get(key)
        if isinstance(items, list):
            totals[key] = len(items)
            paged[key] = items[offset : offset + limit]
            more = more or offset + limit < len(items)
    paged["total"] = totals
    paged["next_offset"] = offset + limit if more else None
    return paged


LOT_ERRORS = Refusals.of(*READ, 404, 409)
"""A lot's routes answer 404 for no such lot (of that item) and 409 for a shared code."""


@router.get(
    "/api/lots/{code:path}/trace",
    response_model=TraceBody,
    response_model_exclude_unset=True,
    responses=LOT_ERRORS,
)
async def lot_trace(
    code: Code,
    who: Reader,
    service: Service,
    direction: Literal["up", "down"] = "down",
    sku: Sku = None,
    limit: Limit = PAGE,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Everything downstream (shipments, customers) or upstream (inputs, suppliers)."""
    data = await run_in_threadpool(service.trace, code, direction=direction, sku=sku)
    return {"lot": code, "direction": direction, **page(data, PAGED[direction], limit, offset)}


@router.get(
    "/api/lots/{code:path}/diagram",
    response_class=Response,
    responses=success(binary("image/svg+xml", "image/png"), "the diagram")
    | Refusals.of(*READ, 404, 409),
)
async def diagram(
    code: Code, who: Reader, service: Service, format: Literal["svg", "png"] = "svg"
) -> Response:
    """The lineage diagram: suppliers left, the lot, customers right."""
    image = await run_in_threadpool(service.diagram, [code], format)
    return Response(image, media_type="image/svg+xml" if format == "svg" else "image/png")


@router.get(
    "/api/lots/{code:path}",
    response_model=LotBody,
    response_model_exclude_unset=True,
    responses=LOT_ERRORS,
)
async def lot(code: Code, who: Reader, service: Service, sku: Sku = None) -> dict[str, Any]:
    """One lot's facts: item, dates, status, on hand and where."""
    found: dict[str, Any] = await run_in_threadpool(service.lot, code, sku=sku)
    return found
