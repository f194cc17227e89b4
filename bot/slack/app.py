"""TraceBot in Slack: mentions, direct messages, /trace, label photos, buttons, App Home.

``SlackBot`` wraps a slack-bolt ``AsyncApp`` around the one ``TraceService`` that
every adapter uses; it only converts Slack's events and clicks into service calls
and the answers into Block Kit. HTTP mode mounts it at ``POST /slack/events``
(``bot.http.slack`` checks the size, then the signature on the raw bytes, and
refuses requests older than five minutes, before bolt parses a byte); Socket
Mode connects out instead. Events are acknowledged at once and answered after;
every event id, message, file and click is claimed first (``first_time``), so a
retried event (``X-Slack-Retry-Num``), the same photo announced twice or the same
click delivered again is answered once.

Holds, releases and recalls are for users in TRACEBOT_ADMINS; every change of
state (acknowledging an alert too) is asked first and made by its Confirm button,
which works once. The audit log names the Slack user (``slack:U…``). Whatever
fails, the person gets a short reply in the thread and the traceback is logged.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.markup import cell, slack
from bot.service import ALERT_ACTIONS, Caller, DatabaseUnavailable, TraceService
from bot.settings import Settings
from bot.slack.blocks import (
    alert_blocks,
    answer_blocks,
    confirm_blocks,
    home_view,
    list_rows,
    resolve_modal,
)
from intents.model import Intent
from trace_engine import TraceError
from trace_engine.model import Answer

__all__ = ["MAX_FILE", "SlackBot", "SlackNotConfigured"]

log = logging.getLogger(__name__)

MAX_FILE = 25 * 1024 * 1024
"""The largest photo downloaded from Slack."""
HOME_DAYS = 14
SLACK_FILE_HOSTS = ("files.slack.com",)
SORRY = "Sorry, that did not work; it has been logged."
AWAY = "I can't reach the plant's records right now; please try again in a minute."


async def _upload_csv(
    client: AsyncWebClient,
    channel: str,
    thread_ts: str | None,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    filename: str,
    title: str,
) -> None:
    """Rows as a CSV file in the thread, each value a cell no spreadsheet runs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    await client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        content=buffer.getvalue(),
        filename=filename,
        title=title,
    )


