"""The trace engine: a plant's lot genealogy and the questions answered on it.

Pure domain: no database, web or Slack library is imported here. Data comes in
through the :class:`~trace_engine.ports.GenealogyStore` protocol.
"""

from trace_engine.errors import AmbiguousLot, TraceError, UnknownItem, UnknownLot, UnknownParty
from trace_engine.genealogy import Genealogy
from trace_engine.ports import GenealogyStore

__all__ = [
    "AmbiguousLot",
    "Genealogy",
    "GenealogyStore",
    "TraceError",
    "UnknownItem",
    "UnknownLot",
    "UnknownParty",
]
