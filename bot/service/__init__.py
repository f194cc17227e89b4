"""The one door every channel goes through: ask, hear, confirm, scan, read, record.

>>> from bot.service import Caller
>>> Caller("cli", "priya").key
'cli:priya'
"""

from bot.service.alerts import AlertDesk, OutgoingAlert
from bot.service.caller import Caller
from bot.service.core import CONFIDENCE_FLOOR, TraceService
from bot.service.errors import (
    DatabaseUnavailable,
    EpcisError,
    SchemaOutdated,
    StorageError,
)
from bot.service.scan import RETAKE, ScanResult, scan

__all__ = [
    "CONFIDENCE_FLOOR",
    "RETAKE",
    "AlertDesk",
    "Caller",
    "DatabaseUnavailable",
    "EpcisError",
    "OutgoingAlert",
    "ScanResult",
    "SchemaOutdated",
    "StorageError",
    "TraceService",
    "scan",
]
