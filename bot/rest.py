"""The read routes of the REST API: ask, lots, traces, label scans and diagrams.

Answers name customers and suppliers, so where TRACEBOT_API_KEYS is set every
route here needs a key. Long lists page with ``limit`` and ``offset``; the
response says the ``total`` of each paged list and the ``next_offset`` when more
follow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bot.api import ApiError
from bot.service import TraceService, scan
from trace_engine import AmbiguousLot, TraceError
from trace_engine.model import to_data

__all__ = ["MAX_IMAGE", "PAGE", "rest_routes"]

PAGE = 100
"""Items per page of a long list unless ``limit`` says otherwise."""
MAX_PAGE = 1000
MAX_IMAGE = 30 * 1024 * 1024

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page of each list")]
Offset = Annotated[int, Query(ge=0, description="items to skip in each list")]
Sku = Annotated[str | None, Query(description="the item, where two items share the lot code")]

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


def rest_routes(service: Callable[[], TraceService], reader: Any) -> APIRouter:
    """The routes, reading through ``service``; ``reader`` checks the API key."""
    router = APIRouter()

    def lookup(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except AmbiguousLot as err:
            candidates = [{"lot": c.lot, "item": c.item, "sku": c.sku} for c in err.candidates]
            raise ApiError(
                409, "ambiguous_lot", f"{err} Add ?sku=…", extra={"candidates": candidates}
            ) from err
        except TraceError as err:
            raise ApiError(404, "not_found", str(err)) from err

    @router.get("/api/ask", tags=["questions"])
    async def ask(
        q: Annotated[str, Query(min_length=1, max_length=2000, description="the question")],
        today: Annotated[date | None, Query(description="the day 'this week' means")] = None,
        session: Annotated[
            str | None, Query(description="a conversation id for follow-ups")
        ] = None,
        who: str | None = reader,
    ) -> dict[str, Any]:
        """Ask in words; the answer object of the contract."""
        trace = await run_in_threadpool(service)
        answer = await run_in_threadpool(
            trace.ask,
            q,
            today=today or date.today(),
            user=who,
            thread=f"api:{who}:{session}" if session else None,
        )
        return answer.as_dict()

    @router.get("/api/lots/{code}", tags=["lots"])
    async def lot(code: str, sku: Sku = None, who: str | None = reader) -> dict[str, Any]:
        """One lot's facts: item, dates, status, on hand and where."""
        trace = await run_in_threadpool(service)
        info = await run_in_threadpool(lookup, lambda: trace.genealogy.lot_info(code, sku=sku))
        found: dict[str, Any] = to_data(info)["lot"]
        return found

    @router.get("/api/lots/{code}/trace", tags=["lots"])
    async def lot_trace(
        code: str,
        direction: Annotated[str, Query(pattern="^(up|down)$")] = "down",
        sku: Sku = None,
        limit: Limit = PAGE,
        offset: Offset = 0,
        who: str | None = reader,
    ) -> dict[str, Any]:
        """Everything downstream (shipments, customers) or upstream (inputs, suppliers)."""
        trace = await run_in_threadpool(service)
        genealogy = trace.genealogy
        call = genealogy.downstream if direction == "down" else genealogy.upstream
        result = await run_in_threadpool(lookup, lambda: call(code, sku=sku))
        data = to_data(result)
        return {"lot": code, "direction": direction, **page(data, PAGED[direction], limit, offset)}

    @router.get("/api/lots/{code}/diagram", tags=["lots"])
    async def diagram(
        code: str,
        format: Annotated[str, Query(pattern="^(svg|png)$")] = "svg",
        who: str | None = reader,
    ) -> Response:
        """The lineage diagram: suppliers left, the lot, customers right."""
        from bot.export import DiagramError, render_diagram

        trace = await run_in_threadpool(service)
        try:
            image = await run_in_threadpool(
                lookup, lambda: render_diagram(trace.genealogy, [code], format)
            )
        except DiagramError as err:
            raise ApiError(503, "no_diagram", str(err)) from err
        return Response(image, media_type="image/svg+xml" if format == "svg" else "image/png")

    @router.post("/api/scan", tags=["labels"])
    async def scan_label(request: Request, who: str | None = reader) -> dict[str, Any]:
        """A label photo (the body, or the ``image`` field of a form): barcodes and answer."""
        kind = request.headers.get("content-type", "")
        name = "upload"
        if kind.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("image")
            if upload is None or isinstance(upload, str):
                raise ApiError(400, "no_image", "Send the photo as the form field 'image'.")
            name = upload.filename or name
            data = await upload.read(MAX_IMAGE + 1)
        else:
            data = await request.body()
        if len(data) > MAX_IMAGE:
            raise ApiError(413, "too_large", "Photos over 30 MiB are refused.")
        if not data:
            raise ApiError(400, "no_image", "The request holds no photo.")
        trace = await run_in_threadpool(service)
        result = await run_in_threadpool(scan, trace, data, today=date.today())
        return result.as_dict(name)

    return router
