"""Label photos: a photo in (the body, or the ``image`` field of a form), barcodes,
GS1 fields and the answer out."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from bot.http.deps import Reader, Service
from bot.http.errors import ApiError

__all__ = ["MAX_IMAGE", "router"]

MAX_IMAGE = 30 * 1024 * 1024

router = APIRouter(tags=["labels"])


@router.post("/api/scan")
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
        data = await upload.read(MAX_IMAGE + 1)
    else:
        data = await request.body()
    if len(data) > MAX_IMAGE:
        raise ApiError(413, "too_large", "Photos over 30 MiB are refused.")
    if not data:
        raise ApiError(400, "no_image", "The request holds no photo.")
    result = await run_in_threadpool(service.scan, data, today=date.today())
    return result.as_dict(name)
