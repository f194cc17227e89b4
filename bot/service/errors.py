"""The storage errors adapters turn into replies and status codes, seen through the door.

Adapters import no storage module; the few storage errors they must tell apart
(a database that cannot be reached, an invalid EPCIS document) come from here.
"""

from storage.errors import DatabaseUnavailable, SchemaOutdated, StorageError
from storage.importers.epcis import EpcisError

__all__ = ["DatabaseUnavailable", "EpcisError", "SchemaOutdated", "StorageError"]
