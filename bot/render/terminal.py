"""Slack mrkdwn as rich console markup, for `tracebot chat`."""

from __future__ import annotations

import re

from rich.markup import escape

__all__ = ["to_rich"]


def to_rich(text: str) -> str:
    """Bold ``*x*`` and code ``x`` spans as rich markup; everything else escaped.

    Example:
        >>> to_rich("*Lot 4471* went to `Sysco`")
        '[bold]Lot 4471[/bold] went to [cyan]Sysco[/cyan]'
    """
    escaped = escape(text)
    escaped = re.sub(r"\*([^*\n]+)\*", r"[bold]\1[/bold]", escaped)
    return re.sub(r"`([^`\n]+)`", r"[cyan]\1[/cyan]", escaped)
