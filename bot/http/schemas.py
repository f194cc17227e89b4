"""The shapes of the HTTP API as pydantic models, for the OpenAPI document.

Each route names its request body, its response model and the errors it may
answer (``Refusals.of``), so ``/openapi.json`` describes every request a client
can send and every answer it can get; a schema-driven fuzzer reaches every route
from it. The models are the contract's JSON shapes (``../shared/CONTRACT.md``):
they allow extra fields, so a contract extension never breaks them, and routes
answer with ``response_model_exclude_unset`` so nothing is added to a body.

>>> Refusals.of(404)[404]["description"]
'No such lot, route or confirmation (`not_found`, `unknown_confirmation`).'
>>> sorted(EVENTS_BODY["content"]["application/json"]["schema"])
['anyOf']
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AUDIO_BODY",
    "EPCIS_BODY",
    "EVENTS_BODY",
    "EVENT_TYPES",
    "IMAGE_BODY",
    "TWILIO_FORM",
    "VOICE_QUERY_BODY",
    "AnswerBody",
    "CaptureReport",
    "Confirmation",
    "ErrorBody",
    "EventsRecorded",
    "Health",
    "LotBody",
    "Refusals",
    "ScanBody",
    "TraceBody",
    "VoiceQuery",
    "binary",
    "success",
]


class Shape(BaseModel):
    """A JSON object of the contract: its named fields, and any extension."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(Shape):
    code: str = Field(description="what went wrong, for programs: `not_found`, `too_large`, …")
    message: str = Field(description="what went wrong, for people")
    path: str | None = Field(default=None, description="where: `query.limit`, `$.text`, …")


class ErrorBody(Shape):
    """Every 4xx and 5xx: ``{"error": {"code", "message", "path"?, …}}``."""

    error: ErrorDetail


class Refusals:
    """The error responses a route documents, by status."""

    DESCRIPTIONS: ClassVar[dict[int, str]] = {
        400: "The body is not what the route reads (`not_json`, `bad_audio`, `not_slack`, …).",
        401: "No API key, or no valid Slack or Twilio signature.",
        403: "The key is not valid or may not do this.",
        404: "No such lot, route or confirmation (`not_found`, `unknown_confirmation`).",
        409: "A lot code two items share (`ambiguous_lot`, with `candidates`), or a used confirmation.",
        410: "The confirmation expired.",
        413: "The body is over the route's limit (`too_large`), refused while it streams in.",
        422: "The request does not validate (`invalid_request`, with `details`), or events were rejected.",
        503: "The database cannot be reached (`database_unavailable`), or the route is not set up.",
    }

    @classmethod
    def of(cls, *statuses: int) -> dict[int | str, dict[str, Any]]:
        """The ``responses`` of a route answering ``statuses`` in the one error shape."""
        answers: dict[int | str, dict[str, Any]] = {}
        for status in statuses:
            answer: dict[str, Any] = {"model": ErrorBody, "description": cls.DESCRIPTIONS[status]}
            if status == 503:
                answer["headers"] = {
                    "Retry-After": {
                        "description": "seconds to wait (while the database is away)",
                        "schema": {"type": "string"},
                    }
                }
            answers[status] = answer
        return answers


READ = (401, 403, 422, 503)
"""What any read may answer: no key, a bad key, bad parameters, no database."""


class AnswerBody(Shape):
    """The answer object of the contract."""

    intent: str
    query: dict[str, Any]
    ok: bool
    text: str = Field(description="Slack-ready markdown")
    speech: str = Field(description="one or two short spoken sentences")
    data: dict[str, Any]


class HoldBody(Shape):
    reason: str
    placed_by: str
    placed_at: str


class LotBody(Shape):
    """A lot's facts (``data.lot`` of ``lot_info``)."""

    lot: str
    item: str
    sku: str
    quantity: float | None
    uom: str | None
    produced_on: str | None = Field(description="ISO date")
    received_on: str | None = Field(description="ISO date")
    expires_on: str | None = Field(description="ISO date")
    status: str
    on_hand: float | None
    location: str | None
    hold: HoldBody | None = None


class Movement(Shape):
    lot: str
    party: str
    quantity: float | None
    uom: str | None
    date: str | None = Field(description="ISO date")


class InputLine(Shape):
    lot: str
    item: str
    quantity: float | None
    uom: str | None


