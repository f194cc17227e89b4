"""TraceBot on the phone and the intercom: Twilio-compatible webhooks, /voice/query, /voice/audio.

A call is a conversation (``phone:<CallSid>``): ``POST /voice/twilio`` greets and
listens with a speech ``<Gather>`` (its hints carry the intent words and the names
people say); ``POST /voice/twilio/answer`` hands ``SpeechResult`` and
``Confidence`` to ``TraceService.hear`` and says the answer in short sentences
(lot codes digit by digit, the lot understood said back), then listens again. A
poor recognition asks to repeat; "send it to Slack" posts the last answer to the
alert channel; silence says goodbye. Holds and releases are for callers listed
in TRACEBOT_ADMINS (phone numbers), after they say yes, audited as ``phone:+1…``.

Every Twilio request must carry a valid ``X-Twilio-Signature``, checked with
twilio's RequestValidator over the URL Twilio called: TRACEBOT_PUBLIC_URL plus the
path where the app runs behind a proxy.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.http.deps import Reader, Service, conversation
from bot.http.errors import ApiError
from bot.http.schemas import (
    AUDIO_BODY,
    READ,
    TWILIO_FORM,
    VOICE_QUERY_BODY,
    AnswerBody,
    Refusals,
    VoiceQuery,
    binary,
    success,
)
from bot.service import Caller, TraceService
from bot.settings import Settings
from trace_engine.model import Answer

__all__ = ["first_sentence_words", "voice_routes"]

log = logging.getLogger(__name__)

INTERCOM = "voice"
"""The conversation an intercom or recorder has when it names no session: one per key,
so a spoken "yes" confirms the hold it asked just before."""
HINT_WORDS = (
    "who got lot, what went into lot, where did lot, mock recall, recall, expire, expiring, "
    "this week, QC, pass QC, put on hold, hold, release, reconcile, in common, supplier, "
    "send it to Slack, yes, no, goodbye, batch, dash, zero, oh"
)
GREETING = "TraceBot. Ask about a lot, for example: who got lot 4 4 7 1?"
AGAIN = "Anything else?"
BYE = re.compile(
    r"^\s*(?:goodbye|bye|good bye|that's all|that is all|nothing(?: else)?|no thanks|hang up)\b",
    re.I,
)
TO_SLACK = re.compile(r"\b(?:send|post|share)\b.*\bslack\b", re.I)
TWIML_ANSWERS = success({"application/xml": {"schema": {"type": "string"}}}, "TwiML") | Refusals.of(
    400, 403, 413, 503
)
"""A Twilio webhook answers TwiML, or 403 for a request Twilio did not sign."""


def first_sentence_words(text: str) -> int:
    """Words in the first sentence (spelled lot codes count a word per character).

    Example:
        >>> first_sentence_words("Lot 4 4 7 1 went to Sysco. It shipped twice.")
        8
    """
    first = re.split(r"(?<=[.?!])\s", text.strip(), maxsplit=1)[0]
    return len(first.split())


def voice_routes(
    settings: Settings, to_slack: Callable[[str], Awaitable[bool]] | None
) -> APIRouter:
    """The voice routes; ``to_slack`` posts a call's answer to the alert channel."""
    router = APIRouter(tags=["voice"])
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    validator = RequestValidator(token) if token else None

    async def signed_form(request: Request) -> dict[str, str]:
        """The request's form, once its Twilio signature is checked."""
        if validator is None:
            raise ApiError(503, "voice_not_configured", "Set TWILIO_AUTH_TOKEN to take calls.")
        form = {key: str(value) for key, value in (await request.form()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(_called_url(request, settings), form, signature):
            raise ApiError(403, "bad_signature", "The request is not signed by Twilio.")
        return form

    def listen(response: VoiceResponse, hints: str, prompt: str | None) -> Response:
        gather = Gather(
            input="speech",
            action="/voice/twilio/answer",
            method="POST",
            speech_timeout="auto",
            language="en-US",
            hints=hints[:4000],
            action_on_empty_result=True,
        )
        if prompt:
            gather.say(prompt)
        response.append(gather)
        return twiml(response)

    def hints(service: TraceService) -> str:
        """What people say here: the intent words, then the plant's parties and items."""
        names = service.gazetteer()
        return ", ".join([HINT_WORDS, *names.parties, *names.items])

    def twiml(response: VoiceResponse) -> Response:
        return Response(str(response), media_type="application/xml")

    def goodbye(said: str) -> Response:
        response = VoiceResponse()
        response.say(said)
        response.hangup()
        return twiml(response)

    @router.post(
        "/voice/twilio",
        response_class=Response,
        responses=TWIML_ANSWERS,
        openapi_extra={"requestBody": TWILIO_FORM},
    )
    async def incoming(request: Request) -> Response:
        """A call comes in: greet and listen."""
        await signed_form(request)
        try:
            service = await run_in_threadpool(request.app.state.service)
            said = await run_in_threadpool(hints, service)
        except Exception:  # the database is away: greet anyway, with the intent words
            log.warning("no plant names for the call's hints", exc_info=True)
            said = HINT_WORDS
        return listen(VoiceResponse(), said, GREETING)

    @router.post(
        "/voice/twilio/answer",
        response_class=Response,
        responses=TWIML_ANSWERS,
        openapi_extra={"requestBody": TWILIO_FORM},
    )
    async def answer(request: Request) -> Response:
        """What the caller said: answer it, then listen again."""
        form = await signed_form(request)
        heard = form.get("SpeechResult", "").strip()
        caller = Caller("phone", form.get("From") or "unknown")
        call = f"phone:{form.get('CallSid', '')}"
        if not heard:
            return goodbye("I didn't hear anything. Goodbye.")
        if BYE.match(heard):
            return goodbye("Goodbye.")
        try:
            service = await run_in_threadpool(request.app.state.service)
            said = await run_in_threadpool(hints, service)
            if TO_SLACK.search(heard):
                last = service.last_answer(call)
                if last is None:
                    spoken = "There is no answer to send yet. Ask me something first."
                elif to_slack is None:
                    spoken = "Slack is not set up here."
                else:
                    sent = await to_slack(f"From a call ({caller.id}):\n{last.text}")
                    spoken = "Sent to Slack." if sent else "Slack did not take it; try again later."
                return listen(VoiceResponse(), said, f"{spoken} {AGAIN}")
            reply = await run_in_threadpool(
                service.hear,
                heard,
                today=date.today(),
                caller=caller,
                conversation=call,
                confidence=_float(form.get("Confidence"), 1.0),
            )
        except Exception:  # the caller must hear something, whatever failed
            log.exception("a call's question could not be answered")
            spoken = "Sorry, I can't reach the plant's records right now. Please try again shortly."
            return listen(VoiceResponse(), HINT_WORDS, spoken)
        # A question back (confirm, say again, which item) waits for its answer alone.
        waiting = reply.data.get("reason") in (
            "confirm",
            "confirm lot",
            "say again",
            "not heard clearly",
            "ambiguous",
            "unclear",
        )
        return listen(VoiceResponse(), said, reply.speech if waiting else f"{reply.speech} {AGAIN}")

    hearing: list[Any] = []
    hearing_lock = threading.Lock()

    def hear(service: TraceService, wav: bytes, who: Caller, session: str | None) -> Answer:
        from bot.listen import Hearing

        with hearing_lock:
            if not hearing:
                hearing.append(Hearing(service))
        return hearing[0].answer(
            wav,
            today=date.today(),
            caller=who,
            conversation=conversation(who, session, default=INTERCOM),
        )

    @router.post(
        "/voice/audio",
        response_model=AnswerBody,
        responses=success(
            binary("audio/wav"), "the answer object with `transcript`, or (`?format=wav`) speech"
        )
        | Refusals.of(400, 413, *READ),
        openapi_extra={"requestBody": AUDIO_BODY},
    )
    async def audio(
        request: Request,
        who: Reader,
        service: Service,
        format: Literal["json", "wav"] = "json",
        session: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        """A WAV question, recognised offline; the answer object with ``transcript``,
        or (``?format=wav``) the spoken answer."""
        from bot.listen import speak

        wav = await request.body()  # bounded while it streams in (bot.http.limits)
        reply = await run_in_threadpool(hear, service, wav, who, session)
        if format == "wav":
            spoken = await run_in_threadpool(speak, reply.speech)
            return Response(spoken, media_type="audio/wav")
        return JSONResponse(reply.as_dict() | {"transcript": reply.query.get("transcript", "")})

    @router.post(
        "/voice/query",
        response_model=AnswerBody,
        response_model_exclude_unset=True,
        responses=Refusals.of(400, 413, *READ),
        openapi_extra={"requestBody": VOICE_QUERY_BODY},
    )
    async def query(request: Request, who: Reader, service: Service) -> dict[str, Any]:
        """Text from an intercom's own recogniser in (``confidence`` optional), the
        answer object out."""
        try:
            body = await request.json()
        except (ValueError, RecursionError) as err:  # bad JSON or text; nested too deep
            raise ApiError(400, "not_json", 'Send JSON: {"text": "who got lot 4471?"}') from err
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "no_text", 'Send the question as "text".', path="$.text")
        try:
            asked = VoiceQuery.model_validate(body)
        except ValidationError as err:  # answered as FastAPI answers a bad body: 422
            raise RequestValidationError(
                [{**problem, "loc": ("body", *problem["loc"])} for problem in err.errors()]
            ) from err
        reply = await run_in_threadpool(
            service.hear,
            asked.text,
            today=date.today(),
            caller=who,
            conversation=conversation(who, asked.session, default=INTERCOM),
            confidence=asked.confidence,
        )
        return reply.as_dict()

    return router


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def _called_url(request: Request, settings: Settings) -> str:
    """The URL Twilio called: the public base URL where one is set (behind a proxy)."""
    if settings.public_url:
        url = settings.public_url.rstrip("/") + request.url.path
        return url + (f"?{request.url.query}" if request.url.query else "")
    return str(request.url)
