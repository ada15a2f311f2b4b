"""The base of every fact Kartei records, and the envelope it is read back in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A fact, named in the past tense; subclasses are small frozen dataclasses.

    `schema_version` is bumped (with an upcaster in `hub.events.upcasting`) whenever a
    change is not a new field with a default. `personal_fields` names the fields that carry
    personal data: the store encrypts them with the key of `data_subject()`, so erasing that
    subject's key makes them unrecoverable without rewriting the log (invariant 8).
    """

    schema_version: ClassVar[int] = 1
    personal_fields: ClassVar[frozenset[str]] = frozenset()

    def data_subject(self) -> str | None:
        """The person whose key protects `personal_fields` (e.g. ``contact:<id>``)."""
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(Event):
    """An event this code does not know (a newer type or a newer schema version)."""

    type_name: str
    stored_schema_version: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnreadableEvent(Event):
    """A stored event whose payload could not be decoded (corrupt JSON, failed decryption)."""

    type_name: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    """Where an event came from and why: source, actor, correlation and causation ids."""

    source: str | None = None
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    schema_version: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "schema_version": self.schema_version,
        }


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event on its way into the store, with the key that makes its capture idempotent."""

    event: Event
    idempotency_key: str | None = None
    metadata: Metadata = field(default_factory=Metadata)


_FIELDS = (
    "position",
    "stream",
    "version",
    "type_name",
    "event",
    "metadata",
    "recorded_at",
    "idempotency_key",
    "erased",
)


class Recorded:
    """An event as stored: its global position, stream, version and envelope.

    Treat it as immutable: it is shared (by the tail, by every reader of a batch). Read
    from the log, the event itself is decoded (its personal fields unsealed, its data
    validated) only when `event` is first asked for: a reader that looks at the envelope
    alone (a projection skipping types it does not handle, a scan for positions) pays
    for none of it.
    """

    __slots__ = (
        "_data",
        "_decoder",
        "_event",
        "_key",
        "erased",
        "idempotency_key",
        "metadata",
        "position",
        "recorded_at",
        "stream",
        "type_name",
        "version",
    )

    position: int
    stream: str
    version: int
    type_name: str
    metadata: Metadata
    recorded_at: datetime
    idempotency_key: str | None
    erased: bool
    _event: Event | None
    # A lazy record's decoder(record, data, key) and what it decodes, until it has.
    _decoder: Callable[[Recorded, Any, Any], Event] | None
    _data: Any
    _key: Any

    def __init__(
        self,
        position: int,
        stream: str,
        version: int,
        type_name: str,
        event: Event,
        metadata: Metadata,
        recorded_at: datetime,
        idempotency_key: str | None = None,
        erased: bool = False,
    ) -> None:
        self.position = position
        self.stream = stream
        self.version = version
        self.type_name = type_name
        self._event = event
        self._decoder = None
        self.metadata = metadata
        self.recorded_at = recorded_at
        self.idempotency_key = idempotency_key
        self.erased = erased

    @classmethod
    def lazy(
        cls,
        position: int,
        stream: str,
        version: int,
        type_name: str,
        metadata: Metadata,
        recorded_at: datetime,
        idempotency_key: str | None,
        erased: bool,
        decoder: Callable[[Recorded, Any, Any], Event],
        data: Any,
        key: Any = None,
    ) -> Recorded:
        """A record whose event `decoder(record, data, key)` makes on first use (once)."""
        record = cls.__new__(cls)
        record.position = position
        record.stream = stream
        record.version = version
        record.type_name = type_name
        record._event = None
        record._decoder = decoder
        record._data = data
        record._key = key
        record.metadata = metadata
        record.recorded_at = recorded_at
        record.idempotency_key = idempotency_key
        record.erased = erased
        return record

    @property
    def event(self) -> Event:
        event = self._event
        if event is None:
            assert self._decoder is not None
            event = self._event = self._decoder(self, self._data, self._key)
            self._decoder = self._data = self._key = None
        return event

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy: decoded, as constructed
        return (Recorded, self._values())

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"Recorded({inner})"