class TraceBody(Shape):
    """A lot's trace, each list paged: downstream (``direction=down``) or upstream."""

    lot: str
    direction: Literal["up", "down"]
    downstream_lots: list[str] | None = None
    shipments: list[Movement] | None = None
    customers: list[str] | None = None
    upstream_lots: list[str] | None = None
    inputs: list[InputLine] | None = None
    suppliers: list[str] | None = None
    receipts: list[Movement] | None = None
    total: dict[str, int] = Field(description="the length of each paged list")
    next_offset: int | None = Field(description="the offset of the next page, null at the end")


class Barcode(Shape):
    format: str
    text: str


class ScanBody(Shape):
    """What a label photo says, and the answer about its lot."""

    image: str
    barcodes: list[Barcode]
    gtin: str | None
    lot: str | None
    expiry: str | None
    production_date: str | None
    serial: str | None
    sscc: str | None
    answer: AnswerBody | None


class EventsRecorded(Shape):
    recorded: int = Field(description="rows written")
    alerts: int = Field(description="alerts raised")


class CaptureReport(Shape):
    files: list[dict[str, Any]]
    alerts: int
    events: int
    skipped_events: int
    rejected: list[dict[str, Any]]
    warnings: list[str] = Field(
        default_factory=list,
        description="what was recorded but not traced (an identifier that names no goods, "
        "a party no event named), each at its JSON path",
    )


class Health(Shape):
    ok: bool
    schema_: str | None = Field(alias="schema", description="the database's schema revision")


EventType = Literal["receipt", "consumption", "shipment", "qc", "hold", "release"]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)


class Event(Shape):
    """One event: its ``type`` and the columns of the matching CSV file."""

    type: EventType
    lot_code: str | None = None


class Confirmation(BaseModel):
    """The body of ``POST /api/confirm`` and ``/api/cancel``."""

    token: str = Field(min_length=8, max_length=64, description="data.confirm.token")


class VoiceQuery(Shape):
    """The body of ``POST /voice/query``: checked strictly (a confidence "high" is refused)."""

    model_config = ConfigDict(extra="allow", strict=True)

    text: str = Field(min_length=1, description="what the intercom's own recogniser heard")
    session: str | None = Field(default=None, max_length=200, description="a conversation id")
    confidence: float | None = Field(default=None, ge=0, le=1, description="the recogniser's")


class TwilioCall(Shape):
    CallSid: str | None = None
    From: str | None = None
    To: str | None = None
    SpeechResult: str | None = None
    Confidence: str | None = None


def success(
    content: dict[str, Any], description: str = "Successful Response"
) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry of a 200 that is no JSON model (images, TwiML, audio)."""
    return {200: {"description": description, "content": content}}


def binary(*media_types: str) -> dict[str, Any]:
    """A ``content`` of raw bytes in any of ``media_types``."""
    return {kind: {"schema": {"type": "string", "format": "binary"}} for kind in media_types}


def _body(content: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": content}


EVENTS_BODY = _body(
    {
        "application/json": {
            "schema": {
                "anyOf": [
                    Event.model_json_schema(),
                    {"type": "array", "items": Event.model_json_schema()},
                ]
            }
        }
    }
)
EPCIS_BODY = _body(
    {
        kind: {
            "schema": {
                "oneOf": [
                    {
                        "type": "object",
                        "description": "an EPCIS 2.0 document or query document, or one event",
                        "properties": {"type": {"type": "string"}, "epcisBody": {"type": "object"}},
                    },
                    {
                        "type": "array",
                        "description": "a list of EPCIS events",
                        "items": {"type": "object"},
                    },
                ]
            }
        }
        for kind in ("application/json", "application/ld+json")
    }
    | {
        kind: {"schema": {"type": "string", "description": "an EPCIS 1.2 or 2.0 XML document"}}
        for kind in ("application/xml", "text/xml")
    }
)
IMAGE_BODY = _body(
    binary("image/png", "image/jpeg", "application/octet-stream")
    | {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["image"],
                "properties": {"image": {"type": "string", "format": "binary"}},
            }
        }
    }
)
AUDIO_BODY = _body(binary("audio/wav"))
VOICE_QUERY_BODY = _body({"application/json": {"schema": VoiceQuery.model_json_schema()}})
TWILIO_FORM = _body(
    {"application/x-www-form-urlencoded": {"schema": TwilioCall.model_json_schema()}}
)
