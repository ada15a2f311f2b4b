"""Erasure (issue 15, item 1): after `kartei privacy erase`, no byte of the database files
(with WAL), the archive or the log holds the person's name, address, number or words; the
log keeps every event; another customer's history stays (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hub.events.mail import EmailReceived
from hub.events.privacy import ContactErased
from hub.store import Database, EventStore
from hub.store.schema import events
from tests.privacy.conftest import (
    E164,
    EMAIL,
    FAMILY,
    FAX_SENTENCE,
    GIVEN,
    MAIL_SENTENCE,
    NEEDLES,
    OTHER_EMAIL,
    OTHER_SENTENCE,
    Firm,
)


def _found_in(blob: bytes) -> list[str]:
    lowered = blob.lower()
    return [n for n in NEEDLES if n.lower().encode() in lowered]


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in sorted(root.rglob("*")) if p.is_file()]


async def _counts(store: EventStore) -> Counter[str]:
    async with store.db.read() as conn:
        rows = await conn.execute(sa.select(events.c.type, sa.func.count()).group_by(events.c.type))
        return Counter({t: int(n) for t, n in rows})


def _sqlite_rows(path: Path) -> bytes:
    """Every row of every table, as SQLite returns it (the live data, not free pages)."""
    with sqlite3.connect(path) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return repr([conn.execute(f'SELECT * FROM "{t}"').fetchall() for (t,) in tables]).encode()


def _postgres_text(url: str) -> bytes:
    """Every row of every table of the test's schema as text, and pg_dump's output."""
    parsed = make_url(url)
    schema = str(parsed.query["options"]).split("search_path=")[1]
    conninfo = parsed.set(drivername="postgresql", query={}).render_as_string(False)
    found = []
    with psycopg.connect(conninfo) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        assert len(tables) > 10
        for (table,) in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t'):
                found.append(row.encode())
    dump = subprocess.run(
        ["pg_dump", "--schema", schema, conninfo], capture_output=True, check=True, timeout=120
    ).stdout
    assert b"subject_keys" in dump
    return b"\n".join([*found, dump])


async def test_erased_person_is_nowhere_and_the_rest_stays(firm: Firm, database_url: str) -> None:
    store = firm.kartei.store
    async with store.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(events))).scalar()
    before = await _counts(store)
    everything = _files(firm.config.parent)  # data dir, database files, the log
    # The strings were there to be found (else the search below proves nothing).
    haystack = b"".join(p.read_bytes() for p in everything if p.exists())
    if not store.db.is_sqlite:
        haystack += _postgres_text(database_url)
    assert set(_found_in(haystack)) >= {GIVEN, FAMILY, EMAIL, E164, MAIL_SENTENCE, FAX_SENTENCE}
    documents = _files(firm.data_dir / "archive")
    await _named_in_sealed_fields_only(store)
    await store.close()

    # Recent mail and fax are business letters: erasing needs an override, recorded.
    code, output = await asyncio.to_thread(firm.cli, "privacy", "erase", firm.person, "--yes")
    assert code == 3 and "retention" in output
    code, output = await asyncio.to_thread(
        firm.cli, "privacy", "erase", firm.person, "--yes", "--reason", "Antrag 2026-17",
        "--override-retention", "Art. 17 request; letters kept on paper",
    )  # fmt: skip
    assert code == 0, output

    # Every byte: the database files with WAL and SHM, the archive, the log.
    files = _files(firm.data_dir, firm.config.parent)
    assert firm.log_file in files
    if store.db.is_sqlite:
        assert "kartei.db" in {p.name for p in files}  # -wal/-shm too while they exist
    for path in files:
        assert _found_in(path.read_bytes()) == [], path
    if not store.db.is_sqlite:
        assert _found_in(_postgres_text(database_url)) == []
    assert len(_files(firm.data_dir / "archive")) < len(documents)
    # Read models rebuilt from the log find nothing of the person either.
    code, output = await asyncio.to_thread(firm.cli, "rebuild")
    assert code == 0, output
    if not store.db.is_sqlite:
        assert _found_in(_postgres_text(database_url)) == []
    else:
        rows = await asyncio.to_thread(_sqlite_rows, firm.config.parent / "kartei.db")
        assert _found_in(rows) == []

    # The log keeps its events; counts stay; the other customer's history is whole.
    fresh = EventStore(Database(database_url))
    await fresh.start()
    try:
        after = await _counts(fresh)
        assert after - Counter({"ContactErased": 1}) == before
        erased = await fresh.read_stream(f"contact-{firm.person}")
        assert erased[0].erased and erased[0].event.given_name == ""  # type: ignore[attr-defined]
        marker = erased[-1].event
        assert isinstance(marker, ContactErased) and marker.by.startswith("cli")
        assert marker.overridden_holds == ("business_letters",)
        assert marker.justification.startswith("Art. 17") and marker.documents >= 4
        mails = [r for r in await fresh.read_all(0, 1000) if isinstance(r.event, EmailReceived)]
        kept = [r.event for r in mails if not r.erased]
        assert [m.sender for m in kept] == [OTHER_EMAIL] and OTHER_SENTENCE in kept[0].text
        assert _archive_holds(firm, kept[0].raw_ref)
        assert len(mails) == 2 and sum(r.erased for r in mails) == 1
    finally:
        await fresh.close()
    code, output = await asyncio.to_thread(firm.cli, "contacts", "find", "Bleibt")
    assert code == 0 and "Berta" in output
    code, output = await asyncio.to_thread(firm.cli, "privacy", "audit")
    assert f"gelöschter Kontakt ({firm.person})" in output  # German unless configured


# Fields that name the person in events that are not theirs alone to write: a staff alert,
# a classification correction, the fax's file name (and, in mail, the Message-IDs).
_NAMING = {
    "AlertSent": ("subject",),
    "ClassificationCorrected": ("text_subject",),
    "FaxReceived": ("document_name", "message_id"),
    "EmailReceived": ("message_id",),
}


async def _named_in_sealed_fields_only(store: EventStore) -> None:
    """The events carry the person's name or address, readable, but not in plain JSON."""
    async with store.db.read() as conn:
        query = sa.select(events.c.type, events.c.data).where(events.c.type.in_(list(_NAMING)))
        rows = list(await conn.execute(query))
    assert {t for t, _ in rows} == set(_NAMING)
    for type_name, data in rows:
        assert _found_in(data.encode()) == [], (type_name, data)
    naming: dict[tuple[str, str], bool] = {}
    for r in await store.read_all(0, 1000, types=tuple(_NAMING)):
        for name in _NAMING[r.type_name]:
            value = str(getattr(r.event, name)).encode()
            naming[r.type_name, name] = naming.get((r.type_name, name)) or bool(_found_in(value))
    assert naming and all(naming.values()), naming
    # The capture keys (plain, for exactly-once) hold the Message-IDs only as hashes.
    async with store.db.read() as conn:
        keys = (await conn.execute(sa.select(events.c.idempotency_key))).scalars()
        assert _found_in(repr(list(keys)).encode()) == []


def _archive_holds(firm: Firm, ref: str) -> bool:
    return firm.archive.get(ref).find(OTHER_SENTENCE.encode()) >= 0
