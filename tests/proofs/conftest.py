"""A store with archived mail in it, its Merkle log, and a way to tamper with rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.archive import Archive
from hub.events import NewEvent
from hub.events.mail import Attachment, EmailReceived
from hub.events.notes import NoteAdded
from hub.proofs import heads
from hub.proofs.log import MerkleLog
from hub.store import Database, EventStore


async def capture_mail(store: EventStore, archive: Archive, n: int, start: int = 0) -> list[str]:
    """Appends `n` received emails (raw bytes and one attachment archived); their refs."""
    refs = []
    for i in range(start, start + n):
        raw = f"From: kunde{i}@example.de\r\nSubject: Angebot {i}\r\n\r\nHallo {i}\r\n".encode()
        raw_ref = archive.put(raw)
        attachment = archive.put(f"%PDF-1.4 Rechnung {i}".encode())
        event = EmailReceived(
            sender=f"kunde{i}@example.de",
            subject=f"Angebot {i}",
            raw_ref=raw_ref,
            raw_size=len(raw),
            attachments=(
                Attachment(name="r.pdf", content_type="application/pdf", size=9, ref=attachment),
            ),
        )
        await store.append(f"email-{i}", 0, [NewEvent(event, idempotency_key=f"mail:{i}")])
        refs.append(raw_ref)
    return refs


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive")


@pytest.fixture
async def logged(store: EventStore, archive: Archive, tmp_path: Path) -> MerkleLog:
    """Five mails and a note, logged and signed once."""
    await capture_mail(store, archive, 5)
    await store.append("note-1", 0, [NoteAdded(note_id="n1", contact_id="c1", text="Rückruf")])
    merkle = MerkleLog(store, archive.root)
    await merkle.catch_up()
    await merkle.sign(heads.ensure_key(tmp_path))
    return merkle


async def tamper(store: EventStore, table: str, statement: str, **params: object) -> None:
    """Runs an UPDATE past the table's append-only trigger, as an attacker with database
    access would (the trigger is put back afterwards)."""
    async with store.db.write() as conn:
        if store.db.is_sqlite:
            rows = await conn.execute(
                sa.text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=:t"),
                {"t": table},
            )
            triggers = rows.all()
            for name, _ in triggers:
                await conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
            await conn.execute(sa.text(statement), params)
            for _, sql in triggers:
                await conn.execute(sa.text(sql))
        else:
            await conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            await conn.execute(sa.text(statement), params)
            await conn.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


async def with_store(url: str, work: Callable[[EventStore], Awaitable[object]]) -> None:
    """Runs `work` on a store opened on `url` and closes it (as a command run beside)."""
    store = EventStore(Database(url))
    await store.start()
    try:
        await work(store)
    finally:
        await store.close()
