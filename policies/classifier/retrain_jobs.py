"""Retraining as Kartei runs it: the firm's corrections from the log, relabelling recent
messages after a switch, and the scheduled job (default weekly, once enough new
corrections exist), which trains in a niced worker process so capture keeps its pace.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.events import NewEvent
from hub.events.classification import (
    ClassificationCorrected,
    ClassifierRolledBack,
    ClassifierTrained,
)
from hub.settings import Settings
from hub.store import ANY, EventStore

log = logging.getLogger(__name__)
MODEL_STREAM = "classifier-model"
RELABEL_BATCH = 32


async def corrections(store: EventStore) -> tuple[list[tuple[str, str]], int]:
    """The latest correction per message (text, label), oldest first, and the position
    of the last correction read (0: none)."""
    latest: dict[int, tuple[str, str]] = {}
    after = until = 0
    while batch := await store.read_all(after, 1000, types=("ClassificationCorrected",)):
        for r in batch:
            e = r.event
            if isinstance(e, ClassificationCorrected) and e.text:
                latest.pop(e.message_position, None)  # a later correction counts, in its place
                latest[e.message_position] = (e.text, e.label)
                until = r.position
        after = batch[-1].position
    return list(latest.values()), until


async def history(store: EventStore) -> list[ClassifierTrained | ClassifierRolledBack]:
    """Every training and rollback, oldest first."""
    return [
        r.event
        for r in await store.read_stream(MODEL_STREAM)
        if isinstance(r.event, ClassifierTrained | ClassifierRolledBack)
    ]


async def relabel_recent(
    kartei: Any,
    settings: Settings,
    *,
    days: int | None = None,
    model: Any = None,
    in_server: bool = False,
) -> int:
    """Classifies the messages of the churn window again with the model now in use: new
    MessageClassified events (the old ones stay); a message the model in use already
    labelled is skipped (same idempotency key). Returns how many were appended."""
    from policies.classifier.policy import classified, message_of
    from policies.classifier.setup import model_loader

    review = kartei.projections.get("review")
    if review is None:
        return 0
    if in_server:  # the running read model: wait until it has read the log so far
        async with asyncio.timeout(120):
            await review.caught_up_to(await kartei.store.head())
    else:  # a command beside (or without) a running Kartei
        await review.bring_up_to_date()
    since = datetime.now(UTC) - timedelta(days=days or settings.churn.window_days)
    t = review.projection.rows
    async with kartei.store.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(t.c.message_position, t.c.contact_id)
                .where(t.c.at >= since)
                .order_by(t.c.message_position)
            )
        ).all()
    if not rows:
        return 0
    loop = asyncio.get_running_loop()
    own = model is None  # else the caller's model (in use now), which the caller closes
    if own:
        model = await loop.run_in_executor(None, model_loader(settings))
    appended = 0
    try:
        for i in range(0, len(rows), RELABEL_BATCH):
            chunk = rows[i : i + RELABEL_BATCH]
            found = []
            for position, contact_id in chunk:
                records = await kartei.store.read_all(position - 1, 1)
                if records and records[0].position == position:
                    message = message_of(records[0].event)
                    if message is not None:
                        found.append((records[0], message, contact_id))
            if not found:
                continue
            texts = [m.text for _, m, _ in found]
            predictions = await loop.run_in_executor(None, model.predict, texts)
            for (r, message, contact_id), p in zip(found, predictions, strict=True):
                stream, new = classified(r, message, p, model, contact_id)
                done = await kartei.store.append(stream, ANY, [new])
                appended += len(done.positions)
    finally:
        close = getattr(model, "close", None) if own else None
        if close is not None:
            close()
    return appended


def train_in_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Runs in a niced worker process: trains a candidate, saves it, switches to it when
    it scored better. Returns what the ClassifierTrained event records."""
    os.nice(payload.get("nice", 19))
    from policies.classifier.model import Encoder, ensure_encoder, load_model
    from policies.classifier.retrain import Registry, train_candidate

    cache = Path(payload["cache_dir"])
    registry = Registry.of(Path(payload["root"]))
    current = load_model(
        "builtin",
        cache_dir=cache,
        head=Path(payload["head"]),
        threads=payload["threads"],
        top=Path(payload["top"]) if payload.get("top") else None,
    )
    torch = current.encoder.torch  # type: ignore[union-attr]
    labels = ("complaint", "praise", "neutral")

    def probabilities(texts: Sequence[str]) -> Any:
        found = [p for i in range(0, len(texts), 16) for p in current.predict(texts[i : i + 16])]
        return torch.tensor([[p.scores[label] for label in labels] for p in found])

    encoder = current.encoder  # type: ignore[union-attr]
    if payload.get("top"):
        encoder = Encoder(ensure_encoder(cache), payload["threads"])
    corrections = [tuple(c) for c in payload["corrections"]]
    candidate = train_candidate(encoder, corrections, probabilities)  # type: ignore[arg-type]
    registry.save(candidate)
    previous = registry.current or "shipped"
    if candidate.better:
        registry.use(candidate.version)
        registry.prune()
    return {
        "version": candidate.version,
        "previous_version": previous,
        "adopted": candidate.better,
        "corrections": candidate.corrections,
        "held_back": candidate.held_back,
        "previous_scores": candidate.previous_scores,
        "scores": candidate.scores,
        "cross_validated": candidate.cross_validated,
        "finetuned_layers": candidate.finetuned_layers,
        "seconds": candidate.seconds,
    }


