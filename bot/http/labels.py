"""Label photos: a photo in (the body, or the ``image`` field of a form), barcodes,
GS1 fields and the answer out. A body over TRACEBOT_MAX_IMAGE_BODY (30 MiB) is
refused with 413 while it streams in (``bot.http.limits``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from bot.http.deps import Reader, Service
from bot.http.errors import ApiError
from bot.http.schemas import IMAGE_BODY, READ, Refusals, ScanBody

__all__ = ["router"]

router = APIRouter(tags=["labels"])


@router.post(
    "/api/scan",
    response_model=ScanBody,
    response_model_exclude_unset=True,
    responses=Refusals.of(400, 413, *READ),
    openapi_extra={"requestBody": IMAGE_BODY},
)
async def scan_label(request: Request, who: Reader, service: Service) -> dict[str, Any]:
    """A label photo (the body, or the ``image`` field of a form): barcodes and answer."""
    kind = request.headers.get("content-type", "")
    name = "upload"
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "no_image", "Send the photo as the form field 'image'.")
        name = upload.filename or name
        data = await upload.read()
    else:
        data = await request.body()
    if not data:
        raise ApiError(400, "no_image", "The request holds no photo.")
    result = await run_in_threadpool(service.scan, data, today=date.today())
    return result.as_dict(name)
