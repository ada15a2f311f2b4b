"""Parse, archive and append on both databases: exactly once, nothing lost."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from adapters.mail.parsing import capture_keys
from adapters.mail.pipeline import SLICE, MailIntake, store_prepared, stream_for
from hub.archive import Archive
from hub.events import NewEvent
from hub.events.calls import CallRinging
from hub.events.mail import CaptureFailed, EmailReceived, EmailSeenInMailbox, EmailSent
from hub.store import ANY, EventStore
from tests.hub.test_store import follow_until
from tests.mail import messages
from tests.mail.test_parsing import CORPUS


async def capture(store: EventStore, intake: MailIntake, raws: list[bytes], box: str) -> int:
    items = await intake.prepare_many([(raw, box) for raw in raws])
    async with store.transaction() as tx:
        return await store_prepared(tx, items, "test")


async def test_corpus_all_captured_or_failed_with_raw(
    store: EventStore, intake: MailIntake, archive: Archive
) -> None:
    raws = [p.read_bytes() for p in CORPUS]
    assert await capture(store, intake, raws, "import:corpus") == len(set(raws))
    recorded = await store.read_all(0, 10_000)
    kinds = {type(r.event) for r in recorded}
    assert kinds <= {EmailReceived, CaptureFailed}
    stored_raws = {archive.get(r.event.raw_ref) for r in recorded}
    assert stored_raws == set(raws)  # every message's bytes are in the archive, none lost
    failed = [r.event for r in recorded if isinstance(r.event, CaptureFailed)]
    assert all(f.error for f in failed)
    assert await capture(store, intake, raws, "import:corpus") == 0  # exactly once


async def test_live_readers_get_captured_mail_as_it_reads_back(
    store: EventStore, intake: MailIntake
) -> None:
    """The projections follow captured mail from the events as committed (not read back):
    those must equal what reading the log gives, field by field, for the real world's
    mail and for calls (tuples, nested attachments, zoned dates, sealed fields)."""
    raws = [p.read_bytes() for p in CORPUS] + [
        messages.simple(1, attachment=b"%PDF-1.4"),
        messages.simple(2, html="<p>Grüße</p>"),
    ]
    reader = await follow_until(store, len(set(raws)) + 1)
    await capture(store, intake, raws, "import:corpus")
    ringing = CallRinging(
        call_id="c-1",
        source="fritzbox",
        at=datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=1))),
        caller="+4930123456",
        caller_raw="030 123456",
        caller_name="Müller",
    )
    await store.append("call-c-1", ANY, [ringing])
    async with asyncio.timeout(20):
        live = await reader
    assert live == await store.read_all(0, 10_000)
    if store.db.is_sqlite:  # (see the store's own test)
        assert live[-1].event is ringing


async def test_same_message_in_two_mailboxes_is_one_email(
    store: EventStore, intake: MailIntake
) -> None:
    raw = messages.simple(7)
    assert await capture(store, intake, [raw], "imap:anna/INBOX") == 1
    again = b"Delivered-To: bernd@firma.example\r\n" + raw
    assert await capture(store, intake, [again], "imap:bernd/INBOX") == 0
    assert await capture(store, intake, [again], "imap:bernd/INBOX") == 0
    events = [r.event for r in await store.read_all(0, 100)]
    assert [type(e) for e in events] == [EmailReceived, EmailSeenInMailbox]
    assert events[1].mailbox == "imap:bernd/INBOX"


async def test_a_chunk_in_worker_slices_is_one_append_in_order(
    store: EventStore, intake: MailIntake, archive: Archive
) -> None:
    raws = [
        messages.simple(n, attachment=b"%d" % n * 1000 if n % 7 == 0 else None) for n in range(50)
    ]
    copy = b"Delivered-To: bernd@firma.example\r\n" + raws[3]
    chunk = [(raw, "imap:anna/INBOX") for raw in raws]
    chunk += [(raws[3], "imap:anna/INBOX"), (copy, "imap:bernd/INBOX")]  # repeats in one chunk
    assert len(chunk) >= 2 * SLICE  # big enough for the worker processes
    items = await intake.prepare_many(chunk)
    subjects = [item.event.subject for item in items if item.event is not None]
    assert subjects == [f"Anfrage Nummer {n}" for n in (*range(50), 3, 3)]  # input order
    assert all(archive.has(ref) for item in items for ref in item.refs)  # durable on return
    async with store.transaction() as tx:
        assert await store_prepared(tx, items, "test") == 50
    recorded = await store.read_all(0, 1000)
    assert [type(r.event) for r in recorded] == [EmailReceived] * 50 + [EmailSeenInMailbox]
    assert recorded[-1].stream == recorded[3].stream
    assert recorded[-1].event.mailbox == "imap:bernd/INBOX"
    async with store.transaction() as tx:  # the same chunk again (a resync): nothing new
        assert await store_prepared(tx, items, "test") == 0
    assert len(await store.read_all(0, 1000)) == 51


async def test_reused_message_id_keeps_both(store: EventStore, intake: MailIntake) -> None:
    first = messages.simple(1, message_id="<same@x>")
    second = messages.simple(1, message_id="<same@x>", body="Etwas ganz anderes\n")
    assert await capture(store, intake, [first, second], "smtp") == 2


async def test_direction_internal_and_attachments(
    store: EventStore, intake: MailIntake, archive: Archive
) -> None:
    big = bytes(range(256)) * 40_000  # a 10 MB attachment goes to the archive, not the event
    sent = messages.simple(2, sender="info@firma.example", to="kunde@extern.example")
    internal = messages.simple(3, sender="a@firma.example", to="b@firma.example")
    received = messages.simple(4, attachment=big, html="<p>Hallo</p>")
    assert await capture(store, intake, [sent, internal, received], "smtp") == 2
    assert intake.skipped == {"internal": 1}
    out, into = (r.event for r in await store.read_all(0, 100))
    assert isinstance(out, EmailSent) and out.data_subject() == "email:kunde@extern.example"
    assert isinstance(into, EmailReceived) and into.data_subject() == "email:mueller@kunde.example"
    assert archive.get(into.attachments[0].ref) == big
    assert into.html_ref is not None and archive.get(into.html_ref) == b"<p>Hallo</p>\n"


async def test_erasing_the_sender_forgets_the_message(
    store: EventStore, intake: MailIntake
) -> None:
    await capture(store, intake, [messages.simple(5)], "smtp")
    async with store.db.write() as conn:
        assert await store.keys.erase(conn, "email:mueller@kunde.example")
    [recorded] = await store.read_all(0, 10)
    assert recorded.event.sender == "" and recorded.event.raw_ref == ""


def test_archive_dedupes_and_detects_damage(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    ref = archive.put(b"hello")
    assert archive.put(b"hello") == ref
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1
    assert b"hello" not in archive.path_of(ref).read_bytes()  # compressed and sealed
    archive.path_of(ref).write_bytes(archive.path_of(ref).read_bytes()[:-1] + b"!")
    try:
        archive.get(ref)
    except Exception as err:
        assert "damaged" in str(err)
    else:
        raise AssertionError("damage not detected")


def test_archive_reads_blobs_of_the_earlier_two_level_layout(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    ref = archive.put(b"Rechnung 2025")
    new = archive.path_of(ref)
    assert new.parent.parent == tmp_path  # one level of folders
    old = new.parent / new.name[2:4] / new.name  # where earlier versions put it
    old.parent.mkdir()
    new.rename(old)
    assert archive.has(ref) and archive.path_of(ref) == old
    assert archive.get(ref) == b"Rechnung 2025"
    assert archive.put(b"Rechnung 2025") == ref  # stored already: not written again
    assert not new.exists()


async def test_mail_captured_under_a_plain_message_id_key_is_not_captured_again(
    store: EventStore, intake: MailIntake
) -> None:
    """Capture keys hold a hash of the Message-ID (it may name a person, docs/privacy.md);
    a mail stored before, under the Message-ID in plain, is still recognized: a copy read
    again adds only the mailbox it was seen in, no second email."""
    raw = messages.simple(1, message_id="<anna.mueller.1@kunde.example>")
    key, legacy = capture_keys(raw, "<anna.mueller.1@kunde.example>")
    assert legacy is not None and "anna.mueller" in legacy and "anna.mueller" not in key
    (item,) = await intake.prepare_many([(raw, "imap:info/INBOX")])
    assert item.event is not None and item.key == key
    # As an earlier version stored it: its stream and idempotency key from the plain id.
    await store.append(stream_for(legacy), ANY, [NewEvent(item.event, legacy)])

    assert await capture(store, intake, [raw], "imap:info/INBOX") == 0
    assert await capture(store, intake, [raw], "imap:info/Archiv") == 0
    recorded = await store.read_all(0, 100)
    assert [r.type_name for r in recorded] == ["EmailReceived", "EmailSeenInMailbox"]
    assert {r.stream for r in recorded} == {stream_for(legacy)}
    seen = recorded[1].event
    assert isinstance(seen, EmailSeenInMailbox) and seen.mailbox == "imap:info/Archiv"
    # A new mail gets the hashed key.
    assert await capture(store, intake, [messages.simple(2)], "imap:info/INBOX") == 1
    keys = [r.idempotency_key for r in await store.read_all(0, 100)]
    assert keys[-1] is not None and "@kunde.example" not in keys[-1]


async def test_a_store_without_plain_message_id_keys_is_not_asked_for_them_per_commit(
    store: EventStore, intake: MailIntake
) -> None:
    """A store that never held mail captured under a plain Message-ID (none written since
    they are hashed) is asked once whether it does, not in every commit (issue 17)."""
    statements: list[str] = []

    def seen(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    engine = store.db.writer.sync_engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        for n in range(1, 4):
            assert await capture(store, intake, [messages.simple(n)], "imap:info/INBOX") == 1
        assert await capture(store, intake, [messages.simple(1)], "imap:info/INBOX") == 0
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    lookups = [s for s in statements if "idempotency_key IN" in s]
    checks = [s for s in statements if "EXISTS" in s and "BETWEEN" in s]
    assert lookups == [] and len(checks) == 1
    assert len(await store.read_all(0, 100)) == 3
