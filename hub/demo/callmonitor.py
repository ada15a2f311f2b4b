"""A FRITZ!Box call monitor on loopback that plays the demo's calls to Kartei's box driver.

Speaks what a box speaks on TCP 1012 (AVM's format, enabled with #96*5*): one line per
phase, ``;``-separated, CRLF, the box's local time first::

    dd.mm.yy hh:mm:ss;RING;id;caller;own number;SIP0;
    dd.mm.yy hh:mm:ss;CALL;id;extension;own number;callee;SIP0;
    dd.mm.yy hh:mm:ss;CONNECT;id;extension;number;
    dd.mm.yy hh:mm:ss;DISCONNECT;id;seconds;

Kartei connects as a client (adapters/telephony/fritzbox.py), exactly as to a real box.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from hub.demo import firm
from hub.demo.script import Call

TRUNK = "SIP0"
RING_SECONDS = 12  # rings before someone picks up
MISSED_RING_SECONDS = 30  # rings before the caller gives up


def lines(call: Call, connection: int) -> list[str]:
    """The call monitor lines of one call, on connection id `connection`."""
    at, n = call.at, connection
    if call.inbound:
        start = f"{_stamp(at)};RING;{n};{call.number};{firm.LINE};{TRUNK};"
    else:
        start = f"{_stamp(at)};CALL;{n};{call.extension};{firm.LINE};{call.number};{TRUNK};"
    if not call.answered:
        end = at + timedelta(seconds=MISSED_RING_SECONDS)
        return [start, f"{_stamp(end)};DISCONNECT;{n};0;"]
    picked = at + timedelta(seconds=RING_SECONDS)
    end = picked + timedelta(seconds=call.seconds)
    return [
        start,
        f"{_stamp(picked)};CONNECT;{n};{call.extension};{call.number};",
        f"{_stamp(end)};DISCONNECT;{n};{call.seconds};",
    ]


def _stamp(at: datetime) -> str:
    return at.strftime("%d.%m.%y %H:%M:%S")


class CallMonitor:
    """The loopback server; `play` sends calls to the client once it has connected."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._client: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def play(self, calls: Sequence[Call]) -> int:
        """Sends every call's lines in order, once Kartei has connected; returns how many."""
        await self._connected.wait()
        assert self._client is not None
        sent = [line for i, call in enumerate(calls) for line in lines(call, i % 10)]
        self._client.write("".join(f"{line}\r\n" for line in sent).encode())
        await self._client.drain()
        return len(sent)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._client = writer
        self._connected.set()
        with contextlib.suppress(OSError):
            await reader.read()  # the box only talks; this returns when Kartei hangs up
