"""`verify` finds every kind of tampering: a blob's byte, an event row, a tree head
(on SQLite and PostgreSQL); erasure leaves tombstones that still verify."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from hub.archive import Archive
from hub.proofs import heads, leaf
from hub.proofs.log import MerkleLog
from hub.proofs.verify import verify
from hub.store import EventStore
from tests.proofs.conftest import capture_mail, tamper


async def check(merkle: MerkleLog, tmp_path: Path) -> list[str]:
    return (await verify(merkle, heads.load_public(tmp_path))).problems


async def test_an_untouched_archive_verifies(logged: MerkleLog, tmp_path: Path) -> None:
    report = await verify(logged, heads.load_public(tmp_path))
    assert report.problems == []
    assert (report.events, report.blobs, report.heads) == (6, 10, 1)


async def test_a_flipped_byte_in_a_blob_is_found(
    logged: MerkleLog, archive: Archive, tmp_path: Path
) -> None:
    [(_, _, blobs)] = [await logged.leaf_of(1)]  # type: ignore[misc]
    path = archive.root / blobs[0].locator[:2] / blobs[0].locator
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert await check(logged, tmp_path) == [
        f"blob {blobs[0].locator} (event 1) differs from its logged hash"
    ]


async def test_an_updated_event_row_is_found(
    logged: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    await tamper(store, "events", "UPDATE events SET stream = 'email-x' WHERE position = 3")
    assert await check(logged, tmp_path) == ["event at position 3 differs from its logged leaf"]


async def test_an_event_row_changed_in_its_sealed_payload_is_found(
    logged: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    await tamper(store, "events", "UPDATE events SET data = data || ' ' WHERE position = 2")
    assert await check(logged, tmp_path) == ["event at position 2 differs from its logged leaf"]


async def test_a_changed_tree_head_is_found(
    logged: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    [head] = await logged.heads()
    forged = head.text.replace("size: 6", "size: 5")
    await tamper(store, "merkle_heads", "UPDATE merkle_heads SET head = :h", h=forged)
    assert await check(logged, tmp_path) == [
        f"tree head {head.id}: signature does not match the head"
    ]


async def test_a_rewritten_leaf_is_found_by_the_signed_root(
    logged: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    """An attacker who changes an event and recomputes its leaf still breaks the root."""
    await tamper(store, "events", "UPDATE events SET stream = 'email-x' WHERE position = 3")
    forged = await logged.leaf_bytes(3)
    assert forged is not None
    from hub.proofs.merkle import leaf_hash

    await tamper(
        store,
        "merkle_leaves",
        "UPDATE merkle_leaves SET leaf_hash = :h WHERE position = 3",
        h=leaf_hash(forged),
    )
    problems = await check(logged, tmp_path)
    assert "tree head 1: root does not match the log" in problems


async def test_a_deleted_event_is_found(
    logged: MerkleLog, store: EventStore, tmp_path: Path
) -> None:
    await tamper(store, "events", "DELETE FROM events WHERE position = 4")
    assert await check(logged, tmp_path) == ["event at position 4 is gone"]


async def test_erasure_leaves_tombstones_that_still_verify(
    logged: MerkleLog, store: EventStore, archive: Archive, tmp_path: Path
) -> None:
    """Erasure destroys the subject's key and deletes their blobs; the rows and the blob
    hashes stay, so the tree and the heads verify. A blob missing while its subject's key
    exists is a problem."""
    found = await logged.leaf_of(2)
    assert found is not None
    for entry in found[2]:
        (archive.root / entry.locator[:2] / entry.locator).unlink()
    assert len(await check(logged, tmp_path)) == 2  # key still there: blobs are missing
    async with store.db.write() as conn:
        await conn.execute(
            sa.text("DELETE FROM subject_keys WHERE subject = 'email:kunde1@example.de'")
        )
    report = await verify(logged, heads.load_public(tmp_path))
    assert report.problems == []
    assert report.erased_blobs == 2


async def test_the_log_grows_incrementally_and_heads_stay_valid(
    logged: MerkleLog, store: EventStore, archive: Archive, tmp_path: Path
) -> None:
    await capture_mail(store, archive, 3, start=10)
    assert await logged.catch_up() == 9
    await logged.sign(heads.load_key(tmp_path))
    report = await verify(logged, heads.load_public(tmp_path))
    assert report.problems == [] and report.heads == 2 and report.events == 9


async def test_events_after_the_last_batch_are_reported_not_failed(
    logged: MerkleLog, store: EventStore, archive: Archive, tmp_path: Path
) -> None:
    await capture_mail(store, archive, 2, start=20)
    report = await verify(logged, heads.load_public(tmp_path))
    assert report.problems == [] and report.unlogged == 2


def test_references_are_found_in_nested_fields() -> None:
    from hub.events.mail import Attachment, EmailReceived

    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    event = EmailReceived(
        raw_ref=a,
        html_ref=b,
        attachments=(Attachment(name="x", content_type="t", size=1, ref=a),),
        text="sha256:" + "c" * 64 + " in a body is no reference",
    )
    assert leaf.references(event) == [b, a] or leaf.references(event) == [a, b]
