"""The projection engine: read models built from the log, exactly once, rebuildable.

A projection owns its tables and turns batches of events into rows. The runner owns the
transaction: rows and the projection's checkpoint are written in one commit, with a
compare-and-set on the old position so two runners (two processes on PostgreSQL) can never
both apply the same batch (invariant 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded, UnreadableEvent
from hub.health import ComponentHealth
from hub.sql import create_tables
from hub.store import EventStore
from hub.store.leases import LeaseBusyError, Leases
from hub.store.schema import projection_checkpoints, projection_failures

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (position reached, head)

# A command waiting for another process's projection looks at its checkpoint this often,
# and gives up after WAIT_SECONDS.
WAIT_POLL_SECONDS = 0.1
WAIT_SECONDS = 120.0


# Compare-and-set: moves only from the position this runner last saw (built once: it runs
# with every batch of every projection).
_MOVE_CHECKPOINT = (
    sa.update(projection_checkpoints)
    .where(
        projection_checkpoints.c.name == sa.bindparam("projection"),
        projection_checkpoints.c.position == sa.bindparam("old"),
    )
    .values(position=sa.bindparam("new"), updated_at=sa.bindparam("moment"))
)


class Projection(Protocol):
    """A read model: a name, a version (bump it to rebuild), its tables and an apply step."""

    # Read-only, so a class attribute of a narrower type (a tuple, None) conforms.
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def tables(self) -> sa.MetaData: ...
    @property
    def event_types(self) -> Collection[str] | None:
        """Event types it reads; None reads every event."""

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None: ...


class ProjectionConflictError(RuntimeError):
    """Another runner moved this projection's checkpoint first."""


