"""One table from errors to HTTP answers, and the one error body shape.

Every 4xx and 5xx the app sends, request validation and unknown routes included,
is ``{"error": {"code", "message", "path"?, …}}``. Domain errors map by class
(``ERRORS``; the most specific class wins); a database that cannot be reached is a
503 with ``Retry-After``; anything unexpected is logged and answered 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from bot.export import DiagramError
from bot.service.errors import DatabaseUnavailable, EpcisError, SchemaOutdated
from intents.speech import SpeechError
from trace_engine import AmbiguousLot, TraceError

__all__ = ["ERRORS", "RETRY_AFTER", "ApiError", "Mapping", "install"]

log = logging.getLogger(__name__)

RETRY_AFTER = 5
"""Seconds a client should wait before trying again while the database is away."""


class ApiError(Exception):
    """An error to send back as the one error body shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        path: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.path is not None:
            error["path"] = self.path
        return {"error": error | self.extra}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers or None)


@dataclass(frozen=True)
class Mapping:
    """How one error class is answered: status, code, and what else to say."""

    status: int
    code: str
    extra: Callable[[Any], dict[str, Any]] | None = None
    path: Callable[[Any], str | None] | None = None
    retry: bool = False


def _candidates(err: AmbiguousLot) -> dict[str, Any]:
    return {"candidates": [{"lot": c.lot, "item": c.item, "sku": c.sku} for c in err.candidates]}


ERRORS: dict[type[Exception], Mapping] = {
    AmbiguousLot: Mapping(409, "ambiguous_lot", extra=_candidates),
    TraceError: Mapping(404, "not_found"),
    EpcisError: Mapping(400, "invalid_epcis", path=lambda err: err.path),
    SpeechError: Mapping(400, "bad_audio"),
    DiagramError: Mapping(503, "no_diagram"),
    DatabaseUnavailable: Mapping(503, "database_unavailable", retry=True),
    # The client left before its body was read: nobody reads the answer, nothing to log.
    ClientDisconnect: Mapping(400, "client_disconnected"),
    SchemaOutdated: Mapping(503, "schema_outdated", retry=True),
}
"""Domain errors by class: what each becomes on the wire."""

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def _message(err: Exception) -> str:
    if isinstance(err, EpcisError):
        return err.reason
    if isinstance(err, AmbiguousLot):
        return f"{err} Add ?sku=…"
    if isinstance(err, ClientDisconnect):
        return "The request ended before its body did."
    return str(err)


def as_api_error(err: Exception) -> ApiError:
    """The ApiError an exception stands for (500 ``internal`` when none is mapped)."""
    if isinstance(err, ApiError):
        return err
    for kind in type(err).__mro__:
        mapping = ERRORS.get(kind)
        if mapping is not None:
            return ApiError(
                mapping.status,
                mapping.code,
                _message(err),
                path=mapping.path(err) if mapping.path else None,
                extra=mapping.extra(err) if mapping.extra else None,
                headers={"Retry-After": str(RETRY_AFTER)} if mapping.retry else None,
            )
    return ApiError(500, "internal", "Sorry, something went wrong on our side; it has been logged.")


def _validation(err: RequestValidationError) -> ApiError:
    problems: list[dict[str, str]] = [
        {
            "path": ".".join(str(part) for part in problem.get("loc", ())),
            "message": problem.get("msg", ""),
        }
        for problem in err.errors()
    ]
    first = problems[0] if problems else {"path": "", "message": "invalid request"}
    message = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
    return ApiError(
        422, "invalid_request", message, path=first["path"] or None, extra={"details": problems}
    )


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the one shape."""

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        return _validation(err).response()

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, err: HTTPException) -> JSONResponse:
        code = STATUS_CODES.get(err.status_code, "http_error")
        error = ApiError(err.status_code, code, str(err.detail), headers=dict(err.headers or {}))
        return error.response()

    async def mapped(_request: Request, err: Exception) -> JSONResponse:
        error = as_api_error(err)
        if error.status >= 500 and error.code == "internal":
            log.exception("unexpected error", exc_info=err)
        elif error.status >= 500:
            log.warning("%s: %s", error.code, error.message)
        return error.response()

    kinds: list[type[Exception]] = [ApiError, *ERRORS, Exception]
    for kind in kinds:
        app.add_exception_handler(kind, mapped)
