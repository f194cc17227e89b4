"""TraceBot on the phone and the intercom: Twilio-compatible webhooks and /voice/query.

A call is a conversation: ``POST /voice/twilio`` greets and listens with a speech
``<Gather>`` (its hints carry the intent words, lot codes and names people say);
``POST /voice/twilio/answer`` reads ``SpeechResult`` and ``Confidence`` and says the
answer in short sentences (lot codes digit by digit), confirming the lot it
understood, then listens again for a follow-up. "Send it to Slack" posts the last
answer's details to the alert channel; a poor recognition asks to repeat; silence
says goodbye. Holds and releases are for callers listed in TRACEBOT_ADMINS (phone
numbers), after they say yes, and are audited as ``phone:+1…``.

Every Twilio request must carry a valid ``X-Twilio-Signature``, checked with
twilio's RequestValidator over the URL Twilio called: TRACEBOT_PUBLIC_URL plus the
path where the app runs behind a proxy.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.api import ApiError
from bot.render.speech import spell
from bot.service import TraceService
from bot.settings import Settings
from intents.model import Intent
from trace_engine.model import Answer

__all__ = ["CONFIDENCE_FLOOR", "Calls", "voice_routes"]

CONFIDENCE_FLOOR = 0.35
"""Below this recogniser confidence TraceBot asks the caller to say it again."""
CALLS_KEPT = 2000
MAX_AUDIO = 10 * 1024 * 1024
HINT_WORDS = (
    "who got lot, what went into lot, where did lot, mock recall, recall, expire, expiring, "
    "this week, QC, pass QC, put on hold, hold, release, reconcile, in common, supplier, "
    "send it to Slack, yes, no, goodbye, batch, dash, zero, oh"
)
GREETING = "TraceBot. Ask about a lot, for example: who got lot 4 4 7 1?"
AGAIN = "Anything else?"
YES = re.compile(r"^\s*(?:yes|yeah|yep|correct|confirm(?:ed)?|do it|go ahead|affirmative)\b", re.I)
NO = re.compile(r"^\s*(?:no|nope|cancel|stop|don't|do not|negative)\b", re.I)
BYE = re.compile(
    r"^\s*(?:goodbye|bye|good bye|that's all|that is all|nothing(?: else)?|no thanks|hang up)\b",
    re.I,
)
TO_SLACK = re.compile(r"\b(?:send|post|share)\b.*\bslack\b", re.I)


@dataclass
class Call:
    last: Answer | None = None
    pending: Intent | None = None


class Calls:
    """What each call has said and is waiting for, bounded."""

    def __init__(self, size: int = CALLS_KEPT) -> None:
        self.size = size
        self._calls: OrderedDict[str, Call] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sid: str) -> Call:
        with self._lock:
            call = self._calls.setdefault(sid, Call())
            self._calls.move_to_end(sid)
            while len(self._calls) > self.size:
                self._calls.popitem(last=False)
            return call


def first_sentence_words(text: str) -> int:
    """Words in the first sentence (spelled lot codes count a word per character).

    Example:
        >>> first_sentence_words("Lot 4 4 7 1 went to Sysco. It shipped twice.")
        8
    """
    first = re.split(r"(?<=[.?!])\s", text.strip(), maxsplit=1)[0]
    return len(first.split())


def voice_routes(
    settings: Settings,
    service: Callable[[], TraceService],
    reader: Any,
    to_slack: Callable[[str], Awaitable[bool]] | None,
) -> APIRouter:
    router = APIRouter(tags=["voice"])
    calls = Calls()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    validator = RequestValidator(token) if token else None

    async def signed_form(request: Request) -> dict[str, str]:
        """The request's form, once its Twilio signature is checked."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        if validator is None:
            raise ApiError(503, "voice_not_configured", "Set TWILIO_AUTH_TOKEN to take calls.")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(_called_url(request, settings), form, signature):
            raise ApiError(403, "bad_signature", "The request is not signed by Twilio.")
        return form

    def hints(trace: TraceService) -> str:
        genealogy = trace.genealogy
        names = [party.name for party in genealogy.parties() if party.kind != "site"]
        items = [item.name for item in genealogy.items()]
        said = [HINT_WORDS, *names, *items]
        text = ", ".join(said)
        return text[:4000]

    def listen(response: VoiceResponse, trace: TraceService, prompt: str | None) -> VoiceResponse:
        gather = Gather(
            input="speech",
            action="/voice/twilio/answer",
            method="POST",
            speech_timeout="auto",
            language="en-US",
            hints=hints(trace),
            action_on_empty_result=True,
        )
        if prompt:
            gather.say(prompt)
        response.append(gather)
        return response

    def twiml(response: VoiceResponse) -> Response:
        return Response(str(response), media_type="application/xml")

    @router.post("/voice/twilio")
    async def incoming(request: Request) -> Response:
        """A call comes in: greet and listen."""
        await signed_form(request)
        trace = await run_in_threadpool(service)
        return twiml(listen(VoiceResponse(), trace, GREETING))

    @router.post("/voice/twilio/answer")
    async def answer(request: Request) -> Response:
        """What the caller said: answer it, then listen again."""
        form = await signed_form(request)
        trace = await run_in_threadpool(service)
        heard = form.get("SpeechResult", "").strip()
        caller = form.get("From") or None
        call = calls.get(form.get("CallSid", ""))
        response = VoiceResponse()
        if not heard:
            response.say("I didn't hear anything. Goodbye.")
            response.hangup()
            return twiml(response)
        confidence = _float(form.get("Confidence"), 1.0)
        if confidence < CONFIDENCE_FLOOR:
            return twiml(
                listen(response, trace, "Sorry, I didn't catch that. Please say it again.")
            )
        if BYE.match(heard):
            response.say("Goodbye.")
            response.hangup()
            return twiml(response)
        if call.pending is not None:
            pending, call.pending = call.pending, None
            if YES.match(heard):
                done = await run_in_threadpool(
                    trace.answer, pending, today=date.today(), user=caller, actor=f"phone:{caller}"
                )
                call.last = done
                return twiml(listen(response, trace, f"{done.speech} {AGAIN}"))
            if NO.match(heard):
                return twiml(listen(response, trace, f"Nothing changed. {AGAIN}"))
        if TO_SLACK.search(heard):
            if call.last is None:
                said = "There is no answer to send yet. Ask me something first."
            elif to_slack is None:
                said = "Slack is not set up here."
            else:
                sent = await to_slack(
                    f"From a call ({caller or 'unknown caller'}):\n{call.last.text}"
                )
                said = "Sent to Slack." if sent else "Slack did not take it; try again later."
            return twiml(listen(response, trace, f"{said} {AGAIN}"))
        reply = await run_in_threadpool(
            trace.ask,
            heard,
            today=date.today(),
            user=caller,
            thread=f"call:{form.get('CallSid', '')}",
            confirm=True,
            actor=f"phone:{caller}",
        )
        confirm = reply.data.get("confirm")
        if confirm:
            lots = confirm["lots"]
            call.pending = Intent(confirm["intent"], lots=tuple(lots), confidence=1.0)
            verb = "holding" if confirm["intent"] == "hold" else "releasing"
            spoken = " and ".join(spell(code) for code in lots)
            return twiml(listen(response, trace, f"Say yes to confirm {verb} lot {spoken}."))
        call.last = reply if reply.ok else call.last
        return twiml(listen(response, trace, f"{_heard(reply)}{reply.speech} {AGAIN}"))

    hearing: list[Any] = []
    hearing_lock = threading.Lock()

    def hear(wav: bytes, who: str | None, session: str | None) -> Answer:
        from bot.listen import Hearing

        with hearing_lock:
            if not hearing:
                hearing.append(Hearing(service()))
        return hearing[0].answer(
            wav,
            today=date.today(),
            user=who,
            thread=f"voice:{who}:{session}" if session else None,
        )

    @router.post("/voice/audio")
    async def audio(
        request: Request,
        format: Annotated[str, Query(pattern="^(json|wav)$")] = "json",
        session: str | None = None,
        who: str | None = reader,
    ) -> Response:
        """A WAV question, recognised offline; the answer object with ``transcript``,
        or (``?format=wav``) the spoken answer."""
        from bot.listen import SpeechError, speak

        wav = await request.body()
        if len(wav) > MAX_AUDIO:
            raise ApiError(413, "too_large", "Recordings over 10 MiB are refused.")
        try:
            reply = await run_in_threadpool(hear, wav, who, session)
            if format == "wav":
                spoken = await run_in_threadpool(speak, reply.speech)
                return Response(spoken, media_type="audio/wav")
        except SpeechError as err:
            raise ApiError(400, "bad_audio", str(err)) from err
        return JSONResponse(reply.as_dict() | {"transcript": reply.query.get("transcript", "")})

    @router.post("/voice/query")
    async def query(request: Request, who: str | None = reader) -> dict[str, Any]:
        """Text from an intercom's own recogniser in, the answer object out."""
        try:
            body = await request.json()
        except ValueError as err:
            raise ApiError(400, "not_json", 'Send JSON: {"text": "who got lot 4471?"}') from err
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "no_text", 'Send the question as "text".', path="$.text")
        session = body.get("session")
        trace = await run_in_threadpool(service)
        reply = await run_in_threadpool(
            trace.ask,
            text,
            today=date.today(),
            user=who,
            thread=f"voice:{who}:{session}" if session else None,
        )
        return reply.as_dict()

    return router


def _heard(reply: Answer) -> str:
    """ "I understood lot L 2 0 2 4, 0 1 1 3." when the heard code was not said as it is."""
    heard = reply.query.get("heard")
    lots = reply.query.get("lots") or []
    if heard and lots and heard != lots:
        return f"I understood lot {' and '.join(spell(str(code)) for code in lots)}. "
    return ""


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
