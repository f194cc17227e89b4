"""Questions in words, and the confirmations of the changes they ask for.

``GET /api/ask`` answers a question (``session`` keeps a conversation, ``sku``
picks the item of a shared lot code). A hold or release is not made there: the
answer's ``data.confirm.token`` goes to ``POST /api/confirm`` (or
``/api/cancel``), with a key whose name TRACEBOT_ADMINS lists. A token is used
once; a replay or a late one changes nothing and answers 409 or 410.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from bot.http.deps import Reader, Service, Writer, conversation
from bot.http.errors import ApiError
from bot.http.schemas import READ, AnswerBody, Confirmation, Refusals
from trace_engine.model import Answer

__all__ = ["router"]

router = APIRouter(tags=["questions"])

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Refuse a day that is not ``YYYY-MM-DD`` (pydantic alone reads "0" as 1970-01-01).

    Example:
        >>> _iso_day("2026-12-01")
        '2026-12-01'
    """
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Today = Annotated[
    date | None,
    BeforeValidator(_iso_day),
    Query(description="the day 'this week' means (YYYY-MM-DD)", examples=["2026-12-01"]),
]
REFUSED = {
    "already used": (409, "already_used"),
    "expired": (410, "expired"),
    "unknown confirmation": (404, "unknown_confirmation"),
}


@router.get(
    "/api/ask",
    response_model=AnswerBody,
    response_model_exclude_unset=True,
    responses=Refusals.of(*READ),
)
async def ask(
    who: Reader,
    service: Service,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=2000,
            description="the question",
            examples=["who got lot 4471?"],
        ),
    ],
    today: Today = None,
    session: Annotated[
        str | None, Query(max_length=200, description="a conversation id for follow-ups")
    ] = None,
    sku: Annotated[
        str | None, Query(max_length=100, description="the item, where two items share the code")
    ] = None,
) -> dict[str, Any]:
    """Ask in words; the answer object of the contract."""
    answer = await run_in_threadpool(
        service.ask,
        q,
        today=today or date.today(),
        caller=who,
        conversation=conversation(who, session),
        sku=sku,
    )
    return answer.as_dict()


def _settled(answer: Answer) -> dict[str, Any]:
    """The answer of a confirmation, or the error saying why nothing changed."""
    reason = str(answer.data.get("reason", ""))
    if answer.ok:
        return answer.as_dict()
    status, code = REFUSED.get(reason, (403, "forbidden"))
    raise ApiError(status, code, answer.text, extra={"answer": answer.as_dict()})


SETTLED = Refusals.of(400, 401, 403, 404, 409, 410, 413, 422, 503)
"""A confirmation's refusals: 409 used, 410 expired, 404 unknown, 403 not the key's."""


@router.post(
    "/api/confirm",
    response_model=AnswerBody,
    response_model_exclude_unset=True,
    responses=SETTLED,
)
async def confirm(who: Writer, service: Service, body: Confirmation) -> dict[str, Any]:
    """Make the change a question asked to confirm, once; the answer says what was written."""
    return _settled(await run_in_threadpool(service.confirm, body.token, caller=who))


@router.post(
    "/api/cancel",
    response_model=AnswerBody,
    response_model_exclude_unset=True,
    responses=SETTLED,
)
async def cancel(who: Writer, service: Service, body: Confirmation) -> dict[str, Any]:
    """Drop a change waiting for its confirmation; nothing is written."""
    return _settled(await run_in_threadpool(service.cancel, body.token, caller=who))
