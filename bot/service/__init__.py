"""The one door every channel goes through: ask, hear, confirm, scan, read, record.

The alert outbox (``bot.service.alerts``) and the errors adapters map
(``bot.service.errors``) are imported where they are used, so a one-question
`tracebot ask` loads neither.

>>> from bot.service import Caller
>>> Caller("cli", "priya").key
'cli:priya'
"""

from bot.service.caller import Caller
from bot.service.core import ALERT_ACTIONS, CONFIDENCE_FLOOR, TraceService
from bot.service.scan import RETAKE, ScanResult, scan
from storage.errors import DatabaseUnavailable

__all__ = [
    "ALERT_ACTIONS",
    "CONFIDENCE_FLOOR",
    "RETAKE",
    "Caller",
    "DatabaseUnavailable",
    "ScanResult",
    "TraceService",
    "scan",
]
