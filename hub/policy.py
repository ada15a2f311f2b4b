"""Policies: "whenever X happens, append Y", exactly once.

A policy looks at a batch of events and decides its reactions outside any transaction
(classifying a message may take a while); the runner then appends the reactions and moves
the policy's checkpoint in one commit. Reactions carry idempotency keys derived from their
cause, so even a replay after a crash appends nothing twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from hub.events import NewEvent, Recorded, UnreadableEvent
from hub.health import ComponentHealth
from hub.projection import ProjectionRunner
from hub.store import ANY, EventStore
from hub.store.leases import Leases


@dataclass(frozen=True, slots=True)
class Reaction:
    """One event a policy wants appended, to which stream."""

    stream: str
    event: NewEvent
    expected_version: int | None = ANY


class Policy(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def event_types(self) -> Collection[str] | None:
        """Event types it reacts to; None: every event."""

    async def react(self, batch: Sequence[Recorded]) -> Sequence[Reaction]: ...


class _NoTables:
    """Adapts a policy to the projection runner's contract (a policy owns no read model)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.name = f"policy:{policy.name}"
        self.version = policy.version
        self.event_types = policy.event_types
        self.tables = getattr(policy, "tables", sa.MetaData())

    async def apply(self, conn: object, batch: Sequence[Recorded]) -> None:  # pragma: no cover
        raise AssertionError("policies are applied through PolicyRunner.apply")


class PolicyRunner(ProjectionRunner):
    """Feeds a policy the log, appending its reactions with the checkpoint."""

    def __init__(
        self,
        store: EventStore,
        policy: Policy,
        *,
        batch_size: int = 1000,
        health: ComponentHealth | None = None,
        leases: Leases | None = None,
    ) -> None:
        super().__init__(
            store,
            _NoTables(policy),
            batch_size=batch_size,
            health=health or ComponentHealth(f"policy:{policy.name}"),
            leases=leases,
        )
        self.policy = policy

    async def prepare(self) -> None:
        # What a policy remembers between batches is stale once another process may have
        # moved its checkpoint (this process stood by, or lost the lease and took it back).
        if (forget := getattr(self.policy, "forget", None)) is not None:
            forget()
        await super().prepare()

    async def apply(self, batch: Sequence[Recorded]) -> None:
        readable = [r for r in batch if not isinstance(r.event, UnreadableEvent)]
        reactions = await self.policy.react(readable) if readable else []
        target = batch[-1].position
        async with self.store.transaction(background=True) as tx:
            for r in batch:
                if isinstance(r.event, UnreadableEvent):
                    await self._record_failure(tx.connection, r.position, r.event.error)
            for reaction in reactions:
                await tx.append(reaction.stream, reaction.expected_version, [reaction.event])
            await self._move_checkpoint(tx.connection, target)
        self._moved_to(target)