class ScheduledTraining:
    """The timed job: retrains once at least `min_new` corrections came since the last
    training, in a niced worker process; records ClassifierTrained; relabels on a switch."""

    def __init__(self, kartei: Any, settings: Settings) -> None:
        self.kartei = kartei
        self.settings = settings
        self.min_new = settings.classifier.train_min_corrections
        self.running = False

    async def due(self) -> tuple[bool, list[tuple[str, str]], int]:
        """Whether enough corrections came since the last training, and all of them."""
        trained = [e for e in await history(self.kartei.store) if isinstance(e, ClassifierTrained)]
        since = trained[-1].corrections_until if trained else 0
        found, until = await corrections(self.kartei.store)
        new = 0
        after = since
        while batch := await self.kartei.store.read_all(
            after, 1000, types=("ClassificationCorrected",)
        ):
            new += sum(1 for r in batch if getattr(r.event, "text", ""))
            after = batch[-1].position
        return new >= self.min_new, found, until

    async def run(self) -> ClassifierTrained | None:
        if self.running:
            return None
        self.running = True
        try:
            due, found, until = await self.due()
            if not due:
                return None
            return await self._train(found, until)
        except Exception:  # a failed training leaves the model in use; the log says why
            log.exception("classifier: scheduled training failed")
            return None
        finally:
            self.running = False

    async def _train(self, found: list[tuple[str, str]], until: int) -> ClassifierTrained:
        from policies.classifier.setup import cache_dir, head_path, registry, top_path

        settings = self.settings
        top = top_path(settings)
        payload = {
            "root": str(registry(settings).root),
            "cache_dir": str(cache_dir(settings)),
            "head": str(head_path(settings)),
            "top": str(top) if top else None,
            "threads": settings.classifier.threads or max(1, (os.cpu_count() or 2) - 1),
            "corrections": found,
        }
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            result = await asyncio.get_running_loop().run_in_executor(
                pool, train_in_worker, payload
            )
        event = ClassifierTrained(**result, by="schedule", corrections_until=until)
        await self.kartei.store.append(MODEL_STREAM, ANY, [NewEvent(event)])
        if event.adopted:
            await relabel_recent(self.kartei, settings, in_server=True)
        return event


def schedule_training(settings: Settings, kartei: Any) -> ScheduledTraining | None:
    """Adds the retraining job to Kartei's scheduler ([classifier] train_schedule)."""
    from apscheduler.triggers.cron import CronTrigger

    when = settings.classifier.train_schedule
    if when == "off":
        return None
    job = ScheduledTraining(kartei, settings)
    # Sunday night (or every night) at 03:00 local time: the office is empty.
    fields = {"day_of_week": "sun"} if when == "weekly" else {}
    trigger = CronTrigger(hour=3, minute=0, timezone=settings.kartei.timezone, **fields)
    kartei.scheduler.add_job(
        job.run,
        trigger,
        id="classifier-training",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    return job
