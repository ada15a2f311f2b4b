"""The Merkle log: every committed event becomes a leaf, in position order.

A follower (like a projection, but not rebuildable: its blob hashes were read while the
keys existed) appends leaves in the same transaction as the tree's compact range and the
roots of the blocks of 256 and 65,536 leaves they complete, so a batch costs one read of
its rows, one hash per event and blob, and O(log n) node hashes; a proof reads at most a
few hundred stored hashes (merkle.reads), whatever the tree's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.archive import Archive
from hub.events import Recorded
from hub.proofs import files, heads, leaf, merkle
from hub.proofs.schema import (
    merkle_heads,
    merkle_leaves,
    merkle_nodes,
    merkle_state,
    merkle_timestamps,
)
from hub.store import EventStore
from hub.store.schema import events

STATE = "main"
ROW_COLUMNS = (
    events.c.position,
    events.c.stream,
    events.c.version,
    events.c.type,
    events.c.data,
    events.c.metadata,
    events.c.idempotency_key,
    events.c.recorded_at,
)


class MerkleConflictError(RuntimeError):
    """Another follower moved the log first."""


@dataclass(frozen=True, slots=True)
class HeadRow:
    id: int
    size: int
    root: bytes
    text: str
    signature: bytes
    signed_at: datetime


def stored_row(row: Any) -> leaf.StoredRow:
    return leaf.StoredRow(*row)


class MerkleLog:
    def __init__(self, store: EventStore, archive_root: Path, *, batch_size: int = 1000) -> None:
        self.store = store
        self.archive = Archive(archive_root)
        self.batch_size = batch_size

    # -- growing -----------------------------------------------------------------

    async def state(self, conn: AsyncConnection | None = None) -> tuple[merkle.Frontier, int]:
        """The logged tree (as its frontier) and the position of its last event."""
        if conn is None:
            async with self.store.db.read() as c:
                return await self.state(c)
        row = (
            await conn.execute(
                sa.select(
                    merkle_state.c.size, merkle_state.c.position, merkle_state.c.frontier
                ).where(merkle_state.c.name == STATE)
            )
        ).first()
        if row is None:
            return merkle.Frontier(), 0
        return merkle.Frontier.unpack(int(row.size), bytes(row.frontier)), int(row.position)

    async def catch_up(self) -> int:
        """Logs every committed event; returns the tree's size."""
        frontier, position = await self.state()
        while batch := await self.store.read_all(position, self.batch_size):
            frontier = await self.extend(batch)
            position = batch[-1].position
        return frontier.size

    async def extend(self, batch: Sequence[Recorded]) -> merkle.Frontier:
        """Appends the leaves of the events up to the batch's last one (the batch gives
        the decoded events whose archive references are hashed)."""
        blobs = await asyncio.to_thread(self._blob_entries, batch)
        async with self.store.db.write(durable=False, background=True) as conn:
            frontier, position = await self.state(conn)
            old_size = frontier.size
            rows = (
                await conn.execute(
                    sa.select(*ROW_COLUMNS)
                    .where(events.c.position > position, events.c.position <= batch[-1].position)
                    .order_by(events.c.position)
                )
            ).all()
            if not rows:
                return frontier
            inserts = []
            nodes = []
            for raw in rows:
                row = stored_row(raw)
                entries = blobs.get(row.position)
                if entries is None:  # not in the batch (a batch never skips; defensive)
                    found = await asyncio.to_thread(self._blob_entries, await self._read(row))
                    entries = found.get(row.position, [])
                hashed = merkle.leaf_hash(leaf.encode(row, entries))
                inserts.append(
                    {
                        "leaf_index": frontier.size,
                        "position": row.position,
                        "leaf_hash": hashed,
                        "blobs": leaf.pack_blobs(entries),
                    }
                )
                closed = frontier.append(hashed)
                for level in merkle.STORED_LEVELS:
                    if len(closed) > level:
                        nodes.append(
                            {
                                "level": level,
                                "node_index": (frontier.size >> level) - 1,
                                "hash": closed[level],
                            }
                        )
            await conn.execute(sa.insert(merkle_leaves), inserts)
            if nodes:
                await conn.execute(sa.insert(merkle_nodes), nodes)
            await self._save(conn, frontier, rows[-1].position, old_size)
        return frontier

    async def _read(self, row: leaf.StoredRow) -> list[Recorded]:
        return await self.store.read_all(row.position - 1, 1)

    async def _save(
        self, conn: AsyncConnection, frontier: merkle.Frontier, position: int, old_size: int
    ) -> None:
        values = {
            "size": frontier.size,
            "position": position,
            "frontier": frontier.pack(),
            "updated_at": datetime.now(UTC),
        }
        if old_size == 0:
            exists = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(merkle_state)
                .where(merkle_state.c.name == STATE)
            )
            if not exists:
                await conn.execute(sa.insert(merkle_state).values(name=STATE, **values))
                return
        moved = await conn.execute(
            sa.update(merkle_state)
            .where(merkle_state.c.name == STATE, merkle_state.c.size == old_size)
            .values(**values)
        )
        if moved.rowcount != 1:
            raise MerkleConflictError(f"the Merkle log is no longer at {old_size} leaves")

    def _blob_entries(self, batch: Sequence[Recorded]) -> dict[int, list[leaf.BlobEntry]]:
        """Each event's archived blobs: locator and hash of the stored file (blocking).
        A file named by several events of the batch (a newsletter's logo) is read once."""
        found: dict[int, list[leaf.BlobEntry]] = {}
        known: dict[str, leaf.BlobEntry] = {}
        for recorded in batch:
            entries = []
            for ref in leaf.references(recorded.event):
                entry = known.get(ref)
                if entry is None:
                    entry = known[ref] = self._entry(ref)
                entries.append(entry)
            found[recorded.position] = entries
        return found

    def _entry(self, ref: str) -> leaf.BlobEntry:
        locator = leaf.locator(ref)
        digest = files.stored_sha256(self.archive.root, locator)
        return leaf.BlobEntry(locator, "missing" if digest is None else digest)

    # -- reading -----------------------------------------------------------------

    async def leaf_hashes(self, size: int | None = None) -> list[bytes]:
        """Every leaf hash (an export builds the whole tree once; a proof needs not)."""
        query = sa.select(merkle_leaves.c.leaf_hash).order_by(merkle_leaves.c.leaf_index)
        if size is not None:
            query = query.where(merkle_leaves.c.leaf_index < size)
        async with self.store.db.read() as conn:
            return [bytes(h) for h in (await conn.execute(query)).scalars()]

    async def inclusion_path(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]) from the stored nodes and at most a few hundred leaves."""
        return await self._subroots(merkle.inclusion_ranges(index, size))

    async def consistency_path(self, old: int, size: int) -> list[bytes]:
        """PROOF(old, D[size]) (empty from the empty tree), as `inclusion_path` reads."""
        return await self._subroots(merkle.consistency_ranges(old, size)) if old else []

    async def _subroots(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        stored: dict[tuple[int, int], bytes] = {}
        async with self.store.db.read() as conn:
            for level, spans in merkle.reads(ranges).items():
                if level == 0:
                    column, query = (
                        merkle_leaves.c.leaf_index,
                        sa.select(merkle_leaves.c.leaf_index, merkle_leaves.c.leaf_hash),
                    )
                else:
                    column, query = (
                        merkle_nodes.c.node_index,
                        sa.select(merkle_nodes.c.node_index, merkle_nodes.c.hash).where(
                            merkle_nodes.c.level == level
                        ),
                    )
                query = query.where(sa.or_(*(column.between(a, b - 1) for a, b in spans)))
                for index, hashed in await conn.execute(query):
                    stored[level, int(index)] = bytes(hashed)
        try:
            return merkle.subroots(ranges, stored)
        except KeyError as err:
            level, index = err.args[0]
            what = f"leaf {index}" if level == 0 else f"the node at level {level}, index {index}"
            raise LookupError(f"{what} is missing from the Merkle log") from None

    async def leaf_of(self, position: int) -> tuple[int, bytes, list[leaf.BlobEntry]] | None:
        """The leaf index, hash and blob entries of the event at `position`."""
        async with self.store.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        merkle_leaves.c.leaf_index, merkle_leaves.c.leaf_hash, merkle_leaves.c.blobs
                    ).where(merkle_leaves.c.position == position)
                )
            ).first()
        if row is None:
            return None
        return int(row.leaf_index), bytes(row.leaf_hash), leaf.unpack_blobs(row.blobs)

    async def leaf_bytes(self, position: int) -> bytes | None:
        """The leaf's canonical bytes, from the event row as stored now."""
        found = await self.leaf_of(position)
        if found is None:
            return None
        async with self.store.db.read() as conn:
            raw = (
                await conn.execute(sa.select(*ROW_COLUMNS).where(events.c.position == position))
            ).first()
        if raw is None:
            return None
        return leaf.encode(stored_row(raw), found[2])

    async def leaves_between(self, first: int, last: int) -> dict[int, tuple[int, bytes]]:
        """For the logged events at positions first..last: leaf index and leaf bytes (as
        the rows are stored now)."""
        async with self.store.db.read() as conn:
            logged = (
                await conn.execute(
                    sa.select(
                        merkle_leaves.c.position, merkle_leaves.c.leaf_index, merkle_leaves.c.blobs
                    ).where(merkle_leaves.c.position.between(first, last))
                )
            ).all()
            raws = (
                await conn.execute(
                    sa.select(*ROW_COLUMNS).where(events.c.position.between(first, last))
                )
            ).all()
        rows = {int(r.position): stored_row(r) for r in raws}
        return {
            int(e.position): (
                int(e.leaf_index),
                leaf.encode(rows[int(e.position)], leaf.unpack_blobs(e.blobs)),
            )
            for e in logged
            if e.blobs and int(e.position) in rows
        }

    # -- heads -------------------------------------------------------------------

    async def sign(self, key: Ed25519PrivateKey) -> HeadRow:
        """Signs the tree as logged now; every call adds a head (also for an unchanged
        tree: a daily head shows the log was intact that day)."""
        frontier, _ = await self.state()
        head, signature = heads.sign(key, frontier.size, frontier.root())
        async with self.store.db.write() as conn:
            result = await conn.execute(
                sa.insert(merkle_heads)
                .values(
                    tree_size=head.size,
                    root=head.root,
                    head=head.text(),
                    signature=signature,
                    key_id=head.key_id,
                    signed_at=head.signed_at,
                )
                .returning(merkle_heads.c.id)
            )
            head_id = int(result.scalar_one())
        return HeadRow(head_id, head.size, head.root, head.text(), signature, head.signed_at)

    async def heads(self, covering: int | None = None) -> list[HeadRow]:
        """Every signed head in order; with `covering`, only the newest that covers that
        leaf index (none when no head does)."""
        query = sa.select(merkle_heads).order_by(merkle_heads.c.id)
        if covering is not None:
            query = (
                query.where(merkle_heads.c.tree_size > covering)
                .order_by(None)
                .order_by(merkle_heads.c.id.desc())
                .limit(1)
            )
        async with self.store.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            HeadRow(
                int(r.id), int(r.tree_size), bytes(r.root), r.head, bytes(r.signature), r.signed_at
            )
            for r in rows
        ]

    async def inclusion(self, position: int, head: HeadRow | None = None) -> dict[str, Any]:
        """The inclusion proof of one event in a signed head (the newest that covers it)."""
        found = await self.leaf_of(position)
        if found is None:
            raise LookupError(f"no event at position {position} in the Merkle log (yet)")
        index, hashed, _ = found
        if head is None:
            covering = await self.heads(covering=index)
            if not covering:
                raise LookupError(
                    f"no signed tree head covers position {position} yet (kartei archive sign)"
                )
            head = covering[-1]
        path = await self.inclusion_path(index, head.size)
        return {
            "position": position,
            "leaf_index": index,
            "leaf_hash": hashed.hex(),
            "tree_size": head.size,
            "root": head.root.hex(),
            "head_id": head.id,
            "head": head.text,
            "signature": head.signature.hex(),
            "path": [p.hex() for p in path],
        }

    async def consistency(self, old: HeadRow, new: HeadRow) -> dict[str, Any]:
        path = await self.consistency_path(old.size, new.size)
        return {
            "old": {"head_id": old.id, "tree_size": old.size, "root": old.root.hex()},
            "new": {"head_id": new.id, "tree_size": new.size, "root": new.root.hex()},
            "path": [p.hex() for p in path],
        }

    # -- timestamps --------------------------------------------------------------

    async def timestamps(self) -> dict[int, bytes]:
        """The RFC 3161 tokens by head id."""
        async with self.store.db.read() as conn:
            rows = (await conn.execute(sa.select(merkle_timestamps))).all()
        return {int(r.head_id): bytes(r.token) for r in rows}

    async def add_timestamp(self, head_id: int, token: bytes, url: str, when: datetime) -> None:
        async with self.store.db.write() as conn:
            await conn.execute(
                sa.insert(merkle_timestamps).values(
                    head_id=head_id, token=token, tsa_url=url, gen_time=when
                )
            )
