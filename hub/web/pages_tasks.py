"""The task queue: mine and the team's; assign, complete and snooze, each one event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.events import NewEvent
from hub.events.tasks import TaskAssigned, TaskCompleted, TaskSnoozed
from hub.web import data
from hub.web.pages_contacts import append_task, caught_up, meta
from hub.web.render import page, user_of

router = APIRouter(include_in_schema=False)
Optional = Annotated[str, Form()]
SNOOZE = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "1w": timedelta(weeks=1)}
# Where an action on a task returns to: the list it was clicked in (mine or the team's).
LISTS = ("/tasks?scope=mine", "/tasks?scope=team")


async def task_rows(request: Request, scope: str) -> list[Any]:
    kartei = request.app.state.kartei
    tasks = data.projection(kartei, "tasks")
    if tasks is None:
        return []
    assignee = user_of(request).username if scope == "mine" else None
    async with kartei.store.db.read() as conn:
        return list(await tasks.unfinished(conn, assignee=assignee, now=datetime.now(UTC)))


@router.get("/tasks")
async def tasks_page(request: Request, scope: str = "mine") -> Response:
    scope = "team" if scope == "team" else "mine"
    rows = await task_rows(request, scope)
    ids = {r.contact_id for r in rows if r.contact_id}
    names = await data.contact_names(request.app.state.kartei, ids)
    # A task that means contacting someone shows the channels they blocked.
    blocks = await data.contact_blocks(request.app.state.kartei, ids)
    users = [u["username"] for u in await request.app.state.accounts.list()]
    now = datetime.now(request.app.state.tz)  # a due day ends at the firm's midnight
    return page(
        request,
        "tasks.html",
        rows=rows,
        scope=scope,
        names=names,
        blocks=blocks,
        users=users,
        now=now,
    )


@router.post("/tasks")
async def new_task(request: Request, title: Annotated[str, Form()], due: Optional = "") -> Response:
    if title.strip():
        await append_task(request, title.strip()[:300], None, due, user_of(request).username)
    return RedirectResponse("/tasks", status_code=303)


async def _known(request: Request, task_id: str) -> bool:
    tasks = data.projection(request.app.state.kartei, "tasks")
    if tasks is None or len(task_id) > 64:
        return False
    async with request.app.state.kartei.store.db.read() as conn:
        return await tasks.get(conn, task_id) is not None


async def _append(request: Request, task_id: str, event: Any, back: str = "") -> Response:
    if not await _known(request, task_id):
        return page(request, "message.html", 404, message="Not found.")
    done = await request.app.state.kartei.store.append(
        f"task-{task_id}", None, [NewEvent(event, None, meta(request))]
    )
    await caught_up(request, done.positions[-1], "tasks", "timeline")
    target = back if back in LISTS else request.headers.get("x-back") or "/tasks"
    return RedirectResponse(target, status_code=303)


@router.post("/tasks/{task_id}/complete")
async def complete(
    request: Request, task_id: str, note: Optional = "", back: Optional = ""
) -> Response:
    event = TaskCompleted(task_id=task_id, by=user_of(request).username, note=note[:1000])
    return await _append(request, task_id, event, back)


@router.post("/tasks/{task_id}/assign")
async def assign(
    request: Request, task_id: str, assignee: Optional = "", back: Optional = ""
) -> Response:
    event = TaskAssigned(task_id=task_id, assignee=assignee.strip()[:64] or None)
    return await _append(request, task_id, event, back)


@router.post("/tasks/{task_id}/snooze")
async def snooze(
    request: Request, task_id: str, until: Optional = "1d", back: Optional = ""
) -> Response:
    event = TaskSnoozed(task_id=task_id, until=datetime.now(UTC) + SNOOZE.get(until, SNOOZE["1d"]))
    return await _append(request, task_id, event, back)
