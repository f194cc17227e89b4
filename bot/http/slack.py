"""Slack's HTTP endpoint, ``POST /slack/events``: signature first, then the body.

The body arrives bounded (``bot.http.limits``: over TRACEBOT_MAX_SLACK_BODY is a
413 while it streams in). Its signature is checked on the raw bytes before
anything reads them: ``X-Slack-Request-Timestamp`` must be a Unix time within
five minutes of now, ``X-Slack-Signature`` the ``v0=`` HMAC-SHA256 of
``v0:{timestamp}:{body}`` under SLACK_SIGNING_SECRET. An unsigned, stale, forged
or malformed-header request is 401; only a signed body is decoded and parsed, and
one that is no Slack payload (not UTF-8, not JSON where JSON is due, no JSON
object) is 400. Refusals are in the one error shape; bolt takes what passes.

slack_sdk's ``SignatureVerifier`` does this check for text, but it decodes the
body as UTF-8 and reads the timestamp with ``int()`` first, so a non-UTF-8 body or
a timestamp ``abc`` raises instead of failing: hence the check below on bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.http.errors import ApiError
from bot.http.schemas import Refusals

__all__ = ["MAX_AGE", "check_signature", "slack_router"]

log = logging.getLogger(__name__)

MAX_AGE = 5 * 60
"""Seconds a signed request stays valid: older ones may be replays (Slack's own rule)."""
STAMP_DIGITS = 12


def check_signature(
    secret: str, body: bytes, timestamp: str | None, signature: str | None, *, now: float
) -> None:
    """Return if ``signature`` signs ``body`` at ``timestamp`` with ``secret``; else raise.

    Raises:
        ApiError: 401 ``missing_signature``, ``bad_timestamp``, ``stale_request`` or
            ``bad_signature``.

    Example:
        >>> stamp = "1700000000"
        >>> digest = hmac.new(b"s3cret", b"v0:" + stamp.encode() + b":" + b"{}", hashlib.sha256)
        >>> check_signature("s3cret", b"{}", stamp, f"v0={digest.hexdigest()}", now=1700000010)
        >>> try:
        ...     check_signature("s3cret", b"{}", "abc", "v0=00", now=1700000010)
        ... except ApiError as err:
        ...     print(err.status, err.code)
        401 bad_timestamp
    """
    if not timestamp or not signature:
        raise ApiError(
            401,
            "missing_signature",
            "Slack requests need X-Slack-Signature and X-Slack-Request-Timestamp.",
        )
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= STAMP_DIGITS):
        raise ApiError(401, "bad_timestamp", "X-Slack-Request-Timestamp is no Unix time.")
    if abs(now - int(timestamp)) > MAX_AGE:
        raise ApiError(
            401, "stale_request", "The request is more than five minutes old (or ahead)."
        )
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    # Headers arrive as latin-1 text: compared as bytes, any header value compares.
    if not hmac.compare_digest(f"v0={digest.hexdigest()}".encode(), signature.encode("latin-1")):
        raise ApiError(401, "bad_signature", "The request is not signed by Slack.")


def _bolt_request(body: bytes, request: Request) -> AsyncBoltRequest:
    """The signed body as bolt's request.

    Raises:
        ApiError: 400 ``not_utf8`` or ``not_slack``.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, "not_utf8", "The body is not UTF-8 text.") from err
    try:
        # bolt parses JSON, a form, or a form's JSON ``payload``, and reads ids from them.
        parsed = AsyncBoltRequest(body=text, query=request.url.query, headers=request.headers)  # type: ignore[arg-type]
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as err:
        raise ApiError(400, "not_slack", "The body is no Slack payload.") from err
    if not isinstance(parsed.body, dict) or not parsed.body:
        raise ApiError(400, "not_slack", "The body is no Slack payload (a JSON object or a form).")
    try:
        Envelope.model_validate(parsed.body)
    except ValidationError as err:
        where = ".".join(str(part) for part in err.errors()[0]["loc"])
        raise ApiError(400, "not_slack", f"The body is no Slack payload ({where}).") from err
    return parsed


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Event(_Loose):
    type: str


class Action(_Loose):
    action_id: str | None = None
    block_id: str | None = None


class View(_Loose):
    type: str
    callback_id: str | None = None


class Envelope(_Loose):
    """The parts of a Slack payload bolt reads before any listener: checked, so a
    signed body with the wrong types there is a 400, not bolt's 500."""

    type: str | None = None
    event: Event | None = None
    actions: list[Action] | None = None
    view: View | None = None


class SlackAck(BaseModel):
    """What Slack gets back: an empty acknowledgement, or a message for a slash command."""

    model_config = ConfigDict(extra="allow")


SLACK_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "description": "an Events API event"}},
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "description": "a slash command, or an interaction's JSON in `payload`",
                "properties": {"payload": {"type": "string"}, "command": {"type": "string"}},
            }
        },
    },
}


def slack_router(app: AsyncApp, secret: str) -> APIRouter:
    """``POST /slack/events`` for the bolt ``app`` whose requests ``secret`` signs."""
    router = APIRouter(tags=["slack"])

    @router.post(
        "/slack/events",
        response_model=SlackAck,
        responses=Refusals.of(400, 401, 404, 413, 422),
        openapi_extra={"requestBody": SLACK_BODY},
    )
    async def slack_events(
        request: Request,
        x_slack_signature: str | None = Header(default=None, description="v0=HMAC-SHA256"),
        x_slack_request_timestamp: str | None = Header(default=None, description="Unix time"),
    ) -> Any:
        """Slack's events, slash commands and interactions; signed requests only."""
        body = await request.body()  # bounded while it streams in (bot.http.limits)
        check_signature(secret, body, x_slack_request_timestamp, x_slack_signature, now=time.time())
        answer = await app.async_dispatch(_bolt_request(body, request))
        if answer.status >= 400:
            raise _refused(answer.status)
        response: Response = to_starlette_response(answer)
        return response

    return router


def _refused(status: int) -> ApiError:
    """Bolt's own refusal of a signed request, in the one shape (bolt has logged why)."""
    if status >= 500:  # a listener's middleware failed; bolt logged its traceback
        return ApiError(500, "slack_failed", "Sorry, that did not work; it has been logged.")
    if status == 404:
        return ApiError(404, "not_handled", "TraceBot does not handle that Slack request.")
    return ApiError(400, "not_slack", "The body is no Slack request TraceBot can take.")
