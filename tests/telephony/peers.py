"""Protocol-accurate stand-ins for phone systems that cannot run here, as TCP servers.

Written from the published formats: the FRITZ!Box call monitor (AVM; port 1012, lines
``dd.mm.yy hh:mm:ss;RING;...``) and the Asterisk Manager Interface (greeting line, then
``Key: Value`` messages ended by an empty line, CRLF throughout; Login answered with
``Response: Success``/``Error``, events pushed after a successful login).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence


class TcpPeer:
    """A loopback TCP server that remembers its connections and can drop them."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self._connected = asyncio.Condition()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def wait_connections(self, count: int) -> asyncio.StreamWriter:
        """The `count`-th connection, once the client has made it."""
        async with asyncio.timeout(10), self._connected:
            await self._connected.wait_for(lambda: len(self.writers) >= count)
        return self.writers[count - 1]

    async def drop(self) -> None:
        """Closes the newest connection, as a box does when it restarts."""
        writer = self.writers[-1]
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with self._connected:
            self.writers.append(writer)
            self._connected.notify_all()
        await self.serve(reader, writer)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """What the peer does with a connection; the call monitor only writes."""
        with contextlib.suppress(OSError):
            await reader.read()


class FritzBoxPeer(TcpPeer):
    """A FRITZ!Box call monitor: pushes lines to whoever is connected."""

    async def send(self, data: bytes | str | Sequence[str], *, eol: str = "\r\n") -> None:
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, bytes):
            data = "".join(line + eol for line in data).encode()
        writer = self.writers[-1]
        writer.write(data)
        await writer.drain()
