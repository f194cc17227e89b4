"""Request body limits, enforced while the body is read.

``BodyLimit`` is ASGI middleware: a request whose ``Content-Length`` is over its
route's limit is answered 413 before a byte of the body is read; one without a
length (chunked) is counted as it streams in, and the route reading it gets a
413 as soon as the count passes the limit. Nothing larger than the limit is
ever held in memory. The limits are settings (``TRACEBOT_MAX_*_BODY``):

>>> from bot.settings import load_settings
>>> limits = body_limits(load_settings(max_slack_body="1MiB", max_body="64KiB"))
>>> limits.of("/slack/events"), limits.of("/api/ask")
(1048576, 65536)
>>> limits.rule("/epcis/capture")[1]
'EPCIS documents'
>>> size_words(31457280), size_words(1536)
('30 MiB', '1.5 KiB')
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ByteSize
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.errors import ApiError
from bot.settings import Settings

__all__ = ["BodyLimit", "Limits", "body_limits", "size_words"]


@dataclass(frozen=True)
class Limits:
    """The largest body each route reads: ``routes`` by path (a trailing ``/`` is a
    prefix), ``default`` for every other."""

    routes: tuple[tuple[str, int, str], ...]
    """(path, bytes, what the body is, for the message)."""
    default: int

    def rule(self, path: str) -> tuple[int, str]:
        """The limit of ``path`` and what its body is called."""
        for route, limit, what in self.routes:
            if path == route or (route.endswith("/") and path.startswith(route)):
                return limit, what
        return self.default, "Request bodies"

    def of(self, path: str) -> int:
        return self.rule(path)[0]


def body_limits(settings: Settings) -> Limits:
    """The limits ``settings`` set, by route."""
    return Limits(
        routes=(
            ("/slack/events", settings.max_slack_body, "Slack requests"),
            ("/api/scan", settings.max_image_body, "Photos"),
            ("/voice/audio", settings.max_audio_body, "Recordings"),
            ("/api/epcis/capture", settings.max_epcis_body, "EPCIS documents"),
            ("/epcis/", settings.max_epcis_body, "EPCIS documents"),
        ),
        default=settings.max_body,
    )


def size_words(size: int) -> str:
    """A byte count as people read it ("30 MiB")."""
    return ByteSize(size).human_readable(separator=" ").replace(".0 ", " ")


def _refusal(limit: int, what: str) -> str:
    return f"{what} over {size_words(limit)} are refused."


class BodyLimit:
    """ASGI middleware refusing, with 413 ``too_large``, a body over its route's limit."""

    def __init__(self, app: ASGIApp, *, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limits.rule(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = ApiError(413, "too_large", _refusal(limit, what)).response()
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's read: its error handlers answer in the one shape.
                    raise HTTPException(413, _refusal(limit, what))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body length (None when absent or not a number: the server's
    parser refuses a malformed one itself)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
