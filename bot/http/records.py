"""What other systems record: events (receipts, consumption, shipments, QC, holds)
and EPCIS 2.0 capture. Writes always need an API key; each is all or nothing.
Bodies over their limit (TRACEBOT_MAX_BODY, TRACEBOT_MAX_EPCIS_BODY) are refused
with 413 while they stream in (``bot.http.limits``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.http.deps import Service, Writer
from bot.http.errors import ApiError
from bot.http.schemas import (
    EPCIS_BODY,
    EVENT_TYPES,
    EVENTS_BODY,
    CaptureReport,
    ErrorBody,
    EventsRecorded,
    Refusals,
)

__all__ = ["records_router"]

WRITE = (400, 401, 403, 413, 422, 503)
"""What any write may answer: no JSON, no key, a bad key, too large, bad headers, no database."""


async def _json_body(request: Request) -> Any:
    raw = await request.body()  # bounded while it streams in (bot.http.limits)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:  # bad JSON or text; nested too deep
        raise ApiError(400, "not_json", f"The body is not JSON: {err}", path="$") from err


def _rejected(problems: list[tuple[str, str]]) -> JSONResponse:
    """422: nothing was recorded, and each rejected event by its JSON path and reason."""
    error = ApiError(
        422,
        "rejected",
        "Nothing was recorded: " + "; ".join(f"{path}: {reason}" for path, reason in problems[:20]),
        path=problems[0][0],
    )
    rejected = [{"path": path, "reason": reason} for path, reason in problems]
    return JSONResponse(error.body() | {"rejected": rejected}, status_code=422)


def records_router(wake: Callable[[], None]) -> APIRouter:
    """The write routes; ``wake`` tells the alert sender that new alerts may wait."""
    router = APIRouter(tags=["records"])

    @router.post(
        "/api/epcis/capture",
        status_code=201,
        response_model=CaptureReport,
        response_model_exclude_unset=True,
        responses=Refusals.of(*WRITE),
        openapi_extra={"requestBody": EPCIS_BODY},
    )
    async def capture(request: Request, who: Writer, service: Service) -> dict[str, Any]:
        """Capture an EPCIS document (2.0 JSON or JSON-LD, a bare event or a list of
        events, or 1.2 / 2.0 XML): all or nothing."""
        raw = await request.body()
        xml = "xml" in request.headers.get("content-type", "") or raw.lstrip().startswith(b"<")
        document = raw if xml else await _json_body(request)  # XML is read by the importer
        if not isinstance(document, bytes | dict | list):
            raise ApiError(
                400,
                "not_epcis",
                "The body is not an EPCIS document, an event or a list of events.",
                path="$",
            )
        report = await run_in_threadpool(service.capture, document, caller=who)
        if report.alerts:
            wake()
        return report.as_dict()

    @router.post(
        "/api/events",
        status_code=201,
        response_model=EventsRecorded,
        responses=Refusals.of(*WRITE)
        | {
            422: {
                "model": ErrorBody,
                "description": "Nothing was recorded: `rejected` lists each event refused "
                "by its JSON path and reason.",
            }
        },
        openapi_extra={"requestBody": EVENTS_BODY},
    )
    async def events(request: Request, who: Writer, service: Service) -> JSONResponse:
        """Record receipts, consumption, shipments, QC results, holds and releases."""
        body = await _json_body(request)
        listed = body if isinstance(body, list) else [body]
        untyped = [
            (f"$[{index}].type", f"type must be one of {', '.join(EVENT_TYPES)}")
            for index, event in enumerate(listed)
            if isinstance(event, dict) and not isinstance(event.get("type"), str | None)
        ]
        if untyped:  # a type that is no string (a list, an object) names no table
            return _rejected(untyped)
        report = await run_in_threadpool(service.record_events, listed, caller=who)
        if report.rejected:
            return _rejected([(r.file, r.reason) for r in report.rejected])
        if report.alerts:
            wake()
        return JSONResponse({"recorded": report.changed, "alerts": report.alerts}, status_code=201)

    return router
