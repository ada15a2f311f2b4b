"""Leases: one owner at a time for a projection or a policy, across processes.

A lease is a row (name, owner, expiry). Its owner renews it well before it expires; a
process that dies stops renewing, and another takes the lease over once it has expired.
`kartei run` holds the leases of the read models it keeps, so a command run beside it
(`kartei import`, `kartei contacts ...`) waits for the server's projections instead of
projecting the same events a second time and moving their checkpoints under them.

A lease of a process on the same host that has ended (killed, crashed) is taken at once,
so `kartei run` restarted after a crash does not wait for its own old lease to expire.
Expiry is read from the database's clock (PostgreSQL's `clock_timestamp()`), not from the
process's: a process whose clock jumps (NTP stepping it, a wrong time set by hand) would
otherwise take leases that are still held (its clock ahead) or write expiries that others
read as past (its clock behind), and two processes would capture the same mailbox. SQLite
is one file on one host, whose clock every process shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.database import Database
from hub.store.schema import leases

TTL_SECONDS = 15.0


class LeaseLostError(RuntimeError):
    """Another process took over a lease this process held (it was not renewed in time)."""


class LeaseBusyError(RuntimeError):
    """Another process holds the lease."""


def owner_id() -> str:
    """This process's name in the lease table: host, process id, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(owner: str) -> bool:
    """Whether `owner` was a process on this host that has ended (SIGKILL, power cut)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


class Leases:
    def __init__(self, db: Database, owner: str | None = None, ttl: float = TTL_SECONDS) -> None:
        self.db = db
        self.owner = owner or owner_id()
        self.ttl = ttl

    async def _now(self, conn: AsyncConnection) -> float:
        """Seconds since the epoch by the database's clock (see the module's note)."""
        if self.db.is_sqlite:
            return time.time()
        now = await conn.scalar(sa.select(sa.func.extract("epoch", sa.func.clock_timestamp())))
        assert now is not None
        return float(now)

    async def acquire(self, name: str) -> bool:
        """Takes or renews the lease; False while another owner's lease is still valid."""
        insert = (postgresql if not self.db.is_sqlite else sqlite).insert(leases)
        async with self.db.write(durable=False) as conn:
            now = await self._now(conn)
            statement = insert.values(name=name, owner=self.owner, expires_at=now + self.ttl)
            current = await conn.scalar(sa.select(leases.c.owner).where(leases.c.name == name))
            free = (leases.c.owner == self.owner) | (leases.c.expires_at < now)
            if current is not None and _gone(current):
                free |= leases.c.owner == current  # a restart after a crash need not wait
            statement = statement.on_conflict_do_update(
                index_elements=[leases.c.name],
                set_={"owner": statement.excluded.owner, "expires_at": now + self.ttl},
                where=free,
            )
            await conn.execute(statement)
            owner = await conn.scalar(sa.select(leases.c.owner).where(leases.c.name == name))
        return owner == self.owner

    async def holder(self, name: str) -> str | None:
        """The owner of a valid lease on `name`, or None."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(leases.c.owner, leases.c.expires_at).where(leases.c.name == name)
                )
            ).first()
            now = await self._now(conn)
        return row.owner if row is not None and row.expires_at >= now else None

    async def release(self, name: str) -> None:
        async with self.db.write(durable=False) as conn:
            await conn.execute(
                sa.delete(leases).where(leases.c.name == name, leases.c.owner == self.owner)
            )

    @contextlib.asynccontextmanager
    async def held(self, name: str) -> AsyncIterator[None]:
        """Holds the lease for the block, renewing it; LeaseBusyError while another process
        holds it. A lost lease cancels the block and raises LeaseLostError."""
        if not await self.acquire(name):
            raise LeaseBusyError(f"{name} is kept by {await self.holder(name)}")
        try:
            async with asyncio.TaskGroup() as group:
                keeper = group.create_task(self.keep(name), name=f"lease {name}")
                try:
                    yield
                finally:
                    keeper.cancel()
        except BaseExceptionGroup as errors:
            # One failure (the block's, or a lost lease) is reported as itself, not as a group.
            if len(errors.exceptions) == 1:
                raise errors.exceptions[0] from None
            raise
        finally:
            await asyncio.shield(self.release(name))

    async def run_held(
        self,
        name: str,
        work: Callable[[], Awaitable[None]],
        standby: Callable[[str | None], None],
    ) -> None:
        """Runs `work` while holding the lease; until then (and after losing it to nobody's
        fault) calls `standby` with the holder and looks again every ttl/3."""
        while True:
            try:
                async with self.held(name):
                    await work()
                    return
            except LeaseBusyError:
                standby(await self.holder(name))
                await asyncio.sleep(self.ttl / 3)

    async def keep(self, name: str) -> None:
        """Renews a held lease until cancelled; raises LeaseLostError once it is lost."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            if not await self.acquire(name):
                raise LeaseLostError(f"lease {name!r} was taken over by another process")
