"""A mail captured from the server and found again in a .pst is one message, not two; the
server's copy stays the original (adapters/mail/pst_known.py). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.mail import pst
from adapters.mail.pipeline import MailIntake, MailRules, store_prepared
from adapters.mail.pst_eml import rebuild
from adapters.mail.pst_import import import_pst
from hub.archive import Archive
from hub.events.mail import EmailReceived, EmailSent
from hub.store import Database, EventStore
from tests.mail.test_pst_import import _forget_marks, config, english, kartei

SAMPLE = Path(__file__).parents[1] / "data" / "pst" / "sample.pst"
RULES = MailRules(own_domains=frozenset({"firma.example"}))
RECEIVED, SENT = "Kunden/Meyer", "Gesendete Elemente"  # each folder's first message


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[MailIntake]:
    mail = MailIntake(Archive(tmp_path / "archive"), RULES, workers=1)
    yield mail
    mail.close()


def as_the_server_had_it(folder_path: str, **changed: bytes) -> bytes:
    """The first message of a .pst folder as the mail server delivered it: the header
    Outlook kept (or made, for sent mail) and the body as sent, not Outlook's rebuild."""
    handle = pst.open_pst(SAMPLE)
    try:
        [folder] = [f for f in pst.folders(handle) if f.path == folder_path]
        _, message = pst.read_message(folder, 0)
        assert message is not None
        header = rebuild(message).split(b"\r\n\r\n", 1)[0]
    finally:
        handle.close()
    fields = [f for f in header.split(b"\r\n") if not f.startswith(b"X-Kartei-Rebuilt-From")]
    fields = [f for f in fields if not f.lower().startswith((b"mime-version", b"content-"))]
    for name, value in changed.items():
        fields = [f for f in fields if not f.lower().startswith(name.lower().encode() + b":")]
        fields.append(name.encode() + b": " + value)
    body = b"Content-Type: text/plain; charset=utf-8\r\n\r\nVom Server, wie gesendet.\r\n"
    return b"\r\n".join(fields) + b"\r\nMIME-Version: 1.0\r\n" + body


async def capture(store: EventStore, intake: MailIntake, raw: bytes, mailbox: str) -> None:
    """The capture path IMAP takes: prepared, archived, appended."""
    prepared = await intake.prepare_many([(raw, mailbox)])
    async with store.transaction() as tx:
        assert await store_prepared(tx, prepared, "imap") == 1


async def mails(store: EventStore) -> list[EmailReceived | EmailSent]:
    read = await store.read_all(0, 1000, types=["EmailReceived", "EmailSent"])
    return [r.event for r in read if isinstance(r.event, EmailReceived | EmailSent)]


async def test_mail_captured_from_the_server_is_not_stored_again_from_the_pst(
    store: EventStore, intake: MailIntake
) -> None:
    received = await asyncio.to_thread(as_the_server_had_it, RECEIVED)
    sent = await asyncio.to_thread(as_the_server_had_it, SENT)
    await capture(store, intake, received, "imap:info@firma.example/INBOX")
    await capture(store, intake, sent, "imap:anna@firma.example/Sent")

    done = await import_pst(store, intake, SAMPLE, lambda *_: None)

    counts = {r.folder: (r.read, r.added, r.already) for r in done.folders}
    assert counts[RECEIVED] == (3, 2, 1)
    assert counts[SENT] == (3, 2, 1)
    assert sum(r.added for r in done.folders) == 10 and sum(r.already for r in done.folders) == 2
    stored = await mails(store)
    assert len(stored) == 12  # the sample's 12 messages, each once
    ids = [m.message_id for m in stored]
    assert len(set(ids)) == 12
    servers = [m for m in stored if m.mailboxes[0].startswith("imap:")]
    assert [m.text.strip() for m in servers] == ["Vom Server, wie gesendet."] * 2

    again = await import_pst(store, intake, SAMPLE, lambda *_: None)  # resumed: nothing read
    assert sum(r.added + r.already for r in again.folders) == 0
    assert len(await mails(store)) == 12


async def test_another_mail_under_a_reused_message_id_is_imported(
    store: EventStore, intake: MailIntake
) -> None:
    """A mailer that reuses Message-IDs: same id, another sender, another day."""
    other = await asyncio.to_thread(
        as_the_server_had_it,
        RECEIVED,
        From=b"newsletter@versand.example",
        Date=b"Mon, 02 Mar 2020 08:00:00 +0000",
    )
    await capture(store, intake, other, "imap:info@firma.example/INBOX")
    done = await import_pst(store, intake, SAMPLE, lambda *_: None)
    assert sum(r.already for r in done.folders) == 0
    assert len(await mails(store)) == 13


async def test_a_pst_does_not_bring_back_an_erased_mail(
    store: EventStore, intake: MailIntake
) -> None:
    received = await asyncio.to_thread(as_the_server_had_it, RECEIVED)
    await capture(store, intake, received, "imap:info@firma.example/INBOX")
    [mail] = await mails(store)
    async with store.db.write() as conn:
        await store.keys.erase(conn, f"email:{mail.sender}")
    done = await import_pst(store, intake, SAMPLE, lambda *_: None, batch=1)
    assert {r.folder: r.already for r in done.folders}[RECEIVED] == 1
    assert mail.message_id not in {m.message_id for m in await mails(store)}  # nor the PST's


async def _captured_from_the_server(url: str, archive: Path) -> None:
    store = EventStore(Database(url))
    await store.start()
    intake = MailIntake(Archive(archive), RULES, workers=1)
    try:
        received = await asyncio.to_thread(as_the_server_had_it, RECEIVED)
        sent = await asyncio.to_thread(as_the_server_had_it, SENT)
        await capture(store, intake, received, "imap:info@firma.example/INBOX")
        await capture(store, intake, sent, "imap:anna@firma.example/Sent")
    finally:
        intake.close()
        await store.close()


def test_the_import_says_what_kartei_held_already(tmp_path: Path, database_url: str) -> None:
    """`kartei import-mail FILE.pst` after IMAP captured two of its mails: each folder's
    line and the summary count them as already archived (German by default, English
    where the firm set it)."""
    asyncio.run(_captured_from_the_server(database_url, tmp_path / "data" / "archive"))
    cfg = config(tmp_path, database_url)
    code, out = kartei(cfg, "import-mail", str(SAMPLE))
    assert code == 0, out
    assert f"sample.pst/{RECEIVED}: 3 von 3 gelesen, 2 neu, 1 bereits erfasst" in out
    assert "sample.pst/Posteingang: 5 von 5 gelesen, 5 neu" in out  # none there: not said
    assert "Posteingang: 5 von 5 gelesen, 5 neu, 0" not in out
    assert (
        "10 von 12 Nachrichten neu; 0 nicht übernommen (intern oder ausgeschlossen); "
        "2 bereits erfasst." in out
    )

    asyncio.run(_forget_marks(database_url))  # read again: every message is there now
    code, out = kartei(english(cfg), "import-mail", str(SAMPLE))
    assert code == 0, out
    assert f"sample.pst/{SENT}: 3 of 3 read, 0 new, 3 already archived" in out
    assert (
        "0 of 12 messages were new; 0 skipped (internal or excluded); 12 already archived." in out
    )
