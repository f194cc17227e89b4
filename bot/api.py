"""The HTTP app: liveness and EPCIS capture (the REST API grows here).

``create_app(settings)`` builds the FastAPI app; routes only convert between
HTTP and the storage and engine calls. Errors have one body shape:
``{"error": {"code": ..., "message": ..., "path"?: ...}}``.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.settings import Settings
from storage.errors import StorageError

__all__ = ["ApiError", "create_app"]

log = logging.getLogger(__name__)
MAX_DOCUMENT = 64 * 1024 * 1024


class ApiError(Exception):
    """An error to send back as the one error body shape."""

    def __init__(self, status: int, code: str, message: str, *, path: str | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.path is not None:
            error["path"] = self.path
        return {"error": error}


def _key_checker(settings: Settings, *, always: bool) -> Any:
    """A dependency that checks X-API-Key against TRACEBOT_API_KEYS.

    Writes always need a key; reads need one where keys are configured.
    """
    keys = settings.api_key_list

    def check(x_api_key: Annotated[str | None, Header()] = None) -> str | None:
        if not keys:
            if always:
                raise ApiError(
                    401,
                    "no_api_keys",
                    "Writes need an API key; none is configured (TRACEBOT_API_KEYS).",
                )
            return None
        if x_api_key is None:
            raise ApiError(401, "missing_api_key", "Send an API key in the X-API-Key header.")
        for index, key in enumerate(keys):
            # "name:secret" names a key (for TRACEBOT_ADMINS and the audit log).
            name, _, secret = key.partition(":") if ":" in key else (f"key{index + 1}", "", key)
            if hmac.compare_digest(secret.encode(), x_api_key.encode()):
                return name
        raise ApiError(403, "bad_api_key", "That API key is not valid.")

    return check


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI app for the database and keys in ``settings``."""
    app = FastAPI(
        title="TraceBot", version="0.1.0", description="Lot traceability for food plants."
    )
    url = settings.database_url
    writer = Depends(_key_checker(settings, always=True))

    @app.exception_handler(ApiError)
    async def handle_api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(Exception)
    async def handle_unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=error)
        body = ApiError(
            500, "internal", "Sorry, something went wrong on our side; it has been logged."
        ).body()
        return JSONResponse(body, status_code=500)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, with a database check."""
        from storage.db import schema_revision

        try:
            revision = await run_in_threadpool(schema_revision, url)
        except StorageError as err:
            raise ApiError(503, "database_unavailable", str(err)) from err
        return {"ok": True, "schema": revision}

    @app.post("/api/epcis/capture", status_code=201)
    # A default, not Annotated: the dependency is local to this app.
    async def capture(request: Request, who: str | None = writer) -> dict[str, Any]:
        """Capture an EPCIS 2.0 document (JSON or JSON-LD): all or nothing."""
        from storage.importers.epcis import EpcisError, import_epcis

        raw = await request.body()
        if len(raw) > MAX_DOCUMENT:
            raise ApiError(
                413, "too_large", f"Documents over {MAX_DOCUMENT // (1024 * 1024)} MiB are refused."
            )
        try:
            document = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ApiError(400, "not_json", f"The body is not JSON: {err}", path="$") from err
        if not isinstance(document, dict):
            raise ApiError(
                400, "not_epcis", "The body is not an EPCIS document (a JSON object).", path="$"
            )
        try:
            report = await run_in_threadpool(
                import_epcis, url, document, source="capture", actor=f"api:{who}"
            )
        except EpcisError as err:
            raise ApiError(400, "invalid_epcis", err.reason, path=err.path) from err
        return report.as_dict()

    return app
