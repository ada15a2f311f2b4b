"""The base of every fact Kartei records, and the envelope it is read back in."""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event as stored: its global position, stream, version and envelope."""

    position: int
    stream: str
    version: int
    type_name: str
    event: Event
    metadata: Metadata
    recorded_at: datetime
    idempotency_key: str | None = None
    erased: bool = False
