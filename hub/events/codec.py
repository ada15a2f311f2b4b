"""Turning events into stored JSON documents and back, by their stable names."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.events.base import Event, UnknownEvent, UnreadableEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnregisteredEventError(TypeError):
    """An event class that has no stable name in the event table cannot be stored."""


class EventCodec:
    """Encodes events to plain JSON data and decodes them, upcasting old schema versions.

    `upcasters` maps (type name, stored version) to a function that lifts the data one
    version up; decoding applies them in turn until the class's current version is reached.
    """

    def __init__(
        self,
        types: Mapping[str, type[Event]],
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        self._types = dict(types)
        self._names = {cls: name for name, cls in self._types.items()}
        self._upcasters = dict(upcasters or {})
        self._adapters: dict[type[Event], TypeAdapter[Any]] = {}
        # (name, current version) -> its validator, once one event of it has decoded.
        self._current: dict[tuple[str, int], Callable[[Any], Any]] = {}
        for cls in self._types.values():
            _check_personal_fields(cls)

    def name_of(self, event: Event) -> str:
        try:
            return self._names[type(event)]
        except KeyError:
            raise UnregisteredEventError(
                f"{type(event).__qualname__} is not in the event table (hub.events.EVENT_TYPES)"
            ) from None

    def to_data(self, event: Event) -> dict[str, Any]:
        """The event's fields; values stay Python objects that orjson writes natively
        (datetimes as RFC 3339, tuples as arrays, nested dataclasses as objects)."""
        return {name: getattr(event, name) for name in _field_names(type(event))}

    def upcast(self, name: str, stored_version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Stored data raised to its type's current schema (for readers of raw data, such as
        read models opening sealed fields); LookupError names what is missing."""
        cls = self._types.get(name)
        if cls is None or stored_version > cls.schema_version:
            raise LookupError(f"{name} v{stored_version} is not a known type and version")
        version = stored_version
        while version < cls.schema_version:
            step = self._upcasters.get((name, version))
            if step is None:
                raise LookupError(f"no upcaster from {name} v{version} to v{version + 1}")
            data = step(data)
            version += 1
        return data

    def from_data(self, name: str, stored_version: int, data: dict[str, Any]) -> Event:
        validate = self._current.get((name, stored_version))
        if validate is not None:  # the common case: a known type at its current version
            try:
                event: Event = validate(data)
            except ValidationError as err:
                return UnreadableEvent(type_name=name, error=f"invalid {name} data: {err}")
            return event
        cls = self._types.get(name)
        if cls is None or stored_version > cls.schema_version:
            return UnknownEvent(type_name=name, stored_schema_version=stored_version, data=data)
        try:
            data = self.upcast(name, stored_version, data)
        except LookupError as err:
            return UnreadableEvent(type_name=name, error=str(err))
        try:
            event = self._adapter(cls).validate_python(data)
        except ValidationError as err:
            return UnreadableEvent(type_name=name, error=f"invalid {name} data: {err}")
        if stored_version == cls.schema_version:
            self._current[name, stored_version] = self._adapter(cls).validator.validate_python
        return event

    def erased_values(self, cls: type[Event]) -> dict[str, Any]:
        """The values personal fields take once their subject's key has been erased."""
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in cls.personal_fields:
                if f.default is not dataclasses.MISSING:
                    values[f.name] = f.default
                else:
                    values[f.name] = f.default_factory()  # type: ignore[misc,operator]
        return values

    def type_for(self, name: str) -> type[Event] | None:
        return self._types.get(name)

    def _adapter(self, cls: type[Event]) -> TypeAdapter[Any]:
        adapter = self._adapters.get(cls)
        if adapter is None:
            adapter = self._adapters[cls] = TypeAdapter(cls)
        return adapter


def json_default(value: Any) -> Any:
    """Values orjson does not write by itself (sets, paths, decimals) as plain JSON."""
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def _field_names(cls: type[Event]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _check_personal_fields(cls: type[Event]) -> None:
    """Personal fields need a default: it is what they read as after erasure."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in cls.personal_fields:
        f = fields.get(name)
        if f is None:
            raise TypeError(f"{cls.__name__}.personal_fields names unknown field {name!r}")
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise TypeError(f"personal field {cls.__name__}.{name} needs a default")
