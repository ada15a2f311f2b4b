"""Customers at risk (acknowledge: RiskAcknowledged) and the classifier's labels, which staff
correct from here (ClassificationCorrected: changes the risk and becomes training data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.events import Event, NewEvent
from hub.events.classification import (
    LABELS,
    ClassificationCorrected,
    ClassifierRolledBack,
    ClassifierTrained,
    MessageClassified,
    RiskAcknowledged,
)
from hub.store import ANY
from hub.web import data
from hub.web.pages_contacts import caught_up, meta
from hub.web.render import page, user_of

router = APIRouter(include_in_schema=False)
# The customer's words in a message, as the classifier saw them (policies/classifier),
# handed in by the composition root: an object with `text` and `contact_id`, or None.
MessageWords = Callable[[Event], Any]
PERIOD = timedelta(days=30)
SHOWN = 200
QUEUE = 10  # "Bitte prüfen": five minutes of an owner's week
HISTORY = 5  # trainings shown
MODEL_STREAM = "classifier-model"


@router.get("/risks")
async def risks_page(request: Request) -> Response:
    kartei = request.app.state.kartei
    risk = data.projection(kartei, "risk")
    rows: list[dict[str, Any]] = []
    if risk is not None:
        async with kartei.store.db.read() as conn:
            rows = await risk.ranked(conn, SHOWN)
    names = await data.contact_names(request.app.state.kartei, {r["contact_id"] for r in rows})
    behind = await _behind(kartei, rows)
    return page(request, "risks.html", rows=rows, names=names, behind=behind)


async def _behind(kartei: Any, rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The complaints behind each flag: the message (as on the card), how sure the model
    was and whether staff checked it, by message position."""
    review = data.projection(kartei, "review")
    timeline = data.projection(kartei, "timeline")
    positions = [p for r in rows if r["at_risk"] for p in r.get("messages", [])]
    if not positions or review is None or timeline is None:
        return {}
    async with kartei.store.db.read() as conn:
        entries = await timeline.labelled_messages(conn, positions)
        checks = await review.of(conn, positions)
    return {
        p: {"entry": entries[p], **checks.get(p, {"margin": None, "corrected_label": None})}
        for p in positions
        if p in entries
    }


@router.post("/risks/{contact_id}/acknowledge")
async def acknowledge(
    request: Request, contact_id: str, comment: Annotated[str, Form()] = ""
) -> Response:
    """Staff took care of a customer at risk: clears the flag (one RiskAcknowledged)."""
    kartei = request.app.state.kartei
    risk = data.projection(kartei, "risk")
    if risk is None or len(contact_id) > 200:
        return page(request, "message.html", 404, message="Not found.")
    async with kartei.store.db.read() as conn:
        at_risk = await data.risk_of(conn, kartei, contact_id)
    if at_risk is None:
        return page(request, "message.html", 404, message="Not found.")
    event = RiskAcknowledged(
        contact_id=contact_id, comment=comment.strip()[:1000], by=user_of(request).username
    )
    done = await kartei.store.append(
        f"risk-{contact_id}", ANY, [NewEvent(event, None, meta(request))]
    )
    await caught_up(request, done.positions[-1], "risk", "timeline")
    return RedirectResponse("/risks", status_code=303)


@router.get("/classifications")
async def classifications_page(request: Request, label: str = "complaint") -> Response:
    """The classified messages of the last 30 days (one label or all), newest first."""
    label = label if label in LABELS else "all"
    kartei = request.app.state.kartei
    timeline = data.projection(kartei, "timeline")
    entries: list[Any] = []
    if timeline is not None:
        since = datetime.now(UTC) - PERIOD
        wanted = None if label == "all" else label
        async with kartei.store.db.read() as conn:
            entries = await timeline.labelled(conn, since, wanted, SHOWN)
    queue, numbers = await _to_check(kartei)
    trainings = await _trainings(kartei)
    contacts = {e.contact_id for e in [*entries, *queue] if e.contact_id}
    names = await data.contact_names(request.app.state.kartei, contacts)
    return page(
        request,
        "classifications.html",
        entries=entries,
        label=label,
        labels=LABELS,
        names=names,
        queue=queue,
        numbers=numbers,
        trainings=trainings,
        in_use=_in_use(trainings),
    )


