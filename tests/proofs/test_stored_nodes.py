"""Proofs from stored nodes: the roots of every complete block of 256 and 65,536 leaves,
written with the leaves, filled in by the migration for an older log, and checked by
`verify`. Every path must be byte for byte the one the whole tree in memory gives."""

from __future__ import annotations

import asyncio
import importlib.util
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hub.cli import app
from hub.events import NewEvent
from hub.events.notes import NoteAdded
from hub.proofs import heads, merkle
from hub.proofs.log import MerkleLog
from hub.proofs.schema import merkle_leaves, merkle_nodes
from hub.proofs.verify import verify
from hub.store import Database, EventStore
from hub.store.database import MIGRATIONS
from tests.migrate import alembic
from tests.proofs.conftest import tamper


def hashed(n: int) -> list[bytes]:
    return [merkle.leaf_hash(str(i).encode()) for i in range(n)]


def stored_of(tree: merkle.Tree) -> dict[tuple[int, int], bytes]:
    """What the log stores for a tree: its leaves and the nodes of the stored levels."""
    found = {}
    for level in (0, *merkle.STORED_LEVELS):
        if level < len(tree.levels):
            row = tree.levels[level]
            found.update({(level, i // 32): bytes(row[i : i + 32]) for i in range(0, len(row), 32)})
    return found


def sample(n: int, count: int, rng: random.Random) -> list[int]:
    """Indices 0..n-1: all of them for a small n, else the edges and random ones."""
    if n <= count:
        return list(range(n))
    edges = {0, 1, 255, 256, 257, n // 2, n - 257, n - 256, n - 2, n - 1}
    return sorted({i for i in edges if 0 <= i < n} | set(rng.sample(range(n), count)))


@pytest.mark.parametrize(
    "n", [1, 2, 3, 255, 256, 257, 511, 512, 513, 1000, 65_535, 65_536, 65_537, 200_003]
)
def test_paths_from_stored_nodes_are_the_whole_trees_paths(n: int) -> None:
    tree = merkle.Tree(hashed(n))
    stored = stored_of(tree)
    rng = random.Random(n)
    for index in sample(n, 60, rng):
        ranges = merkle.inclusion_ranges(index, n)
        assert merkle.subroots(ranges, stored) == tree.inclusion_path(index)
    for old in sample(n, 60, rng):
        old += 1
        ranges = merkle.consistency_ranges(old, n)
        assert merkle.subroots(ranges, stored) == tree.consistency_path(old)


@pytest.mark.parametrize("n", [257, 65_537, 1_000_000, 10**9 + 7])
def test_a_proof_reads_a_bounded_number_of_hashes_whatever_the_size(n: int) -> None:
    """Logarithmic: at most 255 hashes per stored level on each side of the path, plus
    a few thousand level-16 nodes only beyond 2**28 leaves."""
    rng = random.Random(n)
    for index in [0, n // 3, n - 1, *rng.sample(range(n), 20)]:
        for ranges in (
            merkle.inclusion_ranges(index, n),
            merkle.consistency_ranges(index + 1, n),
        ):
            spans = merkle.reads(ranges)
            per_level = {lv: sum(b - a for a, b in s) for lv, s in spans.items()}
            assert per_level.get(0, 0) <= 2 * 255 and per_level.get(8, 0) <= 2 * 255
            assert per_level.get(16, 0) <= max(4, n >> 16)
            assert sum(per_level.values()) <= 1024 + (n >> 16)


def test_appending_names_the_blocks_each_leaf_completes() -> None:
    leaves = hashed(65_536 + 300)
    tree = merkle.Tree(leaves)
    frontier = merkle.Frontier()
    closed = {level: [] for level in merkle.STORED_LEVELS}  # type: ignore[var-annotated]
    for h in leaves:
        done = frontier.append(h)
        for level in merkle.STORED_LEVELS:
            if len(done) > level:
                closed[level].append(done[level])
    for level in merkle.STORED_LEVELS:
        assert b"".join(closed[level]) == bytes(tree.levels[level])
    assert len(closed[8]) == 257 and len(closed[16]) == 1


async def append_notes(store: EventStore, n: int, start: int = 0) -> None:
    for chunk in range(start, start + n, 200):
        batch = [
            (f"note-{i}", 0, [NewEvent(NoteAdded(note_id=f"n{i}", contact_id="c1", text=str(i)))])
            for i in range(chunk, min(start + n, chunk + 200))
        ]
        async with store.transaction() as tx:
            await tx.append_many(batch)


async def stored_nodes(store: EventStore) -> dict[tuple[int, int], bytes]:
    async with store.db.read() as conn:
        rows = (await conn.execute(sa.select(merkle_nodes))).all()
    return {(int(r.level), int(r.node_index)): bytes(r.hash) for r in rows}


async def assert_proofs_match(log: MerkleLog, sizes: list[int], count: int) -> None:
    leaves = await log.leaf_hashes()
    rng = random.Random(7)
    for size in sizes:
        tree = merkle.Tree(leaves[:size])
        for index in sample(size, count, rng):
            assert await log.inclusion_path(index, size) == tree.inclusion_path(index), (
                index,
                size,
            )
        for old in sample(size, count, rng):
            old += 1
            assert await log.consistency_path(old, size) == tree.consistency_path(old)


SIZES = [1, 2, 3, 255, 256, 257, 511, 512, 513, 700]


@pytest.fixture
async def big(store: EventStore, tmp_path: Path) -> MerkleLog:
    """700 events logged in batches that straddle the 256-leaf blocks, and signed."""
    await append_notes(store, 700)
    log = MerkleLog(store, tmp_path / "archive", batch_size=97)
    assert await log.catch_up() == 700
    await log.sign(heads.ensure_key(tmp_path))
    return log


async def test_the_log_stores_each_complete_block_and_proves_as_the_whole_tree(
    big: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    tree = merkle.Tree(await big.leaf_hashes())
    assert await stored_nodes(store) == {
        (8, i): bytes(tree.levels[8][i * 32 : i * 32 + 32]) for i in range(2)
    }
    await assert_proofs_match(big, SIZES, 12)
    [head] = await big.heads()
    proof = await big.inclusion(300)
    path = [bytes.fromhex(p) for p in proof["path"]]
    assert path == tree.inclusion_path(299)
    assert merkle.verify_inclusion(299, 700, bytes.fromhex(proof["leaf_hash"]), path, head.root)
    await append_notes(store, 10, start=700)
    await big.catch_up()
    newer = await big.sign(heads.ensure_key(tmp_path))
    await append_notes(store, 5, start=710)
    await big.catch_up()
    assert (await big.inclusion(300))["head_id"] == newer.id  # the newest covering head
    assert (await big.inclusion(710))["tree_size"] == 710
    with pytest.raises(LookupError, match="no signed tree head covers position 711"):
        await big.inclusion(711)


async def test_the_migration_fills_the_nodes_of_an_older_log(
    big: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    """A log kept before the nodes were stored: the migration computes them from its
    leaves, the follower goes on from there and proofs are what they were."""
    written = await stored_nodes(store)
    alembic(store.db, "downgrade", "0008-1")  # the log as it was: no node table
    alembic(store.db, "upgrade", "head")
    assert await stored_nodes(store) == written
    await append_notes(store, 100, start=700)
    assert await big.catch_up() == 800
    await assert_proofs_match(big, [700, 767, 768, 800], 8)
    report = await verify(big, heads.load_public(tmp_path))
    assert report.problems == [] and report.events == 800


async def test_a_changed_or_missing_stored_node_is_found(
    big: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    """A proof uses stored nodes, so verify recomputes each from the leaves."""
    forged = merkle.leaf_hash(b"forged")
    await tamper(
        store,
        "merkle_nodes",
        "UPDATE merkle_nodes SET hash = :h WHERE level = 8 AND node_index = 1",
        h=forged,
    )
    public = heads.load_public(tmp_path)
    assert (await verify(big, public)).problems == [
        "tree node at level 8, index 1 (leaves 256-511) does not match the leaves"
    ]
    await tamper(store, "merkle_nodes", "DELETE FROM merkle_nodes WHERE node_index = 0")
    assert (await verify(big, public)).problems == [
        "tree node at level 8, index 1 (leaves 256-511) does not match the leaves",
        "tree node at level 8, index 0 is missing",
    ]
    with pytest.raises(LookupError, match="level 8, index 0 is missing"):
        await big.inclusion_path(600, 700)


def test_the_migration_computes_both_levels_page_by_page() -> None:
    """Its own (frozen) hashing, over several 65,536-leaf pages and a partial one."""
    spec = importlib.util.spec_from_file_location(
        "merkle_nodes_migration", MIGRATIONS / "versions" / "0008_merkle_nodes.py"
    )
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    leaves = hashed(2 * 65_536 + 300)
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        merkle_leaves.create(conn)
        merkle_nodes.create(conn)
        conn.execute(
            sa.insert(merkle_leaves),
            [
                {"leaf_index": i, "position": i + 1, "leaf_hash": h, "blobs": ""}
                for i, h in enumerate(leaves)
            ],
        )
        migration._fill(conn)
        rows = conn.execute(sa.select(merkle_nodes)).all()
    engine.dispose()
    tree = merkle.Tree(leaves)
    expected = {
        (level, i // 32): bytes(tree.levels[level][i : i + 32])
        for level in merkle.STORED_LEVELS
        for i in range(0, len(tree.levels[level]), 32)
    }
    assert {(r.level, r.node_index): bytes(r.hash) for r in rows} == expected
    assert len(expected) == 2 * 256 + 1 + 2


@pytest.mark.slow
async def test_a_log_past_65536_leaves_proves_with_its_level_16_node(
    store: EventStore, tmp_path: Path
) -> None:
    await append_notes(store, 65_537)
    log = MerkleLog(store, tmp_path / "archive", batch_size=5000)
    assert await log.catch_up() == 65_537
    nodes = await stored_nodes(store)
    assert len(nodes) == 256 + 1 and (16, 0) in nodes
    await assert_proofs_match(log, [65_535, 65_536, 65_537], 10)


def test_rebuild_keeps_the_stored_nodes(tmp_path: Path, database_url: str) -> None:
    """`kartei rebuild` drops read models only: the nodes stay, proofs are unchanged."""
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "."\n[database]\nurl = "{database_url}"\n')

    async def logged() -> tuple[dict[tuple[int, int], bytes], list[bytes]]:
        store = EventStore(Database(database_url))
        await store.start()
        try:
            if not await store.head():
                await append_notes(store, 300)
            log = MerkleLog(store, tmp_path / "archive")
            await log.catch_up()
            return await stored_nodes(store), await log.inclusion_path(7, 300)
        finally:
            await store.close()

    nodes, path = asyncio.run(logged())
    assert list(nodes) == [(8, 0)]
    result = CliRunner().invoke(app, ["rebuild", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert asyncio.run(logged()) == (nodes, path)
