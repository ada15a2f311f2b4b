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

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from hub.events import Recorded
from hub.events.calls import CallAnswered, CallEnded, CallRinging
from hub.web import data
from hub.web.render import user_of

if TYPE_CHECKING:
    from hub.bootstrap import Kartei
    from hub.web.auth import User

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
CALL_TYPES = ("CallRinging", "CallAnswered", "CallEnded")
BUFFER = 1000
KEEPALIVE_SECONDS = 15.0
REPLAY_LIMIT = 500
MAX_CALLS = 10_000  # remembered lines of recent calls


class PopHub:
    """Builds each call event's pop message once and lets every browser wait for the next."""

    def __init__(self, kartei: Kartei) -> None:
        self.kartei = kartei
        self.buffer: deque[dict[str, Any]] = deque(maxlen=BUFFER)
        self.covered_from: int | None = None  # messages after this position are buffered
        self.lines: dict[str, tuple[str, str | None]] = {}  # call stream -> line, extension
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = asyncio.Lock()

    async def start(self) -> None:
        async with self._started:
            if self._task is not None and not self._task.done():
                return
            head = await self.kartei.store.head()
            self.covered_from = head
            self._task = asyncio.create_task(self._follow(head), name="screenpop")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self, after: int) -> None:
        async for batch in self.kartei.store.subscribe(after, types=CALL_TYPES):
            for r in batch:
                try:
                    message = await self.message(r)
                except Exception:  # a broken lookup must not stop the pops
                    log.exception("screen pop for event %d failed", r.position)
                    continue
                if message is not None:
                    self.buffer.append(message)
            old, self._changed = self._changed, asyncio.Event()
            old.set()

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
        e = r.event
        if isinstance(e, CallRinging):
            if len(self.lines) > MAX_CALLS:
                self.lines.clear()
            self.lines[r.stream] = (e.line, e.extension)
            card = await self.card(e.caller or e.caller_raw)
            return {
                "id": r.position,
                "type": "ring",
                "call": r.stream,
                "line": e.line,
                "extension": e.extension,
                "number": e.caller or e.caller_raw,
                "caller_name": e.caller_name[:100],
                **card,
            }
        if isinstance(e, CallAnswered):
            line, extension = await self.line_of(r.stream)
            return {
                "id": r.position,
                "type": "answered",
                "call": r.stream,
                "line": line,
                "extension": extension,
                "by": e.answered_by or e.extension or "",
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

    async def card(self, number: str) -> dict[str, Any]:
        """What the pop shows about a caller: contact, risk, open tasks, recent history."""
        kartei = self.kartei
        identity = data.projection(kartei, "identity")
        card: dict[str, Any] = {"contact_id": None}
        if identity is None or not number:
            return card
        async with kartei.store.db.read() as conn:
            match = await identity.lookup_number(conn, number)
            if match is None:
                return card
            card.update(
                contact_id=match.contact_id,
                name=match.display_name,
                company=match.company or "",
                customer_number=match.customer_number or "",
            )
            card.update(await details(conn, kartei, match.contact_id))
        return card


async def details(conn: Any, kartei: Kartei, contact_id: str) -> dict[str, Any]:
    """Risk, open tasks, the last five interactions and the last complaint."""
    out: dict[str, Any] = {"risk": None, "tasks": [], "recent": [], "last_complaint": None}
    risk = await data.risk_of(conn, kartei, contact_id)
    if risk is not None:
        out["risk"] = risk["reason"]
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
        out["recent"] = [_line(e) for e in entries if e.data.get("status") != "ringing"][:5]
        # Timeline rows keep no subjects (they are read from the sealed event).
        complaint = await timeline.latest_labelled(conn, contact_id, "complaint")
        if complaint is not None:
            out["last_complaint"] = {
                "at": complaint.at.isoformat(),
                "subject": complaint.data.get("subject", ""),
            }
    return out


def _line(entry: Any) -> dict[str, Any]:
    d = entry.data
    text = d.get("subject") or d.get("text") or d.get("title") or d.get("status") or ""
    return {"kind": entry.kind, "at": entry.at.isoformat(), "text": str(text)[:120]}


def wanted(user: User, message: dict[str, Any]) -> bool:
    """Whether this user answers the line or extension the call came in on."""
    if not user.lines:
        return True
    return message.get("line") in user.lines or message.get("extension") in user.lines


@router.get("/pop/stream")
async def stream(request: Request, after: int | None = None) -> StreamingResponse:
    """Server-sent events for this browser; resumes after Last-Event-ID."""
    hub: PopHub = request.app.state.pop
    user = user_of(request)
    await hub.start()
    header = request.headers.get("last-event-id", "")
    cursor = int(header) if header.isdigit() else after
    if cursor is None:
        cursor = await request.app.state.kartei.store.head()

    async def events() -> AsyncIterator[bytes]:
        position = cursor
        yield b"retry: 1000\n\n"
        while True:
            changed = hub._changed
            messages = await hub.after(position)
            for message in messages:
                position = message["id"]
                if wanted(user, message):
                    body = orjson.dumps(message).decode()
                    yield f"id: {position}\nevent: pop\ndata: {body}\n\n".encode()
            if messages:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    await changed.wait()
                    continue
            yield b": keepalive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
