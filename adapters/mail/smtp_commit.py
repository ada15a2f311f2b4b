"""From DATA to 250: deliveries prepared in batches, committed in groups.

Every delivery waits in two queues. The first hands whatever has arrived together to a
thread as one batch: parse, archive and one sync that makes the batch's blobs durable,
one hop for what came at once. The second commits whatever is prepared in one
transaction; its blobs are durable before the commit that makes the events referencing
them visible. A commit that starts while batches are in the thread waits for them (at
most JOIN_WAIT) and takes them along. A delivery's future resolves after its commit, so
the SMTP answer 250 follows the commit (invariant 3), and an error reaches every delivery
it concerns, which then answers 451.

The sync in the batch's hop, not in the commit: the next batch's blob sync runs while a
group's commit syncs the database, so the two waits for the disk overlap; the commit,
shorter by a sync, waits for the batches in the thread, so groups are larger
(docs/mail.md, SMTP: 3.2-3.9 deliveries a commit against 1.8-2.2).

A thread, not the worker processes: the round trip to a worker cost more than it took
off the main process on the 2-core test machine under load (docs/mail.md, SMTP).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.mail.pipeline import MailIntake, Prepared, prepare_batch, store_prepared
from hub.capture import Capture

MAX_GROUP = 256  # deliveries per transaction (one INSERT); more wait for the next one
# How long a commit waits for the deliveries being prepared when it starts (seconds): a
# batch takes a few milliseconds (parse, archive, sync); a huge one is not waited for.
JOIN_WAIT = 0.025


@dataclass(slots=True, eq=False)  # each delivery is itself (hashed by identity)
class Delivery:
    """One message between DATA and its answer."""

    raw: bytes
    mailbox: str
    item: Prepared | None = None  # set by the batch (its blobs durable), or by another intake
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    """Prepares deliveries in batches and commits them in groups; `store` waits for both."""

    def __init__(self, intake: MailIntake | None, capture: Capture) -> None:
        self.intake = intake  # None: every item comes prepared (`commit`), e.g. faxes
        self.capture = capture
        self._arrived: asyncio.Queue[Delivery] = asyncio.Queue()
        self._prepared: asyncio.Queue[Delivery] = asyncio.Queue()
        self.batches = self.groups = 0  # how well deliveries share work (the benchmark)
        self._waiting: set[Delivery] = set()  # not yet answered, wherever they are
        self._preparing: set[asyncio.Task[None]] = set()  # batches in the thread now

    async def store(self, raw: bytes, mailbox: str) -> None:
        """Returns once the message is committed (or skipped by the rules); raises otherwise."""
        delivery = Delivery(raw, mailbox)
        self._arrived.put_nowait(delivery)
        await self._answer(delivery)

    async def commit(self, item: Prepared) -> None:
        """Commits an item another intake prepared (its blobs are durable already)."""
        delivery = Delivery(b"", item.mailbox, item)
        self._prepared.put_nowait(delivery)
        await self._answer(delivery)

    async def _answer(self, delivery: Delivery) -> None:
        self._waiting.add(delivery)
        try:
            await delivery.done
        finally:
            self._waiting.discard(delivery)

    async def run(self) -> None:
        """The two loops; runs until cancelled. Deliveries still waiting then are failed
        (answered 451): the intake stops (Kartei stops, or its lease was lost when the
        database's disk filled), and a sender left waiting for an answer would hang until
        its own timeout."""
        try:
            async with asyncio.TaskGroup() as group:
                if self.intake is not None:
                    group.create_task(self._prepare_loop(self.intake, group), name="smtp-prepare")
                group.create_task(self._commit_loop(), name="smtp-commit")
        finally:
            _fail(list(self._waiting), IntakeStopped("the intake is stopping"))

    async def _prepare_loop(self, intake: MailIntake, group: asyncio.TaskGroup) -> None:
        # At most one batch per core in flight: what arrives meanwhile waits and goes
        # together in the next batch.
        slots = asyncio.Semaphore(intake.workers)
        while True:
            first = await self._arrived.get()
            await slots.acquire()
            batch = [first, *_drain(self._arrived, MAX_GROUP - 1)]
            self.batches += 1
            task = group.create_task(self._prepare(intake, batch, slots))
            self._preparing.add(task)
            task.add_done_callback(self._preparing.discard)

    async def _prepare(
        self, intake: MailIntake, batch: list[Delivery], slots: asyncio.Semaphore
    ) -> None:
        raws = [(d.raw, d.mailbox) for d in batch]
        root = str(intake.archive.root)
        try:
            items = await asyncio.to_thread(prepare_batch, raws, intake.rules, root, sync=True)
        except Exception as err:  # storage trouble (archive unwritable): 451 for the batch
            _fail(batch, err)
            return
        finally:
            slots.release()
        intake.count_skipped(items)
        for delivery, item in zip(batch, items, strict=True):
            delivery.item = item
            if item.event is None:  # kept out by the rules: nothing to commit
                _resolve([delivery])
            else:
                self._prepared.put_nowait(delivery)

    async def _commit_loop(self) -> None:
        while True:
            first = await self._prepared.get()
            # What is being prepared now joins this commit instead of waiting for the
            # next one: a commit (the database's sync) takes longer than a batch, so both
            # are answered sooner, and the group's rows share one transaction.
            if self._preparing:
                await asyncio.wait(set(self._preparing), timeout=JOIN_WAIT)
            group = [first, *_drain(self._prepared, MAX_GROUP - 1)]
            items = [d.item for d in group if d.item is not None]
            self.groups += 1
            try:
                async with self.capture.transaction() as tx:
                    await store_prepared(tx, items, self.capture.source)
            except Exception as err:
                _fail(group, err)
            else:
                _resolve(group)


class IntakeStopped(Exception):
    """The intake stopped before the delivery was committed: the sender tries again."""


def _drain(queue: asyncio.Queue[Delivery], most: int) -> list[Delivery]:
    taken: list[Delivery] = []
    while not queue.empty() and len(taken) < most:
        taken.append(queue.get_nowait())
    return taken


def _resolve(deliveries: Sequence[Delivery]) -> None:
    for d in deliveries:
        if not d.done.done():
            d.done.set_result(None)


def _fail(deliveries: Sequence[Delivery], err: Exception) -> None:
    for d in deliveries:
        if not d.done.done():
            d.done.set_exception(err)
