"""Contact card server time with a long history: GET /contacts/<id> in the real app.

Seeds one customer with N history entries (emails in and out, some threaded and with
attachments, calls, faxes, notes) among other customers' traffic, brings the projections
up to date, then times in-process requests (ASGI, the whole app: session check, queries,
opening the sealed personal fields, template). The baseline, measured in the same run and
on the same data, is the bare timeline query: one page of rows for the contact, no
decryption, no rendering. Target: a card with 5,000 entries under 200 ms.

    python bench/card.py                       # 5,000 entries, 2,000 contacts, SQLite
    python bench/card.py --quick               # 1,000 entries, 500 contacts
    python bench/card.py --database postgresql # on a fresh PostgreSQL database

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from hub.archive import Archive
from hub.bootstrap import bootstrap, default_projections
from hub.events import NewEvent
from hub.events.calls import CallAnswered, CallEnded, CallRinging
from hub.events.contacts import ContactCreated, Phone
from hub.events.fax import FaxReceived
from hub.events.mail import Attachment, EmailReceived, EmailSent
from hub.events.notes import NoteAdded
from hub.settings import Settings
from hub.store import Database, EventStore
from hub.web.app import create_app
from hub.web.data import parties_of

PG_ADMIN_URL = os.environ.get("KARTEI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-passwort"
T0 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
CUSTOMER = "c0000000"
ROUNDS = 15


def number(i: int) -> str:
    return f"+49301{i:07d}"


def history_event(i: int, archive: Archive, png: str) -> tuple[str, list[Any]]:
    """The i-th entry of the customer's history: a stream and its events."""
    at = T0 + timedelta(minutes=37 * i)
    kind = i % 10
    if kind < 5:  # emails: in, and every third a reply from the firm in the same thread
        root = f"<r{i - i % 3}@kunde.example>"
        cls = EmailSent if i % 3 == 1 else EmailReceived
        sender, to = (
            ("info@firma.example", ("kunde0@example.org",))
            if cls is EmailSent
            else ("kunde0@example.org", ("info@firma.example",))
        )
        attachments = (
            (
                Attachment(
                    name=f"Angebot {i}.pdf", content_type="application/pdf", size=20_000, ref=png
                ),
            )
            if i % 7 == 0
            else ()
        )
        mail = cls(
            message_id=f"<m{i}@kunde.example>",
            sender=sender,
            to=to,
            subject=f"Anfrage Dachrinne Nr. {i}",
            text="Guten Tag, die Rinne über der Garage ist undicht. " * 8,
            references=(root,) if i % 3 else (),
            in_reply_to=root if i % 3 else None,
            attachments=attachments,
            date=at,
        )
        return f"email-{uuid.uuid4().hex}", [mail]
    if kind < 8:
        call_id = uuid.uuid4().hex[:10]
        missed = kind == 7
        events: list[Any] = [
            CallRinging(call_id=call_id, source="bench", line="1", caller=number(0), at=at)
        ]
        if not missed:
            events.append(CallAnswered(call_id=call_id, source="bench", extension="21", at=at))
        events.append(
            CallEnded(
                call_id=call_id,
                source="bench",
                cause="missed" if missed else "answered",
                duration_seconds=0 if missed else 120,
                number=number(0),
                at=at,
            )
        )
        return f"call-bench-{call_id}", events
    if kind == 8:
        fax = FaxReceived(
            sender=number(0),
            pages=2,
            received_at=at,
            subject="Fax",
            document_name="fax.pdf",
            document_type="application/pdf",
            document_size=30_000,
            document_ref=png,
            preview_ref=png,
            text="Bestellung 20 Dachziegel " * 30,
            ocr_status="done",
        )
        return f"fax-{uuid.uuid4().hex}", [fax]
    note = NoteAdded(note_id=uuid.uuid4().hex, contact_id=CUSTOMER, text=f"Rückruf {i}", by="anna")
    return f"contact-{CUSTOMER}", [note]


async def seed(store: EventStore, archive: Archive, contacts: int, history: int) -> None:
    png = archive.put(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    for start in range(0, contacts, 500):
        async with store.transaction() as tx:
            for i in range(start, min(start + 500, contacts)):
                event = ContactCreated(
                    contact_id=f"c{i:07d}",
                    given_name=f"Vorname{i}",
                    family_name=f"Nachname{i}",
                    phones=(Phone(number=number(i)),),
                    emails=(f"kunde{i}@example.org",),
                )
                await tx.append(f"contact-c{i:07d}", 0, [NewEvent(event)])
    # The customer's history, and as much again from other customers around it.
    for start in range(0, history, 500):
        async with store.transaction() as tx:
            for i in range(start, min(start + 500, history)):
                stream, events = history_event(i, archive, png)
                await tx.append(stream, None, [NewEvent(e) for e in events])
                other = EmailReceived(
                    message_id=f"<o{i}@example.org>",
                    sender=f"kunde{1 + i % (contacts - 1)}@example.org",
                    subject=f"Andere Sache {i}",
                    text="Hallo " * 50,
                    date=T0 + timedelta(minutes=37 * i + 1),
                )
                await tx.append(f"email-{uuid.uuid4().hex}", 0, [NewEvent(other)])


async def timed(run: Callable[[], Awaitable[Any]], rounds: int = ROUNDS) -> dict[str, float]:
    await run()  # warm caches and prepared statements once
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "min": round(min(samples), 2),  # the least disturbed by other work on the machine
        "p50": round(statistics.median(samples), 2),
        "max": round(max(samples), 2),
    }


