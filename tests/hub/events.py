"""Event types used by the kernel's own tests (a codec of their own, not Kartei's table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hub.events import Event, EventCodec


@dataclass(frozen=True, slots=True, kw_only=True)
class Pinged(Event):
    """A test fact with one personal field."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"who"})
    n: int
    who: str = ""
    contact: str = "c1"

    def data_subject(self) -> str | None:
        return f"contact:{self.contact}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed(Event):
    """Version 2: `name` was called `title` in version 1."""

    schema_version: ClassVar[int] = 2
    name: str


def upcast_renamed_v1(data: dict[str, object]) -> dict[str, object]:
    data = dict(data)
    data["name"] = data.pop("title")
    return data


TEST_TYPES: dict[str, type[Event]] = {"Pinged": Pinged, "Renamed": Renamed}


def test_codec() -> EventCodec:
    return EventCodec(TEST_TYPES, {("Renamed", 1): upcast_renamed_v1})


test_codec.__test__ = False  # type: ignore[attr-defined]
