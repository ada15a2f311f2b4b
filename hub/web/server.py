"""Uvicorn inside Kartei's own event loop, as a supervised component."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from hub.health import ComponentHealth


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to Kartei's CLI."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """Serves the FastAPI app until cancelled; `ready` is set once the socket listens."""

    name = "web"

    def __init__(
        self, app: FastAPI, host: str, port: int, health: ComponentHealth | None = None
    ) -> None:
        self.app = app
        self.health = health or ComponentHealth(self.name)
        self.host = host
        self.port = port
        self.ready = asyncio.Event()
        self._server: _EmbeddedServer | None = None

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful with port 0 in tests)."""
        assert self._server is not None and self._server.servers
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def run(self) -> None:
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = _EmbeddedServer(config)
        serving = asyncio.create_task(self._server.serve(), name="uvicorn")
        try:
            while not self._server.started:
                if serving.done():
                    break
                await asyncio.sleep(0.01)  # uvicorn offers no started event to wait on
            if self._server.started:
                self.ready.set()
                self.health.set("ok", port=self.bound_port)
            await serving
            if not self._server.started:
                raise OSError(f"web server could not listen on {self.host}:{self.port}")
        finally:
            self.ready.clear()
            self._server.should_exit = True
            if not serving.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
            searches = getattr(self.app.state, "searches", None)
            if searches is not None:
                await searches.close()  # the last searches into the audit trail
