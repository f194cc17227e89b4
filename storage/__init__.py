"""Storage: SQLModel tables, migrations, importers and the engine's SQL store.

>>> import storage
>>> callable(storage.load_genealogy)
True
"""

from storage.repository import SqlStore, load_genealogy

__all__ = ["SqlStore", "load_genealogy"]
