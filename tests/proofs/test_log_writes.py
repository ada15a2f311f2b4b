"""The follower's batch is written the same way on both databases (on SQLite in one hop
to the write connection, reading the rows itself): every leaf is the one `verify` makes
from the row as SQLAlchemy reads it, whatever the row holds, and a batch that misses
events still logs every event with its blobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from hub.archive import Archive
from hub.events import NewEvent
from hub.events.notes import NoteAdded
from hub.proofs import heads, merkle
from hub.proofs.log import MerkleLog
from hub.proofs.schema import merkle_nodes, merkle_state
from hub.proofs.verify import verify
from hub.store import EventStore
from tests.proofs.conftest import capture_mail, tamper


async def test_leaves_are_made_from_the_rows_as_stored(
    store: EventStore, archive: Archive, tmp_path: Path
) -> None:
    await capture_mail(store, archive, 3)
    await store.append("notiz-ä", 0, [NoteAdded(note_id="n1", contact_id="c1", text="Grüße ☃")])
    batch = await store.read_all(0, 10)
    for recorded in batch:
        _ = recorded.event  # decoded as the live tail hands them over
    # Rows as other writers (or older versions) may have stored them: text beyond ASCII, a
    # time without its fraction, a time with an offset.
    edits = [
        "UPDATE events SET metadata = metadata || ' ', data = data || ' ü€𝄞' WHERE position = 1",
        "UPDATE events SET recorded_at = '2026-12-07 16:00:00' WHERE position = 2",
        "UPDATE events SET recorded_at = '2026-12-07 16:00:00.5+01:00' WHERE position = 3",
    ]
    for edit in edits if store.db.is_sqlite else edits[:1]:
        await tamper(store, "events", edit)
    merkle_log = MerkleLog(store, archive.root)
    frontier = await merkle_log.extend(batch)
    assert frontier.size == 4
    for position in range(1, 5):
        found = await merkle_log.leaf_of(position)
        encoded = await merkle_log.leaf_bytes(position)  # the row through SQLAlchemy
        assert found is not None and encoded is not None
        assert found[1] == merkle.leaf_hash(encoded)
    if store.db.is_sqlite:
        second = await merkle_log.leaf_bytes(2) or b""
        assert b"recorded-at: 2026-12-07T16:00:00.000000Z" in second
    await merkle_log.sign(heads.ensure_key(tmp_path))
    report = await verify(merkle_log, heads.load_public(tmp_path))
    assert report.problems == []
    assert (report.events, report.blobs) == (4, 6)
    async with store.db.read() as conn:
        updated = (await conn.execute(sa.select(merkle_state.c.updated_at))).scalar_one()
    assert abs(updated - datetime.now(UTC)) < timedelta(minutes=5)


async def test_a_batch_that_misses_events_logs_them_with_their_blobs(
    store: EventStore, archive: Archive
) -> None:
    await capture_mail(store, archive, 4)
    merkle_log = MerkleLog(store, archive.root)
    last = await store.read_all(3, 1)  # only the fourth: the first three are read again
    assert (await merkle_log.extend(last)).size == 4
    for position in range(1, 5):
        found = await merkle_log.leaf_of(position)
        assert found is not None and found[0] == position - 1
        assert len(found[2]) == 2 and all(b.stored_sha256 != "missing" for b in found[2])
    assert await merkle_log.extend(last) is not None  # nothing new: nothing written
    assert (await merkle_log.state())[0].size == 4


async def test_batches_store_the_nodes_of_the_blocks_they_complete(
    store: EventStore, archive: Archive
) -> None:
    for i in range(0, 520, 130):
        async with store.transaction() as tx:
            await tx.append_many(
                [
                    (
                        f"note-{j}",
                        0,
                        [NewEvent(NoteAdded(note_id=f"n{j}", contact_id="c", text="x"))],
                    )
                    for j in range(i, i + 130)
                ]
            )
    merkle_log = MerkleLog(store, archive.root, batch_size=130)
    assert await merkle_log.catch_up() == 520
    hashes = await merkle_log.leaf_hashes()
    tree = merkle.Tree(hashes)
    async with store.db.read() as conn:
        nodes = (await conn.execute(sa.select(merkle_nodes).order_by("level", "node_index"))).all()
    assert [(n.level, n.node_index, bytes(n.hash)) for n in nodes] == [
        (8, i, bytes(tree.levels[8][32 * i : 32 * i + 32])) for i in range(2)
    ]
    frontier, position = await merkle_log.state()
    assert (frontier.root(), position) == (tree.root(), 520)
    found = await merkle_log.leaf_of(1)
    assert found is not None and found[2] == []  # a note names no blob
