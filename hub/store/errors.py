"""What the event store refuses, with the facts a caller needs to act on it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


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


def database_away(exc: BaseException) -> bool:
    """Whether an operation failed because the database is away (a PostgreSQL restart, the
    server down or not answering), not because of a bug: try again in a few seconds.

    Looked for in the exception, its causes and the members of an exception group, since
    the driver's error reaches a route wrapped by SQLAlchemy or by Kartei's own errors."""
    return any(_is_unavailable(e) for e in _chain(exc))


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True  # SQLAlchemy saw the connection drop
    if isinstance(exc, PoolTimeoutError):
        return True  # every connection of the pool is held up by a server not answering
    if isinstance(exc, psycopg.OperationalError):
        return True  # refused, "shutting down", "starting up", AdminShutdown, lost
    if isinstance(exc, psycopg.InterfaceError):
        return "connection" in str(exc)  # "the connection is closed" / "is lost"
    if isinstance(exc, sqlite3.OperationalError):
        return "database is locked" in str(exc)  # another process held the write lock
    return False


def _chain(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """The exception, what it was raised from or during, and a group's members."""
    if depth > 10:
        return
    yield exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        yield exc.orig
    if isinstance(exc, BaseExceptionGroup):
        for member in exc.exceptions:
            yield from _chain(member, depth + 1)
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        yield from _chain(cause, depth + 1)


def first_line(exc: BaseException) -> str:
    """The error's first line, for a one-line log entry: SQLAlchemy's message goes on with
    the statement and its parameters, which may hold personal data or a token's hash."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
