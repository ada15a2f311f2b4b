"""What the event store refuses, with the facts a caller needs to act on it."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the event store's refusals."""


class ConcurrencyError(StoreError):
    """The stream moved on since the caller read it."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream!r} is at version {actual}, but version {expected} was expected"
        )
        self.stream = stream
        self.expected = expected
        self.actual = actual


class EventTooLargeError(StoreError):
    """An encoded event exceeds the configured size limit; nothing was written."""

    def __init__(self, type_name: str, size: int, limit: int) -> None:
        super().__init__(f"{type_name} is {size} bytes encoded; the limit is {limit} bytes")
        self.type_name = type_name
        self.size = size
        self.limit = limit
