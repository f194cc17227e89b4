"""The HTTP side: an app factory, a router per resource, one table of errors.

>>> from bot.http.errors import ERRORS
>>> ERRORS[__import__("trace_engine").AmbiguousLot].status
409
"""

from bot.http.app import create_app

__all__ = ["create_app"]
