"""Message search (the timeline's `timeline_text`): what users look for is found, on both
databases, while SQLite's index is written once per batch; erasure takes text out of the
index, a rebuild puts it back, and a database indexed by the old triggers upgrades."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.events.mail import EmailReceived
from hub.projection import ProjectionRunner
from hub.store import NO_STREAM, EventStore
from projections import search
from projections.timeline import Timeline
from tests.migrate import alembic

LETTER = (
    "Sehr geehrte Damen und Herren,\n"
    "die Abschlussrechnung zur Bestellung AB-2024-4711 ist noch offen. "
    "Bitte rufen Sie Herrn Jürgen Müller zurück: 0211 9876543.\n"
    "> Am 3. März schrieb die Firma:\n> Ihre Lieferung kommt am Donnerstag.\n"
)


def mail(n: int, text: str = "", subject: str = "Anfrage") -> EmailReceived:
    return EmailReceived(
        sender=f"kunde{n}@example.org",
        subject=subject,
        text=text or f"Nachricht nummer{n:05d} ohne Besonderheiten",
        message_id=f"<m{n}@example.org>",
        date=datetime(2026, 3, 1, 12, n % 60, tzinfo=UTC),
    )


async def found(store: EventStore, timeline: Timeline, query: str) -> set[str]:
    async with store.db.read() as conn:
        return {e.entry_id for e in await timeline.search(conn, query, limit=1000)}


async def index_matches_text(store: EventStore) -> None:
    """SQLite: the FTS5 index holds exactly the table's texts (no row twice, none left)."""
    if store.db.is_sqlite:
        async with store.db.write() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO timeline_fts(timeline_fts, rank) VALUES ('integrity-check', 1)"
            )


@pytest.fixture
async def runner(store: EventStore) -> ProjectionRunner:
    runner = ProjectionRunner(store, Timeline(), batch_size=50)
    await runner.prepare()
    return runner


@pytest.mark.parametrize(
    "query",
    [
        "Abschlussrechnung",  # a word
        "rechnung",  # part of a word, in another case
        "Müller",  # a name with an umlaut
        "mueller",  # ... typed without one
        "JÜRGEN",
        "9876543",  # part of a phone number
        "0211",  # its area code
        "4711",  # part of an order number
        "ab-2024",
        "donnerstag",  # in the quoted reply
        "offen müller",  # two fragments, far apart
    ],
)
async def test_what_users_type_finds_the_message(
    store: EventStore, runner: ProjectionRunner, query: str
) -> None:
    await store.append("email-letter", NO_STREAM, [mail(1, LETTER)])
    await store.append("email-other", NO_STREAM, [mail(2)])
    await runner.catch_up()
    assert await found(store, runner.projection, query) == {"email-letter"}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "query",
    [
        "0211 9876543",  # a number as the mail writes it
        "0211-9876543",  # written with a dash
        "02119876543",  # digits alone: found as written only
        "2024-4711",  # an order number without its letters
        "+49 211 9876543",
    ],
)
async def test_a_number_is_found_as_typed_and_as_its_digits(
    store: EventStore, runner: ProjectionRunner, query: str
) -> None:
    await store.append("email-letter", NO_STREAM, [mail(1, LETTER)])
    dashed = "Rückruf unter +49 211-9876543 oder 0211-9876543, Bestellung AB-2024-4711."
    await store.append("email-dashed", NO_STREAM, [mail(2, dashed)])
    await store.append("email-digits", NO_STREAM, [mail(3, "Tel 02119876543")])
    await store.append("email-other", NO_STREAM, [mail(4)])
    await runner.catch_up()
    hits = await found(store, runner.projection, query)  # type: ignore[arg-type]
    expected = {
        "0211 9876543": {"email-letter", "email-dashed", "email-digits"},
        "0211-9876543": {"email-dashed", "email-digits"},
        "02119876543": {"email-digits"},
        "2024-4711": {"email-letter", "email-dashed"},
        "+49 211 9876543": {"email-dashed"},
    }
    assert hits == expected[query]


@pytest.mark.parametrize("query", ["muller", "4711-AB", "rechnungen", "mülller"])
async def test_what_the_text_does_not_hold_finds_nothing(
    store: EventStore, runner: ProjectionRunner, query: str
) -> None:
    await store.append("email-letter", NO_STREAM, [mail(1, LETTER)])
    await runner.catch_up()
    assert await found(store, runner.projection, query) == set()  # type: ignore[arg-type]


