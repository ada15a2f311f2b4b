"""The Merkle log: every committed event becomes a leaf, in position order.

A follower (like a projection, but not rebuildable: its blob hashes were read while the
keys existed) appends leaves in the same transaction as the tree's compact range and the
roots of the blocks of 256 and 65,536 leaves they complete, so a batch costs one read of
its rows, one hash per event and blob, and O(log n) node hashes; a proof reads at most a
few hundred stored hashes (merkle.reads), whatever the tree's size.
"""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.dialects import sqlite as sqlite_dialect
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


Blobs = dict[int, list[leaf.BlobEntry]]
_LEAF_KEYS = ("leaf_index", "position", "leaf_hash", "blobs")
_NODE_KEYS = ("level", "node_index", "hash")


def _grow(
    frontier: merkle.Frontier, rows: Sequence[leaf.StoredRow], blobs: Blobs
) -> tuple[list[tuple[int, int, bytes, str]], list[tuple[int, int, bytes]]]:
    """Appends the rows' leaves to `frontier`: the merkle_leaves and merkle_nodes rows
    (values in the order of _LEAF_KEYS and _NODE_KEYS)."""
    leaves = []
    nodes = []
    for row in rows:
        entries = blobs[row.position]
        hashed = merkle.leaf_hash(leaf.encode(row, entries))
        leaves.append((frontier.size, row.position, hashed, leaf.pack_blobs(entries)))
        closed = frontier.append(hashed)
        for level in merkle.STORED_LEVELS:
            if len(closed) > level:
                nodes.append((level, (frontier.size >> level) - 1, closed[level]))
    return leaves, nodes


# SQLite, the follower's batch in one hop to the store's write connection (see
# `_extend_sqlite`). The rows are read with the columns `ROW_COLUMNS` names; the data and
# metadata texts as the bytes SQLite holds (its text is UTF-8: the bytes the leaf hashes,
# without decoding 18 KB of sealed text into a str and encoding it again).
_SQLITE_STATE = "SELECT size, position, frontier FROM merkle_state WHERE name = ?"
_SQLITE_ROWS = (
    "SELECT position, stream, version, type, CAST(data AS BLOB), CAST(metadata AS BLOB),"
    " idempotency_key, recorded_at FROM events WHERE position > ? AND position <= ?"
    " ORDER BY position"
)
_SQLITE_LEAVES = (
    "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash, blobs) VALUES (?, ?, ?, ?)"
)
_SQLITE_NODES = "INSERT INTO merkle_nodes (level, node_index, hash) VALUES (?, ?, ?)"
_SQLITE_INSERT_STATE = (
    "INSERT INTO merkle_state (size, position, frontier, updated_at, name) VALUES (?, ?, ?, ?, ?)"
)
_SQLITE_UPDATE_STATE = (
    "UPDATE merkle_state SET size = ?, position = ?, frontier = ?, updated_at = ?"
    " WHERE name = ? AND size = ?"
)
# SQLAlchemy's SQLite DATETIME text (its storage format; the store writes the same): read
# with fromisoformat, which gives what SQLAlchemy's own processor gives for it, faster.
_SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_SQLITE = sqlite_dialect.dialect()
# Any other stored text is read as SQLAlchemy reads it (the general path's values).
_read_time = events.c.recorded_at.type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
_write_time = merkle_state.c.updated_at.type.dialect_impl(_SQLITE).bind_processor(_SQLITE)


def _sqlite_time(text: Any) -> datetime:
    if isinstance(text, str) and _SQLITE_TIME.fullmatch(text):
        return datetime.fromisoformat(text)
    found = _read_time(text) if _read_time is not None else text
    assert isinstance(found, datetime), text
    return found


def _extend_sqlite(blobs: Blobs, last: int, conn: sqlite3.Connection) -> merkle.Frontier | None:
    """`MerkleLog.extend` on SQLite's write connection, inside its write transaction, in
    one hop to its thread (the general path makes a hop per statement, and SQLAlchemy's
    processing of the rows read back and written cost more than the leaves). Writes the
    same rows as the general path. None, having written nothing, when a row is not in
    the batch (its references need reading: the general path does that)."""
    state = conn.execute(_SQLITE_STATE, (STATE,)).fetchone()
    if state is None:
        frontier, position = merkle.Frontier(), 0
    else:
        frontier = merkle.Frontier.unpack(int(state[0]), bytes(state[2]))
        position = int(state[1])
    raws = conn.execute(_SQLITE_ROWS, (position, last)).fetchall()
    if not raws:
        return frontier
    if any(raw[0] not in blobs for raw in raws):
        return None
    rows = [
        leaf.StoredRow(p, stream, version, type_, data, meta, key, _sqlite_time(at))
        for p, stream, version, type_, data, meta, key, at in raws
    ]
    old_size = frontier.size
    leaves, nodes = _grow(frontier, rows, blobs)
    conn.executemany(_SQLITE_LEAVES, leaves)
    if nodes:
        conn.executemany(_SQLITE_NODES, nodes)
    values = (
        frontier.size,
        rows[-1].position,
        frontier.pack(),
        _write_time(datetime.now(UTC)) if _write_time is not None else datetime.now(UTC),
        STATE,
    )
    if state is None:
        conn.execute(_SQLITE_INSERT_STATE, values)
    elif conn.execute(_SQLITE_UPDATE_STATE, (*values, old_size)).rowcount != 1:
        raise MerkleConflictError(f"the Merkle log is no longer at {old_size} leaves")
    return frontier


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
        last = batch[-1].position
        if self.store.db.is_sqlite:
            done = await self.store.db.write_direct(
                functools.partial(_extend_sqlite, blobs, last), durable=False, background=True
            )
            if done is not None:
                return done
        async with self.store.db.write(durable=False, background=True) as conn:
            frontier, position = await self.state(conn)
            old_size = frontier.size
            rows = (
                await conn.execute(
                    sa.select(*ROW_COLUMNS)
                    .where(events.c.position > position, events.c.position <= last)
                    .order_by(events.c.position)
                )
            ).all()
            if not rows:
                return frontier
            stored = [stored_row(raw) for raw in rows]
            for row in stored:
                if row.position not in blobs:  # not in the batch (a batch never skips)
                    found = await asyncio.to_thread(self._blob_entries, await self._read(row))
                    blobs[row.position] = found.get(row.position, [])
            leaves, nodes = _grow(frontier, stored, blobs)
            await conn.execute(
                sa.insert(merkle_leaves),
                [dict(zip(_LEAF_KEYS, values, strict=True)) for values in leaves],
            )
            if nodes:
                await conn.execute(
                    sa.insert(merkle_nodes),
                    [dict(zip(_NODE_KEYS, values, strict=True)) for values in nodes],
                )
            await self._save(conn, frontier, stored[-1].position, old_size)
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
