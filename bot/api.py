"""The HTTP app: liveness, events and EPCIS capture, and the Slack endpoint.

``create_app(settings)`` builds the FastAPI app; routes only convert between
HTTP and the storage and engine calls. Errors have one body shape:
``{"error": {"code": ..., "message": ..., "path"?: ...}}``.

With SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET set, ``POST /slack/events`` takes
Slack's events, slash commands and button clicks (or Socket Mode connects out);
with TRACEBOT_ALERT_CHANNEL too, a background task posts stored alerts there.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.settings import Settings
from storage.errors import StorageError

if TYPE_CHECKING:
    from bot.service import TraceService

__all__ = ["ApiError", "create_app"]

log = logging.getLogger(__name__)
MAX_DOCUMENT = 64 * 1024 * 1024
CONSOLE = Path(__file__).resolve().parent / "web" / "console.html"


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
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.extra = extra or {}
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.path is not None:
            error["path"] = self.path
        return {"error": error | self.extra}


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


def service_factory(settings: Settings) -> Callable[[], TraceService]:
    """The plant's one TraceService, loaded on first use and shared after."""
    made: list[TraceService] = []
    lock = threading.Lock()

    def get() -> TraceService:
        with lock:
            if not made:
                from bot.service import TraceService

                made.append(TraceService.open(settings.database_url, admins=settings.admin_list))
            return made[0]

    return get


def create_app(settings: Settings, *, socket_mode: bool = False) -> FastAPI:
    """The FastAPI app for the database and keys in ``settings``."""
    service = service_factory(settings)
    slack = None
    sender = None
    if socket_mode and (settings.slack_bot_token is None or settings.slack_app_token is None):
        raise ValueError("Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN (an xapp- token).")
    if settings.slack_bot_token is not None and (
        settings.slack_signing_secret is not None or socket_mode
    ):
        from bot.slack.app import SlackBot

        slack = SlackBot(settings, service, socket_mode=socket_mode)
        if settings.alert_channel:
            from bot.slack.alerts import AlertSender

            sender = AlertSender(settings, service, slack.client)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        handler = None
        if sender is not None:
            tasks.append(asyncio.create_task(sender.run(stop)))
        if socket_mode and slack is not None and settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(slack.app, settings.slack_app_token.get_secret_value())
            await handler.connect_async()
        try:
            yield
        finally:
            stop.set()
            if handler is not None:
                await handler.close_async()
            for task in tasks:
                await task

    app = FastAPI(
        title="TraceBot",
        version="0.1.0",
        description="Lot traceability for food plants.",
        lifespan=lifespan,
    )
    url = settings.database_url
    writer = Depends(_key_checker(settings, always=True))
    reader = Depends(_key_checker(settings, always=False))

    from bot.rest import rest_routes
    from bot.voice import voice_routes

    app.include_router(rest_routes(service, reader))
    to_slack = None
    if slack is not None and settings.alert_channel:
        client, channel = slack.client, settings.alert_channel

        async def to_slack(text: str) -> bool:
            try:
                await client.chat_postMessage(channel=channel, text=text, unfurl_links=False)
            except Exception:
                log.warning("could not post a call's answer to Slack", exc_info=True)
                return False
            return True

    app.include_router(voice_routes(settings, service, reader, to_slack))

    @app.get("/", include_in_schema=False)
    async def console() -> HTMLResponse:
        """The web console: ask, see the answer, the diagram and the recall checklist, scan."""
        return HTMLResponse(CONSOLE.read_text(encoding="utf-8"))

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
        if sender is not None and report.alerts:
            sender.wake()
        return report.as_dict()

    @app.post("/api/events")
    async def events(request: Request, who: str | None = writer) -> JSONResponse:
        """Record receipts, consumption, shipments, QC results, holds and releases."""
        from storage.importers.events import record_events

        raw = await request.body()
        if len(raw) > MAX_DOCUMENT:
            raise ApiError(413, "too_large", "Send fewer events at a time.")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ApiError(400, "not_json", f"The body is not JSON: {err}", path="$") from err
        listed = body if isinstance(body, list) else [body]
        report = await run_in_threadpool(record_events, url, listed, actor=f"api:{who}")
        if report.rejected:
            return JSONResponse(
                {
                    "error": {
                        "code": "rejected",
                        "message": "Nothing was recorded: "
                        + "; ".join(f"{r.file}: {r.reason}" for r in report.rejected[:20]),
                        "path": report.rejected[0].file,
                    },
                    "rejected": [{"path": r.file, "reason": r.reason} for r in report.rejected],
                },
                status_code=422,
            )
        if sender is not None and report.alerts:
            sender.wake()
        return JSONResponse({"recorded": report.changed, "alerts": report.alerts}, status_code=201)

    if slack is not None and not socket_mode:
        from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

        slack_handler = AsyncSlackRequestHandler(slack.app)

        @app.post("/slack/events")
        async def slack_events(request: Request) -> Any:
            """Slack's events, slash commands and interactions; signed requests only."""
            return await slack_handler.handle(request)

    return app
