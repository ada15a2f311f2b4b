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
from pathlib import Path


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


AMI_FIXTURES = Path(__file__).parent / "fixtures" / "ami"


def ami_exchange(name: str) -> tuple[str, list[str]]:
    """A recorded exchange: the greeting and the server's reply blocks (after the action)."""
    text = (AMI_FIXTURES / name).read_text().replace("\r\n", "\n")
    greeting, _, rest = text.partition("\n")
    blocks = [b for b in rest.split("\n\n") if b.strip()]
    return greeting, blocks[1:]  # blocks[0] is the client's action


def ami_message(fields: dict[str, str] | str) -> bytes:
    """One AMI message, CRLF-terminated lines and an empty line at the end."""
    if isinstance(fields, dict):
        fields = "\n".join(f"{k}: {v}" for k, v in fields.items())
    return ("\r\n".join(fields.strip("\n").split("\n")) + "\r\n\r\n").encode()


class AsteriskPeer(TcpPeer):
    """An Asterisk manager: greeting, Login answered from the recorded fixtures, then the
    call events a test emits, sent only to sessions that logged in with events on."""

    def __init__(self, username: str = "kartei", secret: str = "geheim") -> None:
        super().__init__()
        self.username = username
        self.secret = secret
        self.logins: list[dict[str, str]] = []
        self.listeners: list[asyncio.StreamWriter] = []
        self._logged_in = asyncio.Condition()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        greeting, _ = ami_exchange("login_ok.yaml")
        writer.write(greeting.encode() + b"\r\n")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                fields = dict(
                    line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line
                )
                await self._answer(fields, writer)

    async def _answer(self, fields: dict[str, str], writer: asyncio.StreamWriter) -> None:
        if fields.get("Action", "").lower() != "login":
            writer.write(ami_message({"Response": "Error", "Message": "Invalid/unknown command"}))
            return
        ok = fields.get("Username") == self.username and fields.get("Secret") == self.secret
        _, blocks = ami_exchange("login_ok.yaml" if ok else "login_failed.yaml")
        action_id = fields.get("ActionID", "")
        for block in blocks:
            block = block.replace("action/transaction_uid/1/1", action_id)
            writer.write(ami_message(block))
        await writer.drain()
        async with self._logged_in:
            self.logins.append({**fields, "ok": str(ok)})
            if ok and fields.get("Events", "on").lower() != "off":
                self.listeners.append(writer)
            self._logged_in.notify_all()

    async def wait_logins(self, count: int) -> list[dict[str, str]]:
        async with asyncio.timeout(10), self._logged_in:
            await self._logged_in.wait_for(lambda: len(self.logins) >= count)
        return self.logins

    async def emit(self, *events: dict[str, str]) -> None:
        """Pushes events to the newest logged-in session."""
        writer = self.listeners[-1]
        for event in events:
            writer.write(ami_message({"Privilege": "call,all", **event}))
        await writer.drain()
