"""Alerts over HTTP: the list with each alert's state, and asking to acknowledge,
snooze or resolve one.

``GET /api/alerts`` lists problems (``state``: open by default, or acknowledged,
snoozed, resolved, history, all). ``POST /api/alerts/{id}/acknowledge``, ``/snooze``
(``until`` or ``hours``) and ``/resolve`` (``note``) change nothing yet: their
answer carries ``data.confirm.token`` for ``POST /api/confirm``, as a hold does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from bot.http.deps import Reader, Service, Writer
from bot.http.errors import ApiError
from bot.http.schemas import READ, AnswerBody, Refusals
from trace_engine.rules import severity

__all__ = ["router"]

router = APIRouter(tags=["alerts"])

STATES = ("open", "acknowledged", "snoozed", "resolved", "history")


class AlertRow(BaseModel):
    """One problem and what became of it."""

    model_config = ConfigDict(extra="allow")

    id: int
    kind: str
    severity: str
    state: str
    lot: str | None
    message: str
    created_at: str
    consequences: int
    state_by: str | None = None
    state_at: str | None = None
    snoozed_until: str | None = None
    note: str | None = None


class AlertList(BaseModel):
    alerts: list[AlertRow]


class AlertChange(BaseModel):
    """The body of a snooze (``until``, UTC, or ``hours`` from now) or a resolve (``note``)."""

    model_config = ConfigDict(extra="forbid")

    until: datetime | None = Field(default=None, description="snooze until (UTC if no offset)")
    hours: float | None = Field(default=None, gt=0, le=24 * 90, description="snooze for")
    note: str | None = Field(default=None, max_length=500, description="what was done")


@router.get("/api/alerts", response_model=AlertList, responses=Refusals.of(*READ))
async def list_alerts(
    who: Reader,
    service: Service,
    state: Annotated[
        Literal["open", "acknowledged", "snoozed", "resolved", "history", "all"],
        Query(description="which problems: open (default), a state, or all"),
    ] = "open",
) -> dict[str, Any]:
    """Problems, newest first, each with its severity, state and who last changed it."""
    del who
    states = [s for s in STATES if s != "history"] if state == "all" else [state]
    found = await run_in_threadpool(service.open_alerts, states=states)
    return {
        "alerts": [
            {**alert, "severity": severity(alert["kind"], alert.get("detail"))} for alert in found
        ]
    }


CHANGE_REFUSED = {
    "no such alert": (404, "not_found"),
    "resolved already": (409, "resolved_already"),
    "no snooze time": (422, "invalid_request"),
    "no note": (422, "invalid_request"),
}


@router.post(
    "/api/alerts/{alert_id}/{action}",
    response_model=AnswerBody,
    response_model_exclude_unset=True,
    responses=Refusals.of(400, 401, 403, 404, 409, 413, 422, 503),
)
async def change_alert(
    who: Writer,
    service: Service,
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
    action: Literal["acknowledge", "snooze", "resolve"],
    body: AlertChange | None = None,
) -> dict[str, Any]:
    """Ask to acknowledge, snooze or resolve an alert; confirm with ``POST /api/confirm``."""
    change = body or AlertChange()
    now = datetime.now(UTC).replace(tzinfo=None)
    until = change.until
    if until is not None and until.tzinfo is not None:
        until = until.astimezone(UTC).replace(tzinfo=None)
    if until is None and change.hours is not None:
        until = now + timedelta(hours=change.hours)
    answer = await run_in_threadpool(
        lambda: service.alert_request(
            action, alert_id, caller=who, until=until, note=change.note, now=now
        )
    )
    reason = str(answer.data.get("reason", ""))
    if reason in CHANGE_REFUSED:
        status, code = CHANGE_REFUSED[reason]
        raise ApiError(status, code, answer.text)
    if answer.data.get("refused"):
        raise ApiError(403, "forbidden", answer.text)
    return answer.as_dict()
