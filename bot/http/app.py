"""The HTTP app: REST API, voice webhooks, web console, liveness and the Slack endpoint.

``create_app(settings)`` builds the FastAPI app from one router per resource
(questions, lots, labels, records, voice); routes only convert between HTTP and
one ``TraceService`` call. Errors have one body shape,
``{"error": {"code", "message", "path"?}}`` (``bot.http.errors``). Every body is
read within its route's limit (``bot.http.limits``); every route names its
request, response and error models in the OpenAPI document (``bot.http.schemas``).

With SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET set, ``POST /slack/events`` takes
Slack's signed events, slash commands and button clicks (``bot.http.slack``; or
Socket Mode connects out);
with TRACEBOT_ALERT_CHANNEL too, a background task posts stored alerts there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bot.http import alerts, ask, labels, lots
from bot.http.deps import service_factory
from bot.http.errors import install
from bot.http.limits import BodyLimit, body_limits
from bot.http.records import records_router
from bot.http.schemas import Health, Refusals
from bot.http.voice import voice_routes
from bot.service import TraceService
from bot.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)
CONSOLE = Path(__file__).resolve().parents[1] / "web" / "console.html"


async def _keep_rules(
    settings: Settings, service: Callable[[], TraceService], stop: asyncio.Event
) -> None:
    """At start and every TRACEBOT_ALERT_CHECK seconds: run the rules a killed import
    or capture missed, and open again the snoozed alerts whose time is up."""
    while not stop.is_set():
        try:
            desk = (await asyncio.to_thread(service)).outbox()
            await asyncio.to_thread(desk.check_missed, settings.alert_horizon)
            await asyncio.to_thread(desk.wake_snoozed)
        except Exception:  # the loop must outlive any one bad round
            log.exception("rule check round failed")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.alert_check_seconds)


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
        if settings.alert_channel or settings.alert_routes:
            from bot.slack.alerts import AlertSender

            sender = AlertSender(settings, service, slack.client)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        handler = None
        if sender is not None:
            tasks.append(asyncio.create_task(sender.run(stop)))
        else:  # no Slack: the rules a killed write missed, and snoozes, still run
            tasks.append(asyncio.create_task(_keep_rules(settings, service, stop)))
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
    app.state.settings = settings
    app.state.service = service
    app.add_middleware(BodyLimit, limits=body_limits(settings))
    install(app)
    app.include_router(ask.router)
    app.include_router(alerts.router)
    app.include_router(lots.router)
    app.include_router(labels.router)
    app.include_router(records_router(sender.wake if sender is not None else _nothing))
    to_slack = None
    if slack is not None and settings.alert_channel:
        to_slack = slack.poster(settings.alert_channel)
    app.include_router(voice_routes(settings, to_slack))

    @app.get("/", include_in_schema=False)
    async def console() -> HTMLResponse:
        """The web console: ask, see the answer, the diagram and the recall checklist, scan."""
        return HTMLResponse(CONSOLE.read_text(encoding="utf-8"))

    @app.get("/healthz", response_model=Health, responses=Refusals.of(503))
    async def healthz() -> dict[str, Any]:
        """Liveness, with a database check (503 while the database is away)."""
        revision = await run_in_threadpool(TraceService.check, settings.database_url)
        return {"ok": True, "schema": revision}

    if slack is not None and not socket_mode and settings.slack_signing_secret is not None:
        from bot.http.slack import slack_router

        app.include_router(
            slack_router(slack.app, settings.slack_signing_secret.get_secret_value())
        )

    return app


def _nothing() -> None:
    """No alert sender runs: nothing to wake."""
