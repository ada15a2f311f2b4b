"""The call list: today's (or the last days') calls, missed ones first; mark missed seen."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.events import NewEvent
from hub.events.calls import MissedCallSeen
from hub.store import ANY
from hub.web import data
from hub.web.pages_contacts import caught_up, meta
from hub.web.render import page, user_of

router = APIRouter(include_in_schema=False)
PERIODS = (1, 7, 30)  # days a user can look back
MAX_ROWS = 500
MAX_MARKED = 500  # calls marked seen in one request


async def call_rows(request: Request, days: int) -> list[dict[str, Any]]:
    """Calls since midnight `days - 1` days ago, missed and unseen first, newest first."""
    now = datetime.now(request.app.state.tz)
    since = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    rows = await data.call_log(request.app.state.kartei, since, limit=MAX_ROWS)
    rows.sort(key=lambda r: not (r["missed"] and r["seen_at"] is None))
    return rows


@router.get("/calls")
async def calls_page(request: Request, days: int = 1) -> Response:
    days = days if days in PERIODS else 1
    rows = await call_rows(request, days)
    unseen = sum(1 for r in rows if r["missed"] and r["seen_at"] is None)
    return page(request, "calls.html", rows=rows, days=days, periods=PERIODS, unseen=unseen)


@router.post("/calls/seen")
async def mark_seen(
    request: Request,
    call: Annotated[list[str] | None, Form()] = None,
    back: Annotated[str, Form()] = "/calls",
) -> Response:
    """Marks the chosen missed calls seen: one MissedCallSeen per call not seen yet."""
    kartei = request.app.state.kartei
    wanted = list(dict.fromkeys(call or []))[:MAX_MARKED]
    calls = data.projection(kartei, "calls")
    target = back if back in ("/", "/calls") or back.startswith("/calls?") else "/calls"
    if calls is None or not wanted:
        return RedirectResponse(target, status_code=303)
    c = calls.calls.c
    query = sa.select(c.stream, c.call_id, c.source).where(
        c.stream.in_(wanted),
        c.direction == "inbound",
        c.cause == "missed",
        c.seen_at.is_(None),
    )
    async with kartei.store.db.read() as conn:
        open_calls = (await conn.execute(query)).all()
    if open_calls:
        by = user_of(request).username
        async with kartei.store.transaction() as tx:
            for row in open_calls:
                event = MissedCallSeen(call_id=row.call_id, source=row.source, by=by)
                done = await tx.append(row.stream, ANY, [NewEvent(event, None, meta(request))])
        await caught_up(request, done.positions[-1], "calls")
    return RedirectResponse(target, status_code=303)