@contextlib.asynccontextmanager
async def database(kind: str, directory: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory}/kartei.db"
        return
    name = f"kartei_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main(history: int, contacts: int, kind: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        async with database(kind, Path(tmp)) as url:
            return await measure(Path(tmp), url, history, contacts)


async def measure(data_dir: Path, url: str, history: int, contacts: int) -> dict[str, Any]:
    settings = Settings(kartei={"data_dir": data_dir}, database={"url": url})  # type: ignore[arg-type]
    store = EventStore(Database(url))
    await store.start()
    kartei = bootstrap(
        settings, store=store, projections=default_projections(settings), policies=[], adapters=[]
    )
    app = create_app(kartei)
    app.state.accounts.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        started = time.perf_counter()
        await seed(store, Archive(data_dir / "archive"), contacts, history)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        for runner in kartei.projections.values():
            await runner.prepare()
            await runner.catch_up()
        projected = time.perf_counter() - started
        await app.state.accounts.add("bench", PASSWORD)
        figures = await requests(kartei, app, history)
    finally:
        await app.state.pop.close()
        await store.close()
    figures.update(seed_seconds=round(seeded, 1), projection_seconds=round(projected, 1))
    figures["database"] = make_url(url).get_backend_name()
    return figures


async def requests(kartei: Any, app: Any, history: int) -> dict[str, Any]:
    timeline = kartei.projections["timeline"].projection
    async with kartei.store.db.read() as conn:
        contact = await kartei.projections["contacts"].projection.get(conn, CUSTOMER)
    t = timeline.entries

    async def bare_query() -> None:  # the baseline: one page of rows, nothing else
        async with kartei.store.db.read() as conn:
            query = (
                sa.select(t)
                .where(t.c.contact_id == CUSTOMER)
                .order_by(t.c.at.desc(), t.c.position.desc())
                .limit(51)
            )
            rows = (await conn.execute(query)).all()
            assert len(rows) == 51

    async def or_query() -> None:  # the shape before: ids OR parties in one WHERE
        parties = timeline.parties
        linked = sa.select(parties.c.entry_id).where(parties.c.party.in_(parties_of(contact)))
        query = (
            sa.select(t)
            .where(sa.or_(t.c.contact_id == CUSTOMER, t.c.entry_id.in_(linked)))
            .order_by(t.c.at.desc(), t.c.position.desc())
            .limit(51)
        )
        async with kartei.store.db.read() as conn:
            assert len((await conn.execute(query)).all()) == 51

    async def ids_query() -> None:  # the card's first step: the page's ids only
        async with kartei.store.db.read() as conn:
            query = timeline.contact_query([CUSTOMER], parties_of(contact)).limit(51)
            assert len((await conn.execute(query)).all()) == 51

    async def page_query() -> None:  # the card's query with its personal fields opened
        async with kartei.store.db.read() as conn:
            entries = await timeline.for_contact(conn, [CUSTOMER], parties_of(contact), limit=51)
            assert len(entries) == 51 and all(
                e.data.get("subject") or e.data.get("text") for e in entries
            )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kartei.bench") as http:
        form = await http.get("/login")
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        await http.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": token})

        def get(path: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                response = await http.get(path)
                assert response.status_code == 200 and 'class="entry ' in response.text, path

            return run

        last_page = (history - 1) // 50
        return {
            "benchmark": "card",
            "card_history_entries": history,
            "baseline_bare_query_ms": await timed(bare_query),
            "or_query_rows_ms": await timed(or_query),
            "page_ids_query_ms": await timed(ids_query),
            "timeline_page_opened_ms": await timed(page_query),
            "card_first_page_ms": await timed(get(f"/contacts/{CUSTOMER}")),
            "card_last_page_ms": await timed(get(f"/contacts/{CUSTOMER}?page_no={last_page}")),
            "card_emails_only_ms": await timed(get(f"/contacts/{CUSTOMER}?kind=email")),
            "target_card_ms": 200,
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    entries, others = (1_000, 500) if args.quick else (5_000, 2_000)
    figures = asyncio.run(main(entries, others, args.database))
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures))