async def _trainings(kartei: Any) -> list[dict[str, Any]]:
    """The classifier's trainings and rollbacks (stream ``classifier-model``), newest first."""
    found = []
    for r in reversed(await kartei.store.read_stream(MODEL_STREAM)):
        e = r.event
        if isinstance(e, ClassifierTrained | ClassifierRolledBack):
            trained = isinstance(e, ClassifierTrained)
            found.append({"at": r.recorded_at, "event": e, "trained": trained})
        if len(found) >= HISTORY:
            break
    return found


def _in_use(trainings: list[dict[str, Any]]) -> dict[str, Any]:
    """Which model is in use ("shipped" before any switch) and the training that made it,
    when it is among those shown."""
    if not trainings:
        return {"version": "shipped", "training": None}
    latest = trainings[0]["event"]
    if not trainings[0]["trained"]:
        version = latest.version
    else:
        version = latest.version if latest.adopted else latest.previous_version
    made = next(
        (
            t
            for t in trainings
            if t["trained"] and t["event"].adopted and t["event"].version == version
        ),
        None,
    )
    return {"version": version, "training": made}


async def _to_check(kartei: Any) -> tuple[list[Any], dict[str, Any]]:
    """The "Bitte prüfen" queue (the messages the model is least sure of, unchecked) and
    the counts and model scores shown above it."""
    review = data.projection(kartei, "review")
    timeline = data.projection(kartei, "timeline")
    numbers: dict[str, Any] = {}
    if review is None or timeline is None:
        return [], numbers
    async with kartei.store.db.read() as conn:
        # More candidates than places: messages with the same words (a customer's
        # standing order sent every month) take one place, since one answer teaches
        # the model as much as all of them.
        unsure = await review.to_check(conn, QUEUE * 4)
        numbers.update(await review.counts(conn))
        found = await timeline.labelled_messages(conn, [u["message_position"] for u in unsure])
    queue = []
    seen: set[tuple[str, str, str]] = set()
    for u in unsure:
        entry = found.get(u["message_position"])
        if entry is None:
            continue
        words = entry.data.get("subject") or entry.data.get("snippet") or entry.data.get("text")
        same = (entry.kind, str(entry.label), str(words or entry.label_position))
        if same in seen:
            continue
        seen.add(same)
        queue.append(entry)
        entry.data["margin"] = u["margin"]
        if len(queue) == QUEUE:
            break
    return queue, numbers


@router.post("/classifications/{position}/correct")
async def correct(request: Request, position: int, label: Annotated[str, Form()]) -> Response:
    """Says what a message really was (one ClassificationCorrected)."""
    kartei = request.app.state.kartei
    if label not in LABELS or position < 1:
        return page(request, "message.html", 400, message="Not found.")
    found = await kartei.store.read_all(position - 1, 1)
    stream = f"classification-{position}"
    classified = [
        r.event
        for r in await kartei.store.read_stream(stream)
        if isinstance(r.event, MessageClassified | ClassificationCorrected)
    ]
    if not found or found[0].position != position or not classified:
        return page(request, "message.html", 404, message="Not found.")
    message = found[0].event
    words_of: MessageWords | None = request.app.state.message_words
    words = words_of(message) if words_of is not None else None
    contact_id = next(
        (e.contact_id for e in reversed(classified) if e.contact_id), None
    ) or getattr(words, "contact_id", None)
    event = ClassificationCorrected(
        message_position=position,
        label=label,
        previous_label=classified[-1].label,
        by=user_of(request).username,
        contact_id=contact_id,
        text=getattr(words, "text", "") or "",
        text_subject=message.data_subject(),
    )
    done = await kartei.store.append(stream, ANY, [NewEvent(event, None, meta(request))])
    await caught_up(request, done.positions[-1], "risk", "timeline", "review")
    back = request.headers.get("referer", "")
    path = "/" + back.split("://", 1)[-1].split("/", 1)[-1] if "://" in back else ""
    # Back where the click was: the classifications page or the customer's card.
    target = path if path.startswith(("/classifications", "/contacts/")) else "/classifications"
    return RedirectResponse(target, status_code=303)
