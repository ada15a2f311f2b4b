"""The event store and the database it lives in."""

from hub.store.database import Database, UnsupportedDatabaseError
from hub.store.errors import ConcurrencyError, EventTooLargeError, StoreError
from hub.store.store import ANY, NO_STREAM, AppendResult, EventStore, Transaction

__all__ = [
    "ANY",
    "NO_STREAM",
    "AppendResult",
    "ConcurrencyError",
    "Database",
    "EventStore",
    "EventTooLargeError",
    "StoreError",
    "Transaction",
    "UnsupportedDatabaseError",
]
