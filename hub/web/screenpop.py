"""The screen pop: call events pushed to every browser over server-sent events.

One subscription per process follows the call events; each ring is looked up once (the
caller's card) and fanned out to every connected browser whose user answers that line.
Messages carry the event's store position as their SSE id, so a browser that reconnects
(after a network drop or a server restart) sends Last-Event-ID and gets exactly what it
missed, read back from the log when it is older than the in-memory buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from hub.events import Recorded
from hub.events.calls import CallAnswered, CallEnded, CallRinging
from hub.phone import written_form
from hub.sql import aware
from hub.store.errors import database_away
from hub.web import data
from hub.web.i18n import format_datetime, said, translator
from hub.web.render import user_of

if TYPE_CHECKING:
    from hub.web.auth import Accounts, User
    from hub.web.port import Hub

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
CALL_TYPES = ("CallRinging", "CallAnswered", "CallEnded")
BUFFER = 1000
KEEPALIVE_SECONDS = 15.0
REPLAY_LIMIT = 500
MAX_CALLS = 10_000  # remembered lines of recent calls
# How long the card's details wait for every browser to be sent the name. The details'
# queries and the connections' writes share one event loop: the name goes first. A stalled
# connection (its socket full) makes the details wait this long at most.
NAME_FIRST_SECONDS = 0.05
# How long the follower waits before it subscribes again after the database went away.
FOLLOW_RETRY_SECONDS = 0.5
FOLLOW_RETRY_MAX_SECONDS = 5.0


class PopHub:
    """Builds each call event's pop message once and lets every browser wait for the next.

    A ring goes out in two messages: first who is calling (one indexed lookup), then the
    rest of the card (risk, tasks, history: several queries), so the name is on screen
    while the details are still being read (they wait until every connection has been
    sent the name). Only the last message of an event carries the SSE id, so a browser
    that drops in between gets both again. Each message is encoded once for all browsers.
    """

    def __init__(self, kartei: Hub, accounts: Accounts | None = None) -> None:
        self.kartei = kartei
        self.accounts = accounts  # to say who answered by name, not by extension
        self.buffer: deque[dict[str, Any]] = deque(maxlen=BUFFER)
        self.covered_from: int | None = None  # messages after this position are buffered
        self.lines: dict[str, tuple[str, str | None]] = {}  # call stream -> line, extension
        self._seq = 0  # numbers buffered messages (several per event) for the browsers
        self._changed = asyncio.Event()
        self.listeners = 0  # open streams
        self._behind = 0  # streams not yet sent the newest message
        self._all_sent = asyncio.Event()
        self.followed = 0  # the last call event published (or the head it started at)
        self._task: asyncio.Task[None] | None = None
        self._started = asyncio.Lock()

    async def start(self) -> None:
        async with self._started:
            if self._task is not None and not self._task.done():
                return
            head = await self.kartei.store.head()
            self.covered_from = head
            self.followed = head
            self._task = asyncio.create_task(self._follow(), name="screenpop")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        """Follows the call events for as long as the process lives. When the database
        goes away (a PostgreSQL restart) the subscription fails; it is taken up again
        after the last event published, so no ring is skipped: before, the follower died,
        the open streams waited in vain, and the next stream started one at the head."""
        pause = FOLLOW_RETRY_SECONDS
        while True:
            try:
                async for batch in self.kartei.store.subscribe(self.followed, types=CALL_TYPES):
                    pause = FOLLOW_RETRY_SECONDS
                    for r in batch:
                        try:
                            await self._publish(r)
                        except Exception as err:
                            if database_away(err):
                                raise  # this ring again once the database is back
                            # A broken lookup must not stop the pops.
                            log.exception("screen pop for event %d failed", r.position)
                        self.followed = r.position
            except Exception as err:
                log.warning("screen pop: following the log failed (%s); again in %.1f s",
                            err, pause)  # fmt: skip
                await asyncio.sleep(pause)
                pause = min(pause * 2, FOLLOW_RETRY_MAX_SECONDS)

    async def _publish(self, r: Recorded) -> None:
        if isinstance(r.event, CallRinging):
            ring = await self.ring(r)
            self._push(ring, partial=ring["contact_id"] is not None)
            if ring["contact_id"] is not None:
                await self._name_sent()
                more = await self.more(ring["contact_id"])
                self._push({**_head(ring), "type": "card", **more})
            return
        message = await self.message(r)
        if message is not None:
            self._push(message)

    def _push(self, message: dict[str, Any], *, partial: bool = False) -> None:
        self._seq += 1
        entry = {**message, "seq": self._seq, "partial": partial}
        entry["wire"] = _event(entry)
        self.buffer.append(entry)
        self._behind = self.listeners
        self._all_sent = asyncio.Event()
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    def sent(self, seq: int) -> None:
        """A stream has been sent everything up to `seq`."""
        if seq == self._seq and self._behind > 0:
            self._behind -= 1
            if self._behind == 0:
                self._all_sent.set()

    async def _name_sent(self) -> None:
        if self._behind == 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(NAME_FIRST_SECONDS):
                await self._all_sent.wait()

    def since(self, seq: int) -> list[dict[str, Any]] | None:
        """Buffered messages after a sequence number (None when the buffer moved past it)."""
        if self.buffer and self.buffer[0]["seq"] > seq + 1:
            return None
        return [m for m in self.buffer if m["seq"] > seq]

    async def after(self, position: int) -> list[dict[str, Any]]:
        """Messages after a position: from the buffer, or rebuilt from the log."""
        covered = self.covered_from
        if self.buffer and len(self.buffer) == self.buffer.maxlen:
            covered = self.buffer[0]["id"] - 1
        if covered is not None and position >= covered:
            return [m for m in self.buffer if m["id"] > position]
        batch = await self.kartei.store.read_all(position, REPLAY_LIMIT, types=CALL_TYPES)
        messages = []
        for r in batch:
            message = await self.message(r)
            if message is not None:
                messages.append(message)
        return messages

    async def message(self, r: Recorded) -> dict[str, Any] | None:
        """One event's whole message (a ring with the full card), e.g. for a replay."""
        e = r.event
        if isinstance(e, CallRinging):
            ring = await self.ring(r)
            if ring["contact_id"] is not None:
                ring.update(await self.more(ring["contact_id"]))
            return ring
        if isinstance(e, CallAnswered):
            line, extension = await self.line_of(r.stream)
            return {
                "id": r.position,
                "type": "answered",
                "call": r.stream,
                "line": line,
                "extension": extension,
                "by": await self.who(e.answered_by or e.extension or ""),
            }
        if isinstance(e, CallEnded) and e.direction == "inbound":
            line, extension = await self.line_of(r.stream)
            return {
                "id": r.position,
                "type": "ended",
                "call": r.stream,
                "line": line,
                "extension": extension,
                "cause": e.cause,
                "duration": e.duration_seconds,
            }
        return None

    async def who(self, answered_by: str) -> str:
        """The user who answered, by display name ("Anna"): the phone system reports a user
        name or an extension; a user whose lines include that extension answered it."""
        if not answered_by or self.accounts is None:
            return answered_by
        for user in await self.accounts.list():
            lines = str(user.get("lines") or "").split(",")
            if answered_by == user["username"] or answered_by in lines:
                return str(user["display_name"] or user["username"])
        return answered_by

    async def ring(self, r: Recorded) -> dict[str, Any]:
        """Who is calling: the ring message without the card's details."""
        e = r.event
        assert isinstance(e, CallRinging)
        if len(self.lines) > MAX_CALLS:
            self.lines.clear()
        self.lines[r.stream] = (e.line, e.extension)
        return {
            "id": r.position,
            "type": "ring",
            "call": r.stream,
            "line": e.line,
            "extension": e.extension,
            "number": e.caller or e.caller_raw,
            # As people write it; the pop is built once for all, in the firm's region.
            "number_text": written_form(e.caller or e.caller_raw, self.region()),
            "caller_name": e.caller_name[:100],
            **await self.caller(e.caller, e.caller_raw),
        }

    def region(self) -> str:
        """Where the firm is: its numbers are written nationally, others internationally."""
        return self.kartei.settings.contacts.default_region

    async def line_of(self, stream: str) -> tuple[str, str | None]:
        """The line and extension a call rang at (from its ringing event)."""
        known = self.lines.get(stream)
        if known is not None:
            return known
        for r in await self.kartei.store.read_stream(stream):
            if isinstance(r.event, CallRinging):
                self.lines[stream] = (r.event.line, r.event.extension)
                return self.lines[stream]
        return ("", None)

    async def caller(self, *numbers: str | None) -> dict[str, Any]:
        """The contact a number belongs to: id, name, company, customer number. The number
        as sent is tried after the stored one: digits without a prefix can be read two ways
        ("436641234567": +49 4366... or +43 664...), and the adapter stored one of them."""
        identity = data.projection(self.kartei, "identity")
        match = None
        if identity is not None:
            async with self.kartei.store.db.read() as conn:
                for number in dict.fromkeys(n for n in numbers if n):
                    if match := await identity.lookup_number(conn, number):
                        break
        if match is None:
            return {"contact_id": None}
        return {
            "contact_id": match.contact_id,
            "name": match.display_name,
            "company": match.company or "",
            "customer_number": match.customer_number or "",
        }

    async def more(self, contact_id: str) -> dict[str, Any]:
        """The rest of the card: risk, open tasks, recent history, last complaint."""
        async with self.kartei.store.db.read() as conn:
            return await details(conn, self.kartei, contact_id)


