"""DATA read in blocks, not lines: the same answers as aiosmtpd at a fraction of its cost.
The plain `<local@domain>` of MAIL and RCPT is read without the email package's header
parser (the same result; anything else still goes to it).

aiosmtpd reads a message one `readuntil` per line: for a 43 KB mail about 600 awaits,
which cost the event loop (and every delivery waiting for its commit) as much as parsing
the message does. `read_data` takes whatever has arrived, looks for the end marker,
undoes dot-stuffing with one `replace`, and checks the size and line limits as aiosmtpd
does (552 and 500, both answered after the end marker).
"""

from __future__ import annotations

import asyncio
import re

from aiosmtpd.smtp import MISSING, SMTP

END = b"\r\n.\r\n"  # a line with a single dot, and the line end before it
CHUNK = 1 << 20  # more than the reader ever holds (it pauses the socket past 2 KB)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# The address, and the parameters after it (the parser takes the blanks between along).
_PLAIN_PATH = re.compile(
    rf"[ \t]*<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>"
    r"(?:[ \t]+([^ \t(].*)|())\Z",
    re.DOTALL,
)


class DataTooBig(Exception):
    """552: the message is larger than the listener accepts."""


class LineTooLong(Exception):
    """500: a line is longer than RFC 5321 allows."""


async def read_data(reader: asyncio.StreamReader, size_limit: int | None, line_limit: int) -> bytes:
    """The message after DATA's 354, dot-stuffing undone; raises DataTooBig or LineTooLong
    once the end marker has been read, and ConnectionResetError when the client leaves."""
    data = bytearray(b"\r\n")  # the DATA command's line end: a leading ".\r\n" ends it too
    scanned = dropped = 0  # `dropped`: bytes let go of once the message was too big
    while (end := data.find(END, scanned)) < 0:
        if size_limit and dropped + len(data) > size_limit + 2 * len(END):
            dropped += len(data) - len(END)  # keep only what may hold a split end marker
            del data[: -len(END)]
        scanned = max(0, len(data) - len(END) + 1)
        chunk = await reader.read(CHUNK)
        if not chunk:
            raise ConnectionResetError("connection closed during DATA")
        data += chunk
    rest = data[end + len(END) :]
    if rest and not reader.at_eof():  # a client that did not wait for the answer
        reader.feed_data(bytes(rest))  # (read() emptied the buffer: this goes first)
    if size_limit and dropped + end > size_limit:
        raise DataTooBig
    section = bytes(data[: end + 2])  # the virtual line end, the lines, the last line end
    if max(map(len, section.split(b"\r\n"))) + 2 > line_limit:
        raise LineTooLong
    return section.replace(b"\r\n.", b"\r\n")[2:]


class JournalSMTP(SMTP):
    """aiosmtpd with `read_data` for DATA and a quick path for plain addresses; everything
    else is aiosmtpd's own."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd parses every MAIL and RCPT address with the email package's header
        # parser: a tenth of the event loop's time per delivery. A plain dot-atom address
        # in angle brackets reads the same by a regular expression.
        plain = _PLAIN_PATH.match(arg)
        if plain is None:
            return super()._getaddr(arg)  # type: ignore[no-any-return]
        address = plain[1]
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, plain[2] or ""

    async def smtp_DATA(self, arg: str) -> None:
        # The checks before 354 as aiosmtpd 1.4 makes them.
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await read_data(self._reader, self.data_size_limit, self.line_length_limit)
        except ConnectionResetError:
            self._writer.close()
            return
        except (DataTooBig, LineTooLong) as err:
            too_big = isinstance(err, DataTooBig)
            self._set_post_data_state()
            await self.push("552 Error: Too much mail data" if too_big else _LINE_TOO_LONG)
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)


_LINE_TOO_LONG = "500 Line too long (see RFC5321 4.5.3.1.6)"
