"""Purging one erased person's rows from the read models (hub/privacy/erase.py).

Most rows hold no personal data (the timeline opens sealed events when it is read), but
some must keep plain text to be searched or looked up quickly: a card and its search text,
the identity index's numbers and addresses, the mail index's senders and subjects, the
call log's numbers and caller names, the message search text. These purges make each of
them what a rebuild from the log would give once the keys are gone (blank, or no row).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.privacy.dossier import Dossier
from projections.calls import CallLog
from projections.contacts import ContactDirectory
from projections.identity import IdentityIndex
from projections.mail import MailIndex
from projections.timeline import Timeline, mail_party, tel_party


def _erased(d: Dossier) -> tuple[list[str], list[str]]:
    """The addresses and numbers whose keys go (not those another contact shares)."""
    emails = [e for e in d.emails if f"email:{e}" in d.subjects]
    numbers = [n for n in d.numbers if f"phone:{n}" in d.subjects]
    return emails, numbers


async def _contacts(conn: AsyncConnection, p: ContactDirectory, d: Dossier) -> None:
    ids = list(d.contact_ids)
    await conn.execute(sa.delete(p.search_rows).where(p.search_rows.c.contact_id.in_(ids)))
    await conn.execute(sa.delete(p.contacts).where(p.contacts.c.contact_id.in_(ids)))


async def _identity(conn: AsyncConnection, p: IdentityIndex, d: Dossier) -> None:
    ids = list(d.contact_ids)
    for table in (p.numbers, p.signature_numbers, p.switchboards, p.emails):
        await conn.execute(sa.delete(table).where(table.c.contact_id.in_(ids)))
    blank = {"given_name": "", "family_name": "", "company": "", "display_name": ""}
    await conn.execute(sa.update(p.cards).where(p.cards.c.contact_id.in_(ids)).values(**blank))


async def _mail(conn: AsyncConnection, p: MailIndex, d: Dossier) -> None:
    streams = list(d.streams)
    emails, _ = _erased(d)
    m = p.messages
    blank = {"sender": "", "sender_name": "", "subject": ""}
    await conn.execute(sa.update(m).where(m.c.stream.in_(streams)).values(**blank))
    await conn.execute(sa.delete(p.participants).where(p.participants.c.stream.in_(streams)))
    await conn.execute(sa.delete(p.mailboxes).where(p.mailboxes.c.stream.in_(streams)))
    s = p.signature_numbers
    where = sa.or_(s.c.stream.in_(streams), s.c.address.in_(emails))
    await conn.execute(sa.delete(s).where(where))


async def _calls(conn: AsyncConnection, p: CallLog, d: Dossier) -> None:
    _, numbers = _erased(d)
    c = p.calls
    blank = {"number": None, "number_raw": "", "caller_name": ""}
    await conn.execute(sa.update(c).where(c.c.stream.in_(list(d.streams))).values(**blank))
    await conn.execute(sa.delete(p.missed).where(p.missed.c.number.in_(numbers)))


async def _timeline(conn: AsyncConnection, p: Timeline, d: Dossier) -> None:
    for subject in d.subjects:
        await p.forget_text(conn, subject)
    streams = list(d.streams)
    await conn.execute(sa.delete(p.text).where(p.text.c.entry_id.in_(streams)))
    await conn.execute(sa.delete(p.text_subjects).where(p.text_subjects.c.entry_id.in_(streams)))
    emails, numbers = _erased(d)
    parties = [mail_party(e) for e in emails] + [tel_party(n) for n in numbers]
    t = p.parties
    await conn.execute(
        sa.delete(t).where(sa.or_(t.c.party.in_(parties), t.c.entry_id.in_(streams)))
    )


Purge = Callable[[AsyncConnection, Any, Dossier], Awaitable[None]]
_PURGES: tuple[tuple[type, Purge], ...] = (
    (ContactDirectory, _contacts),
    (IdentityIndex, _identity),
    (MailIndex, _mail),
    (CallLog, _calls),
    (Timeline, _timeline),
)


@dataclass(frozen=True, slots=True)
class ReadModelPurge:
    """One read model's purge, as hub.privacy.erase.Forgetting."""

    projection: Any
    purge: Purge

    @property
    def tables(self) -> sa.MetaData:
        return self.projection.tables  # type: ignore[no-any-return]

    async def forget(self, conn: AsyncConnection, erased: Dossier) -> None:
        await self.purge(conn, self.projection, erased)


def forgetting(projections: Iterable[object]) -> list[ReadModelPurge]:
    """The purges of those of `projections` that keep personal data in plain text."""
    found = []
    for projection in projections:
        for kind, purge in _PURGES:
            if isinstance(projection, kind):
                found.append(ReadModelPurge(projection, purge))
    return found
