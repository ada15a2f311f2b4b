"""The SMTP intake against clients that misbehave: one byte a second, over-long command and
data lines, a message far over the limit, 200 connections that say nothing. Each time a
real sender (smtplib, on its own connection) is served at once, and nothing is stored
twice or lost. Real sockets on loopback, bounded time."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from adapters.mail.smtp import SmtpJournalIntake
from hub.events.mail import EmailReceived
from hub.store import EventStore
from tests.mail import messages
from tests.mail.test_smtp import JOURNAL, send, server  # noqa: F401  (the fixture)

PROMPT = 2.0  # seconds a real sender may wait, on a busy 2-core machine


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    greeting = await asyncio.wait_for(reader.readline(), 5)
    assert greeting.startswith(b"220"), greeting
    return reader, writer


async def reply(reader: asyncio.StreamReader) -> bytes:
    """One (possibly multi-line) SMTP reply."""
    lines = []
    while True:
        line = await asyncio.wait_for(reader.readline(), 10)
        assert line, "connection closed"
        lines.append(line)
        if line[3:4] != b"-":
            return b"".join(lines)


async def timed_delivery(port: int, n: int) -> float:
    started = time.monotonic()
    code, answer = await asyncio.to_thread(send, port, messages.simple(n))
    assert code == 250, answer
    return time.monotonic() - started


@pytest.fixture
async def port(server: SmtpJournalIntake) -> AsyncIterator[int]:  # noqa: F811
    assert server.bound_port is not None
    yield server.bound_port


async def test_a_client_at_one_byte_a_second_holds_up_no_one(store: EventStore, port: int) -> None:
    reader, writer = await connect(port)
    dialogue = (
        b"EHLO slow.example\r\nMAIL FROM:<slow@firma.example>\r\n"
        b"RCPT TO:<" + JOURNAL.encode() + b">\r\nDATA\r\n"
    )
    body = messages.simple(900).replace(b"\n", b"\r\n") + b".\r\n"

    async def dribble() -> None:
        for byte in dialogue[:4]:  # "EHLO" at one byte a second ...
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(1.0)

    slow = asyncio.create_task(dribble())
    waits = [await timed_delivery(port, n) for n in range(3)]  # ... while others deliver
    await slow
    assert max(waits) < PROMPT, waits
    # The slow client finishes its delivery: it is stored too.
    writer.write(dialogue[4:])
    for _ in range(4):
        assert (await reply(reader))[:1] in (b"2", b"3")
    writer.write(body)
    assert (await reply(reader)).startswith(b"250")
    writer.close()
    events = [r.event for r in await store.read_all(0, 10)]
    assert len(events) == 4 and all(isinstance(e, EmailReceived) for e in events)


async def test_an_overlong_command_line_is_refused_and_the_listener_serves_on(
    store: EventStore, port: int
) -> None:
    reader, writer = await connect(port)
    writer.write(b"EHLO " + b"x" * 200_000 + b"\r\n")
    await writer.drain()
    answer = await reply(reader)
    assert answer.startswith(b"500"), answer
    writer.write(b"NOOP\r\n")  # the same connection is still spoken to
    assert (await reply(reader)).startswith(b"250")
    writer.close()
    assert await timed_delivery(port, 1) < PROMPT
    assert len(await store.read_all(0, 10)) == 1


async def test_an_overlong_data_line_is_refused_and_nothing_is_stored(
    store: EventStore, port: int
) -> None:
    reader, writer = await connect(port)
    for command in (
        b"EHLO x",
        b"MAIL FROM:<a@firma.example>",
        b"RCPT TO:<" + JOURNAL.encode() + b">",
    ):
        writer.write(command + b"\r\n")
        assert (await reply(reader)).startswith(b"250")
    writer.write(b"DATA\r\n")
    assert (await reply(reader)).startswith(b"354")
    writer.write(b"Subject: long\r\n\r\n" + b"y" * 100_000 + b"\r\n.\r\n")
    assert (await reply(reader)).startswith(b"500")
    writer.close()
    assert await store.read_all(0, 10) == []
    assert await timed_delivery(port, 2) < PROMPT


async def test_a_message_far_over_the_limit_is_refused_in_bounded_memory(
    store: EventStore, port: int
) -> None:
    """20 MB streamed at a 2 MB limit: 552 after the end marker, and the intake holds about
    the limit, not the message."""
    reader, writer = await connect(port)
    for command in (
        b"EHLO x",
        b"MAIL FROM:<a@firma.example>",
        b"RCPT TO:<" + JOURNAL.encode() + b">",
    ):
        writer.write(command + b"\r\n")
        assert (await reply(reader)).startswith(b"250")
    writer.write(b"DATA\r\n")
    assert (await reply(reader)).startswith(b"354")
    line = b"z" * 998 + b"\r\n"
    tracemalloc.start()
    try:
        writer.write(b"Subject: big\r\n\r\n")
        for _ in range(20):
            writer.write(line * 1000)  # 1 MB
            await writer.drain()
        writer.write(b".\r\n")
        answer = await reply(reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.startswith(b"552"), answer
    assert peak < 12_000_000, peak  # the limit (2 MB), the reader's buffers, the chunk
    writer.close()
    assert await store.read_all(0, 10) == []
    assert await timed_delivery(port, 3) < PROMPT


async def test_200_idle_connections_leave_room_for_a_real_sender(
    store: EventStore, port: int
) -> None:
    idle = [await connect(port) for _ in range(200)]
    for reader, writer in idle[::10]:  # some said hello and then nothing more
        writer.write(b"EHLO idle.example\r\n")
        assert (await reply(reader)).startswith(b"250")
    waits = [await timed_delivery(port, n) for n in range(5)]
    assert max(waits) < PROMPT, waits
    for reader, writer in idle[:5]:  # and they are still served when they speak
        writer.write(b"NOOP\r\n")
        assert (await reply(reader)).startswith(b"250")
    for _, writer in idle:
        writer.close()
    assert len(await store.read_all(0, 10)) == 5
