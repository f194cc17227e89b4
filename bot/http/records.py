"""What other systems record: events (receipts, consumption, shipments, QC, holds)
and EPCIS 2.0 capture. Writes always need an API key; each is all or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.http.deps import Service, Writer
from bot.http.errors import ApiError

__all__ = ["MAX_DOCUMENT", "records_router"]

MAX_DOCUMENT = 64 * 1024 * 1024


async def _json_body(request: Request, *, too_large: str) -> Any:
    raw = await request.body()
    if len(raw) > MAX_DOCUMENT:
        raise ApiError(413, "too_large", too_large)
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, "not_json", f"The body is not JSON: {err}", path="$") from err


def records_router(wake: Callable[[], None]) -> APIRouter:
    """The write routes; ``wake`` tells the alert sender that new alerts may wait."""
    router = APIRouter(tags=["records"])

    @router.post("/api/epcis/capture", status_code=201)
    async def capture(request: Request, who: Writer, service: Service) -> dict[str, Any]:
        """Capture an EPCIS 2.0 document (JSON or JSON-LD): all or nothing."""
        document = await _json_body(
            request, too_large=f"Documents over {MAX_DOCUMENT // (1024 * 1024)} MiB are refused."
        )
        if not isinstance(document, dict):
            raise ApiError(
                400, "not_epcis", "The body is not an EPCIS document (a JSON object).", path="$"
            )
        report = await run_in_threadpool(service.capture, document, caller=who)
        if report.alerts:
            wake()
        return report.as_dict()

    @router.post("/api/events")
    async def events(request: Request, who: Writer, service: Service) -> JSONResponse:
        """Record receipts, consumption, shipments, QC results, holds and releases."""
        body = await _json_body(request, too_large="Send fewer events at a time.")
        listed = body if isinstance(body, list) else [body]
        report = await run_in_threadpool(service.record_events, listed, caller=who)
        if report.rejected:
            error = ApiError(
                422,
                "rejected",
                "Nothing was recorded: "
                + "; ".join(f"{r.file}: {r.reason}" for r in report.rejected[:20]),
                path=report.rejected[0].file,
            )
            rejected = [{"path": r.file, "reason": r.reason} for r in report.rejected]
            return JSONResponse(error.body() | {"rejected": rejected}, status_code=422)
        if report.alerts:
            wake()
        return JSONResponse({"recorded": report.changed, "alerts": report.alerts}, status_code=201)

    return router
