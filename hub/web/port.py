"""What the web app needs of a running Kartei: a narrow interface the composition root
(hub/bootstrap.py) hands to `create_app`. The web package imports nothing of the root,
so the root can import the web app without a circle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from hub.health import HealthRegistry
from hub.settings import Settings
from hub.store import EventStore


class ReadModel(Protocol):
    """A running read model: its projection (tables, queries) and how far it has read."""

    @property
    def projection(self) -> Any: ...

    @property
    def health(self) -> Any: ...

    async def wait_for(self, position: int) -> None: ...


class Hub(Protocol):
    """The parts of Kartei the pages, the API and the screen pop use."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> EventStore: ...

    @property
    def health(self) -> HealthRegistry: ...

    @property
    def projections(self) -> Mapping[str, ReadModel]: ...