def _head(message: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "call", "line", "extension", "contact_id")
    return {k: message[k] for k in keys}


async def details(conn: Any, kartei: Hub, contact_id: str) -> dict[str, Any]:
    """Risk, open tasks, the last five interactions and the last complaint; said in the
    firm's language (the pop is built once for every browser)."""
    out: dict[str, Any] = {"risk": None, "tasks": [], "recent": [], "last_complaint": None}
    language = kartei.settings.kartei.language
    risk = await data.risk_of(conn, kartei, contact_id)
    if risk is not None:
        out["risk"] = said(risk["remarks"], language) if risk["remarks"] else risk["reason"]
    tasks = data.projection(kartei, "tasks")
    if tasks is not None:
        rows = await tasks.unfinished(conn, contact_id=contact_id, limit=5)
        out["tasks"] = [row.title for row in rows]
    timeline = data.projection(kartei, "timeline")
    directory = data.projection(kartei, "contacts")
    if timeline is not None and directory is not None:
        contact = await directory.get(conn, contact_id)
        parties = data.parties_of(contact) if contact is not None else []
        entries = await timeline.for_contact(conn, [contact_id], parties, limit=6)
        shown = [e for e in entries if e.data.get("status") != "ringing"][:5]
        out["recent"] = [_line(e, kartei) for e in shown]
        # Timeline rows keep no subjects (they are read from the sealed event).
        complaint = await timeline.latest_labelled(conn, contact_id, "complaint")
        if complaint is not None:
            out["last_complaint"] = {
                "at": complaint.at.isoformat(),
                "subject": complaint.data.get("subject", ""),
            }
    return out


