"""The alert outbox as the Slack sender sees it: what is due, leases, deliveries, digests.

Alerts are stored when raised (``storage.alerts``) and posted after, each once;
``AlertDesk`` is the sender's one way to the stored alerts, so the Slack adapter
needs no storage of its own.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.render.markup import code
from storage.alerts import HORIZON_DAYS, check_missed, open_alerts, wake_snoozed
from storage.outbox import (
    OutgoingAlert,
    digest_key,
    due_alerts,
    get_alert,
    lease_alert,
    raise_alert,
    record_attempt,
    record_delivery,
)
from trace_engine import TraceError
from trace_engine.model import to_data
from trace_engine.rules import AlertDraft, severity

if TYPE_CHECKING:
    from bot.service.core import TraceService

__all__ = ["DIGEST_DAYS", "AlertDesk", "OutgoingAlert"]

DIGEST_DAYS = 7


class AlertDesk:
    """Stored alerts on their way out, for one plant."""

    def __init__(self, service: TraceService) -> None:
        self.service = service
        self.url = service.database_url

    def due(self) -> list[OutgoingAlert]:
        """Alerts not delivered yet whose next try is due, oldest first."""
        return due_alerts(self.url)

    def get(self, alert_id: int) -> OutgoingAlert | None:
        return get_alert(self.url, alert_id)

    def lease(self, alert_id: int) -> tuple[bool, bool]:
        """Take an alert to post it: (taken, tried before)."""
        return lease_alert(self.url, alert_id)

    def failed(self, alert_id: int, reason: str, *, base: float) -> datetime:
        """A post failed: when to try again."""
        return record_attempt(self.url, alert_id, reason, base=base)

    def delivered(self, alert_id: int, *, channel: str, ts: str) -> bool:
        return record_delivery(self.url, alert_id, channel=channel, ts=ts)

    def scope(self, alert: OutgoingAlert) -> dict[str, Any] | None:
        """The recall scope of the alert's lot (downstream lots, stock, customers)."""
        if not alert.lot or alert.kind == "digest":
            return None
        try:
            scope: dict[str, Any] = to_data(self.service.genealogy.recall([alert.lot]))
        except TraceError:
            return None
        return scope

    def check_missed(self, horizon: int = HORIZON_DAYS) -> int:
        """Run the rules a killed import or capture never ran; the new alerts."""
        return check_missed(self.url, horizon=horizon)

    def wake_snoozed(self) -> int:
        """Open again the snoozed alerts whose time is up (a note goes to each thread)."""
        return wake_snoozed(self.url)

    def raise_digest(self, day: date) -> int | None:
        """Store the day's digest once; its id, or None if it was stored before."""
        return raise_alert(
            self.url, AlertDraft(digest_key(day), "digest", None, self.digest_text(day))
        )

    def digest_text(self, day: date) -> str:
        """The digest: lots expiring in the next DIGEST_DAYS days, where they are."""
        until = day + timedelta(days=DIGEST_DAYS - 1)  # seven days, today the first
        lots = to_data(self.service.genealogy.expiring(day, until)).get("lots", [])
        standing = _open_by_severity(self.url)
        if not lots:
            return (
                f"*Daily digest {day.isoformat()}:* no lot expires by {until.isoformat()}."
                + standing
            )
        lines = [
            f"• {code(lot['lot'])} {lot['item']}, expires {lot['expires_on']}"
            + (f", {lot['on_hand']} on hand at {lot['location']}" if lot.get("on_hand") else "")
            for lot in lots[:20]
        ]
        if len(lots) > 20:
            lines.append(f"…and {len(lots) - 20} more")
        count = f"{len(lots)} lot{'s' if len(lots) != 1 else ''}"
        head = f"*Daily digest {day.isoformat()}: {count} expire by {until.isoformat()}.*"
        return "\n".join([head, *lines]) + standing


def _open_by_severity(url: str) -> str:
    """The digest's second part: open and snoozed alerts, grouped by severity."""
    alerts = open_alerts(url, states=("open", "snoozed", "acknowledged"))
    if not alerts:
        return "\nNo alert is open."
    groups: dict[str, list[dict[str, Any]]] = {"critical": [], "warning": [], "info": []}
    for alert in alerts:
        groups.setdefault(severity(alert["kind"], alert["detail"]), []).append(alert)
    lines = ["", f"*Alerts still open ({len(alerts)}):*"]
    for level, members in groups.items():
        if not members:
            continue
        lines.append(f"_{level.capitalize()} ({len(members)})_")
        for alert in members[:5]:
            state = "" if alert["state"] == "open" else f" [{alert['state']}]"
            lines.append(f"• #{alert['id']}{state} {alert['message'][:150]}")
        if len(members) > 5:
            lines.append(f"…and {len(members) - 5} more")
    return "\n".join(lines)