class SlackNotConfigured(Exception):
    """SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is missing."""


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client, pointed at SLACK_API_URL (Slack's own by default)."""
    base = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    return AsyncWebClient(token=_secret(settings.slack_bot_token), base_url=base)


def _caller(user: str | None) -> Caller:
    return Caller("slack", user or "unknown")


def _failure(error: BaseException) -> Answer:
    """What a person is told when answering failed: the database is away, or it is logged."""
    text = AWAY if isinstance(error, DatabaseUnavailable) else SORRY
    return Answer("unknown", {}, False, text, text, {"reason": "internal error"})


class SlackBot:
    """The Slack side of TraceBot for one plant."""

    def __init__(
        self,
        settings: Settings,
        service: Callable[[], TraceService],
        *,
        socket_mode: bool = False,
        today: Callable[[], date] = date.today,
    ) -> None:
        token = _secret(settings.slack_bot_token)
        secret = _secret(settings.slack_signing_secret)
        if not token or not (secret or socket_mode):
            raise SlackNotConfigured(
                "Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET in the environment."
            )
        self.settings = settings
        self.service = service
        self.today = today
        self.client = slack_client(settings)
        self.token = token
        self.file_hosts = {*SLACK_FILE_HOSTS, urlsplit(settings.slack_api_url).hostname or ""}
        # Socket Mode requests come over Slack's own connection, unsigned; over HTTP
        # every request must carry a valid signature.
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret or "",
            request_verification_enabled=not socket_mode,
            process_before_response=False,
            raise_error_for_unhandled_request=False,
        )
        self._register()

    def poster(self, channel: str) -> Callable[[str], Awaitable[bool]]:
        """An async function posting plain text to ``channel`` (a call's "send it to Slack")."""

        async def post(text: str) -> bool:
            try:
                await self.client.chat_postMessage(
                    channel=channel, text=slack(text), unfurl_links=False
                )
            except Exception:
                log.warning("could not post a call's answer to Slack", exc_info=True)
                return False
            return True

        return post

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """A service method, run off the event loop."""
        service = await asyncio.to_thread(self.service)
        return await asyncio.to_thread(getattr(service, method), *args, **kwargs)

    # --- wiring ---------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.middleware(self._skip_retries)
        app.event("app_mention")(self._on_message)
        app.event("message")(self._on_message)
        app.event("file_shared")(self._on_file_shared)
        app.event("app_home_opened")(self._on_home)
        app.command("/trace")(self._on_command)
        app.action(re.compile(r"^tb_"))(self._on_action)
        app.view("tb_resolve")(self._on_resolve)

    async def _skip_retries(
        self, body: dict[str, Any], next: Callable[[], Awaitable[Any]], logger: Any
    ) -> Any:
        """An event id is handled once: a retry of a handled event is acknowledged only."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await self._claim(f"slack:{event_id}"):
            logger.info("event %s was handled already; not again", event_id)
            return BoltResponse(status=200, body="")
        return await next()

    async def _claim(self, key: str) -> bool:
        claimed: bool = await self._call("first_time", key)
        return claimed

    # --- questions --------------------------------------------------------------------

    async def _answer(self, text: str, *, user: str | None, conversation: str) -> Answer:
        try:
            answer: Answer = await self._call(
                "ask", text, today=self.today(), caller=_caller(user), conversation=conversation
            )
        except Exception as err:
            log.exception("could not answer %r", text)
            return _failure(err)
        return answer

    def _blocks(self, answer: Answer) -> list[dict[str, Any]]:
        confirm = answer.data.get("confirm") if answer.data.get("reason") == "confirm" else None
        if confirm:
            return confirm_blocks(answer.text, confirm["token"])
        return answer_blocks(answer, as_of=datetime.now(UTC))

    async def _post(
        self,
        client: AsyncWebClient,
        channel: str,
        answer: Answer,
        *,
        thread_ts: str | None,
    ) -> None:
        await client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=slack(answer.text)[:3000],
            blocks=self._blocks(answer),
            unfurl_links=False,
        )

    async def _reply(
        self, event: dict[str, Any], client: AsyncWebClient, *, thread_ts: str | None, key: str
    ) -> None:
        """Answer a message once: its photos, then its question (``key`` names the
        conversation whose context a follow-up reuses)."""
        channel, ts = event["channel"], event["ts"]
        if not await self._claim(f"msg:{channel}:{ts}"):
            return
        if event.get("files"):
            await self._photos(client, event["files"], channel=channel, thread_ts=thread_ts or ts)
            if not _words(event.get("text", "")):
                return
        # The words without the mention: "<@TraceBot> yes" is a "yes".
        text = _words(event.get("text", "")) or "help"
        answer = await self._answer(text, user=event.get("user"), conversation=key)
        await self._post(client, channel, answer, thread_ts=thread_ts)

    async def _on_message(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """Mentions in channels (answered in the message's thread) and direct messages."""
        if event.get("type") == "app_mention":
            thread_ts = event.get("thread_ts") or event["ts"]
            key = f"slack:{event['channel']}:{thread_ts}"
        elif (
            event.get("bot_id")
            or event.get("subtype") not in (None, "file_share")
            or event.get("channel_type") != "im"
        ):
            return  # channel messages come as mentions; bots and edits are no questions
        else:
            thread_ts = event.get("thread_ts")
            key = f"slack:{event['channel']}" + (f":{thread_ts}" if thread_ts else "")
        await self._reply(event, client, thread_ts=thread_ts, key=key)

    async def _on_file_shared(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """A file shared in a direct message, when no message event carried it."""
        channel = event.get("channel_id", "")
        if not channel.startswith("D") or not event.get("file_id"):
            return
        try:
            info = await client.files_info(file=event["file_id"])
        except Exception as err:  # the photo still gets a reply
            log.exception("could not look up the shared file %s", event["file_id"])
            await self._post(client, channel, _failure(err), thread_ts=None)
            return
        await self._photos(client, [info["file"]], channel=channel, thread_ts=None)

    async def _on_command(
        self, ack: Callable[..., Awaitable[None]], command: dict[str, Any], respond: Any
    ) -> None:
        await ack()  # within Slack's three seconds; the answer follows
        text = command.get("text", "").strip() or "help"
        user = command.get("user_id")
        answer = await self._answer(
            text, user=user, conversation=f"slack:{command.get('channel_id')}:{user}:command"
        )
        await respond(
            text=slack(answer.text)[:3000],
            blocks=self._blocks(answer),
            response_type="in_channel",
        )

    # --- photos -------------------------------------------------------------------------

    async def _photos(
        self,
        client: AsyncWebClient,
        files: list[dict[str, Any]],
        *,
        channel: str,
        thread_ts: str | None,
    ) -> None:
        for file in files:
            if not await self._claim(f"file:{file.get('id')}"):
                continue
            try:
                answer = await self._photo_answer(file)
            except Exception as err:  # a photo always gets a reply
                log.exception("could not read the photo %s", file.get("id"))
                answer = _failure(err)
            await self._post(client, channel, answer, thread_ts=thread_ts)

    async def _photo_answer(self, file: dict[str, Any]) -> Answer:
        mimetype = str(file.get("mimetype", ""))
        if mimetype and not mimetype.startswith("image/"):
            message = f"{file.get('name', 'That file')} is not a photo; send a photo of the label."
            return Answer("lot_info", {"image": True}, False, message, message, {"reason": message})
        try:
            data = await self._download(file)
        except _DownloadError as err:
            return Answer(
                "lot_info", {"image": True}, False, str(err), str(err), {"reason": str(err)}
            )
        result = await self._call("scan", data, today=self.today())
        answer: Answer = result.answer
        if result.label.lot or result.label.sscc:
            found = ", ".join(
                f"{name} {part}"
                for name, part in (
                    ("GTIN", result.label.gtin),
                    ("lot", result.label.lot),
                    ("expiry", result.label.expiry),
                    ("SSCC", result.label.sscc),
                )
                if part
            )
            answer = replace(answer, text=f"{answer.text}\n_Label read: {found}._")
        return answer

    async def _download(self, file: dict[str, Any]) -> bytes:
        url = file.get("url_private_download") or file.get("url_private")
        if not url:
            raise _DownloadError("That file has no download link I can use.")
        if int(file.get("size") or 0) > MAX_FILE:
            raise _DownloadError("That photo is over 25 MB; send a smaller one.")
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for _ in range(3):  # follow redirects, but only to Slack's own hosts
                if urlsplit(url).hostname not in self.file_hosts:
                    raise _DownloadError(
                        "That file is not hosted by Slack; I only fetch Slack files."
                    )
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and response.headers.get(
                        "Location"
                    ):
                        url = response.headers["Location"]
                        continue
                    if response.status != 200:
                        raise _DownloadError(
                            f"Slack did not let me download that photo ({response.status})."
                        )
                    data = bytearray()
                    async for chunk in response.content.iter_chunked(1 << 16):
                        data += chunk
                        if len(data) > MAX_FILE:
                            raise _DownloadError("That photo is over 25 MB; send a smaller one.")
                    return bytes(data)
        raise _DownloadError("Slack redirected that download too often.")

    # --- buttons ------------------------------------------------------------------------

    async def _on_action(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        action = body["actions"][0]
        action_id: str = action["action_id"]
        user = body.get("user", {}).get("id")
        channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get(
            "channel_id"
        )
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        # The same click delivered again (a retry, a replayed request) is handled once.
        click = f"click:{user}:{action.get('action_ts') or body.get('trigger_id')}:{action_id}"
        try:
            if not await self._claim(click):
                return
            chosen = (action.get("selected_option") or {}).get("value")
            payload = json.loads(chosen or action.get("value") or "{}")
            if action_id == "tb_alert_resolve":  # a dialog asks for the note first
                await self._open_resolve(
                    client, payload, body.get("trigger_id"), channel, thread_ts
                )
                return
            await self._act(
                client,
                action_id,
                payload,
                user=user,
                channel=channel,
                thread_ts=thread_ts,
                message_ts=message.get("ts"),
            )
        except Exception as err:
            log.exception("button %s failed", action_id)
            if channel:
                text = slack(_failure(err).text)
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)

    async def _act(
        self,
        client: AsyncWebClient,
        action_id: str,
        payload: dict[str, Any],
        *,
        user: str | None,
        channel: str,
        thread_ts: str | None,
        message_ts: str | None,
    ) -> None:
        today = self.today()
        caller = _caller(user)
        lots = tuple(payload.get("lots") or ())
        sku = payload.get("sku")
        conversation = f"slack:{channel}:{thread_ts}" if thread_ts else None

        async def post(answer: Answer) -> None:
            await self._post(client, channel, answer, thread_ts=thread_ts)

        async def run(intent: Intent, *, sku: str | None = None) -> Answer:
            answer: Answer = await self._call(
                "answer", intent, today=today, caller=caller, sku=sku, conversation=conversation
            )
            return answer

        simple = {
            "tb_upstream": "trace_backward",
            "tb_downstream": "trace_forward",
            "tb_recall": "recall",
        }
        if action_id in simple:
            await post(await run(Intent(simple[action_id], lots=lots, confidence=1.0), sku=sku))
        elif action_id.startswith("tb_pick_item"):
            intent = Intent(payload["i"], lots=(payload["lot"],), confidence=1.0)
            await post(await run(intent, sku=payload.get("sku")))
        elif action_id.startswith("tb_pick_intent"):
            await post(await run(Intent(payload["i"], lots=lots, confidence=1.0)))
        elif action_id == "tb_show_all":
            await self._show_all(client, payload.get("q") or {}, channel, thread_ts)
        elif action_id == "tb_history_list":
            await self._history_list(client, int(payload["alert"]), channel, thread_ts)
        elif action_id == "tb_fsma":
            await self._upload_fsma(client, lots, channel, thread_ts)
        elif action_id == "tb_diagram":
            await self._upload_diagram(client, lots, channel, thread_ts)
        elif action_id in (
            "tb_hold",
            "tb_alert_hold",
            "tb_alert_recall",
            "tb_alert_ack",
            "tb_alert_snooze",
        ):
            await self._ask_to_confirm(client, action_id, payload, caller, channel, thread_ts)
        elif action_id in ("tb_confirm", "tb_cancel"):
            await self._settle(client, action_id, payload, caller, channel, thread_ts, message_ts)

    async def _refuse(
        self, client: AsyncWebClient, channel: str, user: str, answer: Answer
    ) -> None:
        """Tell only the person who clicked that they may not: the admins, as mentions."""
        service = await asyncio.to_thread(self.service)
        admins = ", ".join(f"<@{admin}>" for admin in service.admins) or "nobody yet"
        what = answer.data.get("verb", "do that")
        await client.chat_postEphemeral(
            channel=channel, user=user, text=f"Only {admins} may {what}. Ask one of them."
        )

    async def _ask_to_confirm(
        self,
        client: AsyncWebClient,
        action_id: str,
        payload: dict[str, Any],
        caller: Caller,
        channel: str,
        thread_ts: str | None,
    ) -> None:
        """A change asked by a button: the question with Confirm and Cancel, in the thread."""
        lots = list(payload.get("lots") or [])
        alert = payload.get("alert")
        if action_id == "tb_alert_ack":
            answer = await self._call(
                "alert_request", "acknowledge", int(alert or 0), caller=caller
            )
        elif action_id == "tb_alert_snooze":
            hours = float(payload.get("hours") or 1)
            until = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
            answer = await self._call(
                "alert_request",
                "snooze",
                int(alert or 0),
                caller=caller,
                until=until + timedelta(hours=hours),
            )
        else:
            action = "recall" if action_id == "tb_alert_recall" else "hold"
            answer = await self._call(
                "request",
                action,
                lots,
                caller=caller,
                sku=payload.get("sku"),
                detail={"alert": alert} if alert else None,
                downstream=action_id == "tb_alert_hold",
            )
        if answer.data.get("refused"):
            await self._refuse(client, channel, caller.id, answer)
            return
        await self._post(client, channel, answer, thread_ts=thread_ts)

    async def _settle(
        self,
        client: AsyncWebClient,
        action_id: str,
        payload: dict[str, Any],
        caller: Caller,
        channel: str,
        thread_ts: str | None,
        message_ts: str | None,
    ) -> None:
        """Confirm or cancel a pending change; the question's message shows the outcome."""
        token = str(payload.get("t") or "")
        if action_id == "tb_confirm":
            answer: Answer = await self._call("confirm", token, caller=caller, today=self.today())
        else:
            answer = await self._call("cancel", token, caller=caller)
        if answer.data.get("refused"):
            await self._refuse(client, channel, caller.id, answer)
            return
        if answer.data.get("reason") in ("already used", "expired", "unknown confirmation"):
            # Nothing changed now: tell the one who clicked, and keep the message saying
            # what the first click did.
            await client.chat_postEphemeral(
                channel=channel, user=caller.id, text=slack(answer.text)
            )
            return
        lead = None
        if answer.intent == "recall" and answer.data.get("status") == "recall_started":
            lead = f"Recall started by <@{caller.id}>."
        try:
            if not message_ts:
                raise LookupError("the click came from no message")
            await client.chat_update(
                channel=channel,
                ts=message_ts,
                text=((lead + "\n") if lead else "") + slack(answer.text)[:3000],
                blocks=answer_blocks(answer, as_of=datetime.now(UTC), lead=lead),
            )
        except Exception:  # the change is made: say so in the thread however Slack fails
            log.warning("could not update the confirmation message", exc_info=True)
            await self._post(client, channel, answer, thread_ts=thread_ts)
        if answer.intent in ALERT_ACTIONS and answer.data.get("status") != "unchanged":
            try:
                await self._mark_state(client, int(answer.data["alert"]))
            except Exception:
                log.warning("could not update alert %s", answer.data["alert"], exc_info=True)

    async def _mark_state(self, client: AsyncWebClient, alert_id: int) -> None:
        """The alert's own message says what became of it and by whom; a resolved one
        loses its buttons."""
        outbox = await self._call("outbox")
        alert = await asyncio.to_thread(outbox.get, alert_id)
        if alert is None or not alert.channel or not alert.message_ts:
            return
        scope = await asyncio.to_thread(outbox.scope, alert)
        await client.chat_update(
            channel=alert.channel,
            ts=alert.message_ts,
            text=slack(alert.message),
            blocks=alert_blocks(alert, scope),
        )

    async def _open_resolve(
        self,
        client: AsyncWebClient,
        payload: dict[str, Any],
        trigger_id: str | None,
        channel: str | None,
        thread_ts: str | None,
    ) -> None:
        """Resolve asks for a note in a dialog; its Resolve button asks to confirm."""
        alert_id = int(payload.get("alert") or 0)
        outbox = await self._call("outbox")
        alert = await asyncio.to_thread(outbox.get, alert_id)
        if alert is None or not trigger_id:
            return
        view = resolve_modal(alert_id, alert.message, channel=channel or "", thread_ts=thread_ts)
        await client.views_open(trigger_id=trigger_id, view=view)

    async def _on_resolve(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The note was given: the change is asked in the alert's thread, to confirm."""
        view = body.get("view") or {}
        state = (view.get("state") or {}).get("values") or {}
        note = str(((state.get("note") or {}).get("note") or {}).get("value") or "").strip()
        if not note:
            await ack(response_action="errors", errors={"note": "Say what was done."})
            return
        await ack()
        user = (body.get("user") or {}).get("id")
        meta = json.loads(view.get("private_metadata") or "{}")
        channel, thread_ts = meta.get("channel"), meta.get("thread")
        try:
            if not await self._claim(f"resolve:{user}:{view.get('id')}:{view.get('hash')}"):
                return
            answer = await self._call(
                "alert_request",
                "resolve",
                int(meta.get("alert") or 0),
                caller=_caller(user),
                note=note,
            )
            if channel:
                await self._post(client, channel, answer, thread_ts=thread_ts)
        except Exception as err:
            log.exception("resolving alert %s failed", meta.get("alert"))
            if channel:
                await client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, text=slack(_failure(err).text)
                )

    # --- files ----------------------------------------------------------------------------

    async def _show_all(
        self,
        client: AsyncWebClient,
        query: dict[str, Any],
        channel: str,
        thread_ts: str | None,
    ) -> None:
        intent = Intent(
            query.get("intent", "unknown"),
            lots=tuple(query.get("lots") or ()),
            party=query.get("party"),
            item=query.get("item"),
            since=date.fromisoformat(query["since"]) if query.get("since") else None,
            until=date.fromisoformat(query["until"]) if query.get("until") else None,
            confidence=1.0,
        )
        answer: Answer = await self._call(
            "answer", intent, today=self.today(), sku=query.get("sku")
        )
        header, rows = list_rows(answer)
        name = "-".join([intent.intent, *intent.lots][:4]) or intent.intent
        title = f"All {len(rows)} rows: {answer.text.splitlines()[0][:120]}".replace("*", "")
        await _upload_csv(client, channel, thread_ts, header, rows, f"{name}.csv", title)

    async def _history_list(
        self, client: AsyncWebClient, summary_id: int, channel: str, thread_ts: str | None
    ) -> None:
        """Every irregularity a history check's post sums up, as CSV in its thread."""
        found = await self._call("history_of", summary_id)
        if not found:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=f"Alert #{summary_id} is no history check; nothing to list.",
            )
            return
        header = ("id", "severity", "kind", "lot", "message", "recorded_at")
        await _upload_csv(
            client,
            channel,
            thread_ts,
            header,
            [[row[key] for key in header] for row in found],
            f"history-check-{summary_id}.csv",
            f"History check #{summary_id}: all {len(found)} irregularities",
        )

    async def _upload_file(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str | None,
        make: Callable[[TraceService], tuple[bytes, str, str]],
    ) -> None:
        """Upload what ``make`` draws (data, file name, title) into the thread; a trace
        or drawing error is said there instead."""
        from bot.export import DiagramError

        service = await asyncio.to_thread(self.service)
        try:
            data, filename, title = await asyncio.to_thread(make, service)
        except (DiagramError, TraceError) as err:
            await client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=slack(str(err))
            )
            return
        await client.files_upload_v2(
            channel=channel, thread_ts=thread_ts, file=data, filename=filename, title=title
        )

    async def _upload_fsma(
        self, client: AsyncWebClient, lots: tuple[str, ...], channel: str, thread_ts: str | None
    ) -> None:
        def make(service: TraceService) -> tuple[bytes, str, str]:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"fsma-204-{'-'.join(lots[:3])}.xlsx"
                count = service.fsma(lots, path)
                title = f"FSMA 204 sortable spreadsheet for {', '.join(lots)} ({count} rows)"
                return path.read_bytes(), path.name, title

        await self._upload_file(client, channel, thread_ts, make)

    async def _upload_diagram(
        self, client: AsyncWebClient, lots: tuple[str, ...], channel: str, thread_ts: str | None
    ) -> None:
        def make(service: TraceService) -> tuple[bytes, str, str]:
            image = service.diagram(lots, "png")
            title = f"Lineage of {', '.join(lots)}: suppliers left, customers right"
            return image, f"lineage-{'-'.join(lots[:3])}.png", title

        await self._upload_file(client, channel, thread_ts, make)

    # --- App Home -------------------------------------------------------------------------

    async def _on_home(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        view = await asyncio.to_thread(self.home)
        await client.views_publish(user_id=event["user"], view=view)

    def home(self) -> dict[str, Any]:
        """The App Home view: open alerts, lots expiring soon, holds in place."""
        shown = self.service().home(today=self.today(), days=HOME_DAYS)
        return home_view(shown["alerts"], shown["expiring"], shown["holds"], days=HOME_DAYS)


class _DownloadError(Exception):
    """A Slack file could not be fetched; the message says why, for the user."""


def _words(text: str) -> str:
    """The text of a message without mentions: empty when a photo came alone."""
    return re.sub(r"<@[A-Z0-9]+(?:\|[^>]*)?>", "", text).strip()
