"""The mail read model on both databases: participants, threads, mailboxes, unknown senders."""

from __future__ import annotations

from adapters.mail.pipeline import MailIntake
from hub.events.contacts import ContactCreated
from hub.events.mail import CommunicationLinked
from hub.projection import ProjectionRunner
from hub.store import EventStore
from projections.identity import IdentityIndex
from projections.mail import MailIndex
from tests.mail import messages
from tests.mail.test_pipeline import capture


async def test_timeline_threads_and_unknown_senders(store: EventStore, intake: MailIntake) -> None:
    first = messages.simple(1, sender="Eva Neu <eva@neu.example>")
    reply = messages.simple(
        2, sender="info@firma.example", to="eva@neu.example", body="Antwort\n"
    ).replace(b"Message-ID:", b"In-Reply-To: <msg-1@kunde.example>\r\nMessage-ID:", 1)
    other = messages.simple(3, sender="kunde@bekannt.example")
    await capture(store, intake, [first, reply, other, messages.CP1252], "imap:info/INBOX")
    await capture(store, intake, [b"Delivered-To: x\r\n" + first], "imap:anna/INBOX")
    await store.append(
        "contact-1", None, [ContactCreated(contact_id="1", emails=("kunde@bekannt.example",))]
    )
    mail, identity = MailIndex(), IdentityIndex()
    runners = [ProjectionRunner(store, mail), ProjectionRunner(store, identity)]
    for runner in runners:
        await runner.prepare()
        await runner.catch_up()
    async with store.db.read() as conn:
        eva = await mail.streams_for(conn, ["Eva@Neu.example"])
        assert len(eva) == 2
        assert await mail.thread(conn, eva[0]) == list(reversed(eva))
        assert await mail.mailboxes_of(conn, eva[1]) == ["imap:anna/INBOX", "imap:info/INBOX"]
        _, unknown = await mail.unknown_senders(conn, identity)
        assert await mail.numbers_from_signatures(conn, ["jw@alt.example"]) == [
            ("+49301234567", "phone"),
            ("+49301234568", "fax"),
        ]
    assert (unknown.address, unknown.name, unknown.messages) == ("eva@neu.example", "Eva Neu", 1)
    await store.append(
        "links", None, [CommunicationLinked(message_stream=unknown.last_stream, contact_id="1")]
    )
    await runners[0].catch_up()
    async with store.db.read() as conn:
        assert [u.address for u in await mail.unknown_senders(conn, identity)] == ["jw@alt.example"]