# What a recent interaction without a subject or text (a fax, a risk) is called in the pop.
KIND_TEXT = {"fax": "Fax", "risk": "At risk", "email": "Email", "note": "Note", "call": "Call"}


def _line(entry: Any, kartei: Hub) -> dict[str, Any]:
    """One recent interaction: its kind, moment (also as the firm writes it) and text."""
    d, language = entry.data, kartei.settings.kartei.language
    status = translator(language)(d["status"]) if d.get("status") else ""
    kind = translator(language)(KIND_TEXT.get(entry.kind, ""))
    text = d.get("subject") or d.get("text") or d.get("title") or status or kind
    when = format_datetime(aware(entry.at), language, ZoneInfo(kartei.settings.kartei.timezone))
    return {"kind": entry.kind, "at": entry.at.isoformat(), "when": when, "text": str(text)[:120]}


def wanted(user: User, message: dict[str, Any]) -> bool:
    """Whether this user answers the line or extension the call came in on."""
    if not user.lines:
        return True
    return message.get("line") in user.lines or message.get("extension") in user.lines


@router.get("/pop/stream")
async def stream(
    request: Request, after: int | None = None, hello: bool = False
) -> StreamingResponse:
    """Server-sent events for this browser; resumes after Last-Event-ID, or else after
    `after` (a page that opens a new stream after the old one was closed for good).
    `hello`: the stream opens with a `hello` event, so that the page learns the id it
    starts at (a page reads ids only from events, not from the data-less opening)."""
    hub: PopHub = request.app.state.pop
    user = user_of(request)
    await hub.start()
    header = request.headers.get("last-event-id", "")
    cursor = int(header) if header.isdigit() else after
    if cursor is None:
        cursor = await request.app.state.kartei.store.head()

    async def events() -> AsyncIterator[bytes]:
        position, seq = cursor, None
        # The id of where this stream starts: a browser that loses the stream before its
        # first pop (a restart of Kartei) resumes from here with Last-Event-ID, and gets
        # the rings of the gap instead of starting again at the head.
        yield f"retry: 1000\nid: {cursor}\n\n".encode()
        if hello:
            yield b"event: hello\ndata: {}\n\n"
        hub.listeners += 1
        try:
            while True:
                changed = hub._changed
                messages = hub.since(seq) if seq is not None else None
                if messages is None:
                    messages = await hub.after(position)
                for message in messages:
                    seq = message.get("seq", seq)
                    if wanted(user, message):
                        yield message.get("wire") or _event(message)
                    if not message.get("partial"):
                        position = message["id"]
                if messages:
                    if seq is not None:
                        hub.sent(seq)
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        await changed.wait()
                        continue
                yield b": keepalive\n\n"
        finally:
            hub.listeners -= 1

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _event(message: dict[str, Any]) -> bytes:
    """One SSE message; the id only on an event's last message (see PopHub)."""
    body = {k: v for k, v in message.items() if k not in ("seq", "partial", "wire")}
    text = orjson.dumps(body).decode()
    if message.get("partial"):
        return f"event: pop\ndata: {text}\n\n".encode()
    return f"id: {message['id']}\nevent: pop\ndata: {text}\n\n".encode()