async def test_every_message_of_many_batches_is_found_once(
    store: EventStore, runner: ProjectionRunner
) -> None:
    for n in range(120):  # batches of 50: whole ones and a part
        await store.append(f"email-{n}", NO_STREAM, [mail(n)])
    await runner.catch_up()
    timeline: Timeline = runner.projection  # type: ignore[assignment]
    for n in (0, 49, 50, 99, 119):
        assert await found(store, timeline, f"nummer{n:05d}") == {f"email-{n}"}
    assert len(await found(store, timeline, "besonderheiten")) == 120
    await index_matches_text(store)


async def test_a_fax_text_recognized_later_is_found(
    store: EventStore, runner: ProjectionRunner
) -> None:
    """A later OCR replaces the fax's searchable text (old words kept, new ones added)."""
    fax = FaxReceived(sender="+492119876543", subject="Fax Bestellung", text="Seite eins")
    await store.append("fax-1", NO_STREAM, [fax])
    await runner.catch_up()  # the fax's text indexed in one batch ...
    ocr = FaxTextRecognized(fax_stream="fax-1", text="Zahlungserinnerung Kundennummer 55123")
    await store.append("fax-1", 1, [ocr])
    await runner.catch_up()  # ... replaced in the next
    timeline: Timeline = runner.projection  # type: ignore[assignment]
    for query in ("bestellung", "zahlungserinnerung", "55123"):
        assert await found(store, timeline, query) == {"fax-1"}
    await index_matches_text(store)


async def test_forgotten_text_leaves_the_index_and_a_rebuild_restores_it(
    store: EventStore, runner: ProjectionRunner
) -> None:
    await store.append("email-letter", NO_STREAM, [mail(1, LETTER)])
    await store.append("email-other", NO_STREAM, [mail(2, "Müller schrieb auch")])
    await runner.catch_up()
    timeline: Timeline = runner.projection  # type: ignore[assignment]
    async with store.db.write() as conn:
        assert await timeline.forget_text(conn, "email:kunde1@example.org") == 1
    assert await found(store, timeline, "müller") == {"email-other"}
    assert await found(store, timeline, "abschlussrechnung") == set()
    await index_matches_text(store)
    await runner.rebuild()
    assert await found(store, timeline, "müller") == {"email-letter", "email-other"}
    await index_matches_text(store)


async def test_an_index_kept_by_the_old_triggers_upgrades_in_place(
    store: EventStore, runner: ProjectionRunner
) -> None:
    """A database from before 0009: its SQLite index was fed by per-row triggers. After
    the upgrade its texts are still found, new ones are indexed once, nothing rebuilt."""
    await store.append("email-old", NO_STREAM, [mail(1, LETTER)])
    await runner.catch_up()
    alembic(store.db, "downgrade", "0009-1")  # the triggers as they were
    timeline: Timeline = runner.projection  # type: ignore[assignment]
    async with store.db.write() as conn:  # a text written as the old projection wrote it
        await conn.execute(
            sa.insert(timeline.text).values(entry_id="email-older", body="altkunde meier")
        )
    alembic(store.db, "upgrade", "head")
    runner = ProjectionRunner(store, timeline, batch_size=50)
    await runner.prepare()  # same version: kept, not rebuilt
    await store.append("email-new", NO_STREAM, [mail(2, "Neukunde Meier, Bestellung 13579")])
    await runner.catch_up()
    async with store.db.read() as conn:
        texts = await conn.execute(sa.select(sa.func.count()).select_from(timeline.text))
        assert texts.scalar_one() == 3
    assert await found(store, timeline, "abschlussrechnung") == {"email-old"}
    assert await found(store, timeline, "13579") == {"email-new"}
    async with store.db.read() as conn:
        hits = await conn.execute(
            sa.select(timeline.text.c.entry_id).where(search_condition(conn, timeline, "meier"))
        )
        assert set(hits.scalars()) == {"email-older", "email-new"}
    await index_matches_text(store)


def search_condition(conn: object, timeline: Timeline, query: str) -> sa.ColumnElement[bool]:
    condition = search.matching(conn, timeline.text, "timeline_fts", query)  # type: ignore[arg-type]
    assert condition is not None
    return condition