class ProjectionRunner:
    """Catches a projection up, follows the log live, and rebuilds it from zero."""

    def __init__(
        self,
        store: EventStore,
        projection: Projection,
        *,
        batch_size: int = 1000,
        health: ComponentHealth | None = None,
        leases: Leases | None = None,
    ) -> None:
        self.store = store
        self.projection = projection
        self.batch_size = batch_size
        self.health = health or ComponentHealth(f"projection:{projection.name}")
        # The supervisor's name for this component; the checkpoint row is keyed by
        # `projection.name`.
        self.name = self.health.name
        self.position = 0
        self._moved = asyncio.Event()
        self.leases = leases or Leases(store.db)
        self.following = False  # whether this process holds the lease and follows the log
        self.lease = self.name  # "projection:contacts", "policy:churn"

    async def prepare(self) -> None:
        """Creates the tables and checkpoint; rebuilds when the projection's version changed."""
        async with self.store.db.write() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        projection_checkpoints.c.position, projection_checkpoints.c.version
                    ).where(projection_checkpoints.c.name == self.projection.name)
                )
            ).first()
            if row is not None and row.version == self.projection.version:
                await create_tables(conn, self.projection.tables)
                self.position = int(row.position)
                return
            if row is not None:
                log.info(
                    "projection %s: version %s -> %s, rebuilding",
                    self.name,
                    row.version,
                    self.projection.version,
                )
            await self._reset(conn)

    async def rebuild(self, progress: Progress | None = None) -> int:
        """Drops the read model and replays the whole log into it."""
        async with self.store.db.write() as conn:
            await self._reset(conn)
        return await self.catch_up(progress)

    async def catch_up(self, progress: Progress | None = None) -> int:
        """Applies everything up to the current head; returns the position reached."""
        head = await self.store.head()
        while self.position < head:
            batch = await self.store.read_all(
                self.position, self.batch_size, types=self.projection.event_types
            )
            if not batch:
                await self._advance_to(head)
                break
            await self.apply(batch)
            if progress:
                progress(self.position, head)
        if progress:
            progress(self.position, head)
        return self.position

    async def run(self) -> None:
        """Takes the lease, then prepares, catches up and follows the log until cancelled.

        While another process holds the lease this one stands by; it takes over once that
        lease expires. Losing the lease (renewal failed) stops it with LeaseLostError.
        """
        self.health.set("starting")
        await self.leases.run_held(self.lease, self._follow, self._standby)

    def _standby(self, holder: str | None) -> None:
        self.health.set("standby", holder=holder)

    async def bring_up_to_date(self, progress: Progress | None = None) -> int:
        """Brings the read model to the log's head, for a command run beside the server.

        With nobody else holding the projection, it is caught up here; while a running
        Kartei holds it, this waits until that process's checkpoint reaches the last event
        of the read model's types up to the head.
        """
        head = await self.store.head()
        try:
            async with self.leases.held(self.lease):
                await self.prepare()
                return await self.catch_up(progress)
        except LeaseBusyError:
            pass
        # The holder reads only the projection's own types, and its checkpoint moves only
        # with them: the read model is at the head once it has the last of them.
        target = await self.store.last_before(head + 1, self.projection.event_types)
        async with asyncio.timeout(WAIT_SECONDS):
            while (position := await self._stored_position()) < target:
                if progress:
                    progress(position, target)
                await asyncio.sleep(WAIT_POLL_SECONDS)
        if progress:
            progress(position, target)
        self.position = position
        return position

    async def _stored_position(self) -> int:
        async with self.store.db.read() as conn:
            position = await conn.scalar(
                sa.select(projection_checkpoints.c.position).where(
                    projection_checkpoints.c.name == self.projection.name
                )
            )
        return int(position or 0)

    async def _follow(self) -> None:
        self.health.details.pop("holder", None)
        self.health.details["owner"] = self.leases.owner
        self.following = True
        try:
            await self._track()
        finally:
            self.following = False

    async def _track(self) -> None:
        await self.prepare()
        await self.catch_up()
        self.health.set("ok", position=self.position)
        async for batch in self.store.subscribe(
            self.position, batch_size=self.batch_size, types=self.projection.event_types
        ):
            await self.apply(batch)
            self.health.set("ok", position=self.position)

    async def apply(self, batch: Sequence[Recorded]) -> None:
        """Applies one batch and moves the checkpoint in the same transaction."""
        readable = [r for r in batch if not isinstance(r.event, UnreadableEvent)]
        target = batch[-1].position
        # Not durable: rows and checkpoint commit together, so a power cut can only lose
        # the last batches, which are applied again from the older checkpoint; waiting for
        # the disk here would hold the (SQLite) writer while a ringing phone waits for it.
        async with self.store.db.write(durable=False, background=True) as conn:
            if len(readable) < len(batch):
                for r in batch:
                    if isinstance(r.event, UnreadableEvent):
                        await self._record_failure(conn, r.position, r.event.error)
            if readable:
                await self.projection.apply(conn, readable)
            await self._move_checkpoint(conn, target)
        self._moved_to(target)

    async def wait_for(self, position: int) -> None:
        """Returns once the projection has applied everything up to `position`: here, or
        in the process that holds it (its checkpoint is read from the database)."""
        while self.position < position:
            if self.following:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1):  # in case the lease is lost meanwhile
                        await self._moved.wait()
            elif await self._stored_position() >= position:
                return
            else:
                await asyncio.sleep(WAIT_POLL_SECONDS)

    async def caught_up_to(self, position: int) -> None:
        """Returns once the projection has applied every event it reads that comes before
        `position` (a policy that looks a message's sender up waits for this)."""
        if self.position < position:
            await self.wait_for(await self.store.last_before(position, self.projection.event_types))

    async def _advance_to(self, position: int) -> None:
        async with self.store.db.write(durable=False, background=True) as conn:
            await self._move_checkpoint(conn, position)
        self._moved_to(position)

    def _moved_to(self, position: int) -> None:
        self.position = position
        self._moved.set()
        self._moved = asyncio.Event()

    async def _move_checkpoint(self, conn: AsyncConnection, target: int) -> None:
        params = {
            "projection": self.projection.name,
            "old": self.position,
            "new": target,
            "moment": datetime.now(UTC),
        }
        result = await conn.execute(_MOVE_CHECKPOINT, params)
        if result.rowcount != 1:
            raise ProjectionConflictError(
                f"projection {self.name}: checkpoint is no longer at {self.position}"
            )

    async def _record_failure(self, conn: AsyncConnection, position: int, error: str) -> None:
        log.error("projection %s: event at position %d skipped: %s", self.name, position, error)
        await conn.execute(
            sa.insert(projection_failures).values(
                name=self.projection.name,
                position=position,
                error=error,
                recorded_at=datetime.now(UTC),
            )
        )
        self.health.details["failures"] = self.health.details.get("failures", 0) + 1

    async def _reset(self, conn: AsyncConnection) -> None:
        await conn.run_sync(self.projection.tables.drop_all)
        await create_tables(conn, self.projection.tables)
        await conn.execute(
            sa.delete(projection_failures).where(projection_failures.c.name == self.projection.name)
        )
        await conn.execute(
            sa.delete(projection_checkpoints).where(
                projection_checkpoints.c.name == self.projection.name
            )
        )
        await conn.execute(
            sa.insert(projection_checkpoints).values(
                name=self.projection.name,
                position=0,
                version=self.projection.version,
                updated_at=datetime.now(UTC),
            )
        )
        self.position = 0
