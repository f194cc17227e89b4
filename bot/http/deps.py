"""What routes depend on, as ``Annotated`` types: the service and who is calling.

The app keeps its settings and its one ``TraceService`` (loaded on first use) on
``app.state``. ``Reader`` is the caller of a read: where TRACEBOT_API_KEYS is set
it needs a valid ``X-API-Key``; ``Writer`` always does. Both are a ``Caller``:
``api:NAME`` (the key's name), or ``web:NAME`` when the web console asks
(``X-TraceBot-Client: web``).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from bot.http.errors import ApiError
from bot.service import Caller, TraceService
from bot.settings import Settings

__all__ = ["Reader", "Service", "Writer", "conversation", "service_factory"]

ANONYMOUS = "anonymous"


def service_factory(settings: Settings) -> Callable[[], TraceService]:
    """The plant's one TraceService, loaded on first use and shared after (a load
    that fails, the database being away, is tried again on the next request)."""
    made: list[TraceService] = []
    lock = threading.Lock()

    def get() -> TraceService:
        with lock:
            if not made:
                service = TraceService.open(settings.database_url, admins=settings.admin_list)
                service.alert_horizon = settings.alert_horizon
                made.append(service)
            return made[0]

    return get


async def _service(request: Request) -> TraceService:
    service: TraceService = await run_in_threadpool(request.app.state.service)
    return service


def _caller(request: Request, api_key: str | None, client: str | None, *, write: bool) -> Caller:
    settings: Settings = request.app.state.settings
    channel = "web" if (client or "").strip().lower() == "web" else "api"
    keys = settings.api_key_list
    if not keys:
        if write:
            raise ApiError(
                401,
                "no_api_keys",
                "Writes need an API key; none is configured (TRACEBOT_API_KEYS).",
            )
        return Caller(channel, ANONYMOUS)
    if api_key is None:
        raise ApiError(401, "missing_api_key", "Send an API key in the X-API-Key header.")
    for index, key in enumerate(keys):
        # "name:secret" names a key (for TRACEBOT_ADMINS and the audit log).
        name, _, secret = key.partition(":") if ":" in key else (f"key{index + 1}", "", key)
        if hmac.compare_digest(secret.encode(), api_key.encode()):
            return Caller(channel, name)
    raise ApiError(403, "bad_api_key", "That API key is not valid.")


def conversation(who: Caller, session: object, *, default: str | None = None) -> str | None:
    """The conversation of a caller's session: one per caller and session id
    (``default`` names the one a caller has when it names no session)."""
    name = session if isinstance(session, str) and session else default
    return f"{who.key}:{name}" if name else None


def _reader(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    x_tracebot_client: Annotated[str | None, Header()] = None,
) -> Caller:
    return _caller(request, x_api_key, x_tracebot_client, write=False)


def _writer(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    x_tracebot_client: Annotated[str | None, Header()] = None,
) -> Caller:
    return _caller(request, x_api_key, x_tracebot_client, write=True)


Service = Annotated[TraceService, Depends(_service)]
Reader = Annotated[Caller, Depends(_reader)]
Writer = Annotated[Caller, Depends(_writer)]
