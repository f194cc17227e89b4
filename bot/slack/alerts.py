"""Posting stored alerts to TRACEBOT_ALERT_CHANNEL, each exactly once, and the daily digest.

Alerts are stored when raised (storage.alerts); the sender posts the due ones:
it leases one (so one process posts it), posts it with Slack message metadata
naming the alert, and records the message. When a post fails, the alert waits
and is tried again, longer each time, until Slack accepts it. When an earlier try
may have reached Slack (the process died before recording it), the sender first
looks for a message carrying that alert's metadata in the channel, so a retry
never posts it twice.

Each top-level post goes to the channel its severity and site route it to
(TRACEBOT_ALERT_ROUTES, else TRACEBOT_ALERT_CHANNEL); a critical one mentions
TRACEBOT_ALERT_MENTION. A consequence goes into its problem's thread, wherever that is.

The digest is an alert too (kind ``digest``, one key per day), so it is posted
once a day across restarts, through the same path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.markup import slack
from bot.service import TraceService
from bot.service.alerts import DIGEST_DAYS, AlertDesk, OutgoingAlert
from bot.settings import Settings
from bot.slack.blocks import alert_blocks
from trace_engine.rules import severity

__all__ = ["DIGEST_DAYS", "AlertSender", "Routes", "mention_markup", "parse_digest_time"]

log = logging.getLogger(__name__)

METADATA_TYPE = "tracebot_alert"


def parse_digest_time(value: str) -> time | None:
    """ "07:00" as a time; "off" or "" as None.

    Example:
        >>> parse_digest_time("6:30"), parse_digest_time("off")
        (datetime.time(6, 30), None)
    """
    if value.strip().lower() in ("", "off", "none", "never"):
        return None
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Routes:
    """Which channel an alert goes to, by severity and site (TRACEBOT_ALERT_ROUTES).

    Example:
        >>> routes = Routes.parse("critical=C1, site:Riverside cold store=C2, digest=C3", "C0")
        >>> routes.channel("critical", None), routes.channel("warning", "riverside COLD store")
        ('C1', 'C2')
        >>> routes.channel("info", "Hillside"), routes.channel("info", None, digest=True)
        ('C0', 'C3')
    """

    default: str | None
    table: dict[tuple[str | None, str | None], str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, default: str | None) -> Routes:
        """Read ``KEY=CHANNEL`` pairs; KEY is a severity, ``digest``, ``site:NAME`` or
        ``site:NAME/SEVERITY``. A malformed pair is a ValueError naming it."""
        table: dict[tuple[str | None, str | None], str] = {}
        for pair in (part.strip() for part in text.split(",")):
            if not pair:
                continue
            key, equals, channel = (piece.strip() for piece in pair.rpartition("="))
            if not equals or not key or not channel:
                raise ValueError(f"TRACEBOT_ALERT_ROUTES: {pair!r} is not KEY=CHANNEL")
            site: str | None = None
            level: str | None = key.lower()
            if key.lower().startswith("site:"):
                site, _, rest = key[5:].partition("/")
                site = " ".join(site.split()).lower()
                level = rest.strip().lower() or None
                if not site:
                    raise ValueError(f"TRACEBOT_ALERT_ROUTES: {pair!r} names no site")
            if level is not None and level not in (*SEVERITIES, "digest"):
                raise ValueError(
                    f"TRACEBOT_ALERT_ROUTES: {pair!r}: {level!r} is none of critical, "
                    "warning, info, digest or site:NAME"
                )
            table[(site, level)] = channel
        return cls(default, table)

    def channel(self, level: str, site: str | None, *, digest: bool = False) -> str | None:
        """The channel for an alert of ``level`` on a lot at ``site``; None if none."""
        place = " ".join(site.split()).lower() if site else None
        keys: list[tuple[str | None, str | None]] = [(None, "digest")] if digest else []
        if place:
            keys += [(place, level), (place, None)]
        keys.append((None, level))
        for key in keys:
            if key in self.table:
                return self.table[key]
        return self.default

    def complete(self) -> bool:
        """Every severity has somewhere to go."""
        return all(self.channel(level, None) for level in SEVERITIES)


def mention_markup(who: str | None) -> str:
    """How a critical alert calls people: a user group id, ``here`` or ``channel``.

    Example:
        >>> mention_markup("S0QA"), mention_markup("here"), mention_markup(None)
        ('<!subteam^S0QA>', '<!here>', '')
    """
    if not who or not who.strip():
        return ""
    who = who.strip().lstrip("@!")
    if who.lower() in ("here", "channel"):
        return f"<!{who.lower()}>"
    return f"<!subteam^{who}>"


class AlertSender:
    """Delivers due alerts to one channel; ``run`` loops until stopped."""

    def __init__(
        self,
        settings: Settings,
        service: Callable[[], TraceService],
        client: AsyncWebClient,
        *,
        poll: float = 2.0,
        today: Callable[[], date] = date.today,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.routes = Routes.parse(settings.alert_routes, settings.alert_channel)
        if not self.routes.complete():
            raise ValueError(
                "TRACEBOT_ALERT_CHANNEL is not set, and TRACEBOT_ALERT_ROUTES does not "
                "give a channel for each of critical, warning and info"
            )
        self.channel: str = settings.alert_channel or self.routes.channel("info", None) or ""
        self.mention = mention_markup(settings.alert_mention)
        self.horizon = settings.alert_horizon
        self.service = service
        self.client = client
        self.poll = poll
        self.base = settings.alert_retry_seconds
        self.digest_at = parse_digest_time(settings.digest_time)
        self.today = today
        self.now = now
        self._wake = asyncio.Event()
        self._digest_done: date | None = None

    def wake(self) -> None:
        """Look for new alerts now (called after events are recorded)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                outbox = await asyncio.to_thread(self.outbox)
                await asyncio.to_thread(outbox.check_missed, self.horizon)  # start, each round
                await asyncio.to_thread(outbox.wake_snoozed)
                await self.raise_digest()
                await self.deliver_due()
            except Exception:  # the loop must outlive any one bad round
                log.exception("alert delivery round failed")
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            # A failed post is due again after the base pause: look again by then.
            pause = min(self.poll, self.base)
            await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    def outbox(self) -> AlertDesk:
        return self.service().outbox()

    async def deliver_due(self) -> int:
        """Post every due alert; return how many were delivered."""
        delivered = 0
        outbox = await asyncio.to_thread(self.outbox)
        for alert in await asyncio.to_thread(outbox.due):
            taken, tried = await asyncio.to_thread(outbox.lease, alert.id)
            if taken and await self.deliver(alert, tried=tried):
                delivered += 1
        return delivered

    async def deliver(self, alert: OutgoingAlert, *, tried: bool) -> bool:
        outbox = await asyncio.to_thread(self.outbox)
        target = self.target(alert)
        try:
            if tried and (ts := await self._posted_before(alert, target)) is not None:
                channel, stamp = ts
                await asyncio.to_thread(outbox.delivered, alert.id, channel=channel, ts=stamp)
                return True
            metadata = {"event_type": METADATA_TYPE, "event_payload": {"alert_id": alert.id}}
            if alert.thread_ts:  # a consequence of a problem posted before: into its thread
                response = await self.client.chat_postMessage(
                    channel=target,
                    thread_ts=alert.thread_ts,
                    text=slack(alert.message),
                    metadata=metadata,
                    unfurl_links=False,
                )
            else:
                scope = await asyncio.to_thread(outbox.scope, alert)
                blocks = alert_blocks(alert, scope)
                text = slack(alert.message)
                if self.mention and severity(alert.kind, alert.detail) == "critical":
                    text = f"{self.mention} {text}"
                    blocks[0]["text"]["text"] = f"{self.mention} {blocks[0]['text']['text']}"
                response = await self.client.chat_postMessage(
                    channel=target,
                    text=text,
                    blocks=blocks,
                    metadata=metadata,
                    unfurl_links=False,
                )
        except Exception as err:  # any failure: the alert waits and is tried again
            retry_at = await asyncio.to_thread(
                outbox.failed, alert.id, _reason(err), base=self.base
            )
            log.warning(
                "alert %s not posted (%s); next try at %s", alert.id, _reason(err), retry_at
            )
            return False
        await asyncio.to_thread(
            outbox.delivered,
            alert.id,
            channel=str(response.get("channel") or target),
            ts=str(response.get("ts")),
        )
        return True

    def target(self, alert: OutgoingAlert) -> str:
        """Where the alert goes: its problem's thread's channel, or its route."""
        if alert.thread_ts:
            return alert.thread_channel or self.channel or ""
        level = severity(alert.kind, alert.detail)
        found = self.routes.channel(level, alert.site, digest=alert.kind == "digest")
        return found or self.channel or ""

    async def _posted_before(self, alert: OutgoingAlert, channel: str) -> tuple[str, str] | None:
        """The channel and ts of an earlier post of this alert, if Slack has one."""
        oldest = (alert.created_at - timedelta(minutes=5)).timestamp()
        cursor = None
        for _ in range(10):
            if alert.thread_ts:  # a reply is found in its thread, not in the history
                page = await self.client.conversations_replies(
                    channel=channel,
                    ts=alert.thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                page = await self.client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_TYPE
                    and payload.get("alert_id") == alert.id
                ):
                    return str(page.get("channel") or channel), str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    async def raise_digest(self) -> bool:
        """Store today's digest once the digest time has come; True when stored now."""
        if self.digest_at is None:
            return False
        now = self.now()
        day = now.date()
        if self._digest_done == day or now.time() < self.digest_at:
            return False
        outbox = await asyncio.to_thread(self.outbox)
        await asyncio.to_thread(outbox.raise_digest, day)
        self._digest_done = day
        return True

    def digest_text(self, day: date) -> str:
        """The digest: lots expiring in the next DIGEST_DAYS days, where they are."""
        return self.outbox().digest_text(day)


def _reason(err: BaseException) -> str:
    if isinstance(err, SlackApiError):
        return f"Slack said {err.response.get('error') or err.response.status_code}"
    return f"{type(err).__name__}: {err}"
