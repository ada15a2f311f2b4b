"""DATA read in blocks gives what aiosmtpd's line-by-line reading gives, answers included."""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import AsyncIterator, Callable

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from adapters.mail.smtp_data import _PLAIN_PATH, DataTooBig, JournalSMTP, LineTooLong, read_data

LIMIT = 10_000

MESSAGES = [
    b"",
    b"\r\n",
    b"Subject: x\r\n\r\nbody\r\n",
    b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n...three\r\nend.\r\n",
    b".first line starts with a dot\r\nsecond\r\n",
    b"bare\nline feeds\n.\nand a lone CR\r.\r\n",
    b"no line end at the end",
    b"x" * 998 + b"\r\n" + b"y" * 999 + b"\r\n",  # the longest lines allowed (1001 with CRLF)
    b"a" * 1000 + b"\r\n",  # one too long: 500
    (b"z" * 70 + b"\r\n") * 200,  # over LIMIT: 552
    (b"w" * 98 + b"\r\n") * 100,  # LIMIT exactly
    b"w" + (b"w" * 98 + b"\r\n") * 100,  # one byte more: 552
    "Grüße\r\n".encode(),
]


def stuffed(content: bytes) -> bytes:
    """What smtplib sends after 354 for these bytes (its dot-stuffing and last line end)."""
    body = re.sub(rb"(?m)^\.", b"..", content)
    return body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def unstuffed(wire: bytes) -> bytes | type[Exception]:
    """RFC 5321 4.5.2 line by line, as aiosmtpd reads it (lines end with CRLF only)."""
    lines = wire.split(b"\r\n")
    end = lines.index(b".")
    if len(b"\r\n".join(lines[:end])) + 2 * bool(end) > LIMIT:
        return DataTooBig
    if any(len(line) + 2 > 1001 for line in lines[:end]):
        return LineTooLong
    return b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines[:end])


async def read_fed(wire: bytes, step: int) -> bytes | type[Exception]:
    """`read_data` on `wire` arriving `step` bytes at a time."""
    reader = asyncio.StreamReader(limit=1001)

    async def arrive() -> None:
        for i in range(0, len(wire), step):
            reader.feed_data(wire[i : i + step])
            await asyncio.sleep(0)  # let the reader take what is there

    async with asyncio.TaskGroup() as group:
        group.create_task(arrive())
        try:
            async with asyncio.timeout(10):
                return await read_data(reader, LIMIT, 1001)
        except (DataTooBig, LineTooLong) as err:
            return type(err)
        finally:
            async with asyncio.timeout(5):  # what followed is kept, in order
                assert await reader.readuntil(b"\r\n") == b"QUIT\r\n"


@pytest.mark.parametrize("step", [1, 2, 3, 5, 7, 4096, 1 << 20])
async def test_any_split_of_the_stream_reads_the_same(step: int) -> None:
    wires = [b".\r\n", b"..\r\n.\r\n", *map(stuffed, MESSAGES)]
    for wire in wires:
        assert await read_fed(wire + b"QUIT\r\n", step) == unstuffed(wire), wire[:40]
    refusals = {unstuffed(w) for w in wires if not isinstance(unstuffed(w), bytes)}
    assert refusals == {DataTooBig, LineTooLong}  # both kinds met


async def test_a_closed_connection_is_no_message() -> None:
    reader = asyncio.StreamReader(limit=1001)
    reader.feed_data(b"Subject: cut\r\n\r\nhalf a mes")
    reader.feed_eof()
    with pytest.raises(ConnectionResetError):
        await read_data(reader, LIMIT, 1001)


class Recorder:
    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.contents.append(envelope.original_content or b"")
        return "250 OK"


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, tuple[int, Recorder]]]:
    loop = asyncio.get_running_loop()
    found: dict[str, tuple[int, Recorder]] = {}
    started = []
    for name, cls in (("aiosmtpd", SMTP), ("journal", JournalSMTP)):
        recorder = Recorder()
        server = await loop.create_server(_factory(cls, recorder), "127.0.0.1", 0)
        started.append(server)
        found[name] = (server.sockets[0].getsockname()[1], recorder)
    yield found
    for server in started:
        server.close()
        await server.wait_closed()


def _factory(cls: type[SMTP], recorder: Recorder) -> Callable[[], SMTP]:
    return lambda: cls(recorder, data_size_limit=LIMIT)


def exchange(port: int, contents: list[bytes]) -> list[tuple[int, bytes]]:
    """Every message over one connection with the stdlib client; the answers to DATA."""
    answers = []
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("mx.firma.example")
        for content in contents:
            client.mail("mx@firma.example")
            client.rcpt("j@kartei.example")
            answers.append(client.data(content))
            client.rset()
        assert client.noop()[0] == 250  # the session goes on after every answer
    return answers


async def test_same_answers_and_content_as_aiosmtpd(
    servers: dict[str, tuple[int, Recorder]],
) -> None:
    (stock_port, stock), (own_port, own) = servers["aiosmtpd"], servers["journal"]
    stock_answers = await asyncio.to_thread(exchange, stock_port, MESSAGES)
    own_answers = await asyncio.to_thread(exchange, own_port, MESSAGES)
    assert [code for code, _ in own_answers] == [code for code, _ in stock_answers]
    assert {code for code, _ in own_answers} == {250, 500, 552}
    assert own.contents == stock.contents and len(own.contents) == len(MESSAGES) - 3


@pytest.mark.parametrize(
    "arg",
    [
        "<mx@firma.example>",
        "<mx@firma.example> SIZE=4096 BODY=8BITMIME",
        "  <a.b-c+d@sub.firma-x.example>\tSIZE=1  ",
        "<Anna.Mueller@Firma.Example>",
        "<>",
        "<a..b@firma.example>",
        "<.a@firma.example>",
        "<a@firma..example>",
        "<a@[127.0.0.1]>",
        '<"quoted local"@firma.example>',
        "<a@firma.example>(comment) SIZE=1",
        "<a@firma.example>  (comment)",
        "<a@firma.example>SIZE=1",
        "<a@firma.example",
        "a@firma.example",
        "<müller@firma.example>",
        "<" + "x" * 65 + "@firma.example>",
        "<" + "x" * 64 + "@firma.example>",
        "<a@b>\n",
        "",
    ],
)
async def test_plain_addresses_read_as_aiosmtpd_reads_them(arg: str) -> None:
    # aiosmtpd's own parser (the email package's) is the reference for every input.
    quick = arg.startswith(("<mx", "  <a.b", "<Anna", "<xxx"))  # these take the quick path
    assert (_PLAIN_PATH.match(arg) is not None) == quick
    own, stock = JournalSMTP(Recorder()), SMTP(Recorder())
    for limit in (0, 64):  # aiosmtpd's default (none), and RFC 5321's
        own.local_part_limit = stock.local_part_limit = limit
        assert own._getaddr(arg) == stock._getaddr(arg)
