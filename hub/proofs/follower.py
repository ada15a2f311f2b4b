"""The Merkle follower (a component of the "workers" role) and the daily signed head."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from hub.health import ComponentHealth
from hub.proofs import heads
from hub.proofs.log import HeadRow, MerkleLog
from hub.store.leases import Leases

log = logging.getLogger(__name__)


class MerkleFollower:
    """Logs every committed event as it commits; one process of the deployment at a time."""

    name = "archive:merkle"

    def __init__(self, merkle: MerkleLog, leases: Leases, health: ComponentHealth) -> None:
        self.merkle = merkle
        self.leases = leases
        self.health = health

    async def run(self) -> None:
        await self.leases.run_held(self.name, self._follow, self._standby)

    def _standby(self, holder: str | None) -> None:
        self.health.set("standby", holder=holder)

    async def _follow(self) -> None:
        self.health.details.pop("holder", None)
        frontier, position = await self.merkle.state()
        self.health.set("ok", leaves=frontier.size, owner=self.leases.owner)
        batches = self.merkle.store.subscribe(position, batch_size=self.merkle.batch_size)
        async for batch in batches:
            frontier = await self.merkle.extend(batch)
            self.health.set("ok", leaves=frontier.size)


class HeadSigner:
    """The scheduled job: sign the tree's head (and timestamp it, when a TSA is set)."""

    def __init__(
        self,
        merkle: MerkleLog,
        data_dir: Path,
        stamp: Callable[[HeadRow], Awaitable[None]] | None = None,
    ) -> None:
        self.merkle = merkle
        self.data_dir = data_dir
        self.stamp = stamp  # an async callable (head) -> None, see hub/proofs/tsa.py

    async def sign(self) -> HeadRow:
        head = await self.merkle.sign(heads.ensure_key(self.data_dir))
        log.info("signed tree head %d: %d leaves, root %s", head.id, head.size, head.root.hex())
        if self.stamp is not None:
            try:
                await self.stamp(head)
            except Exception as err:  # offline: the head stays signed, stamped later
                log.warning("tree head %d not timestamped yet: %s", head.id, err)
        return head
