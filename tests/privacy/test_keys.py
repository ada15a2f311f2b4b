"""Subject keys: sealed events name an opaque key id, never the subject; a process that
sees another process's erasure drops its cached keys (both databases)."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.events.mail import EmailReceived
from hub.events.privacy import ContactErased
from hub.privacy.dossier import sealed_positions
from hub.store import ANY, NO_STREAM, EventStore
from hub.store.schema import events

ADDRESS = "greta.geheim@kunde.example"


def mail(subject: str) -> EmailReceived:
    return EmailReceived(sender=ADDRESS, subject=subject, raw_ref="sha256:" + "0" * 64)


async def test_the_log_names_no_subject(store: EventStore) -> None:
    await store.append("email-1", NO_STREAM, [mail("Hallo")])
    async with store.db.read() as conn:
        [data] = (await conn.execute(sa.select(events.c.data))).scalars()
    assert ADDRESS not in data and "greta" not in data and '"k":' in data


async def test_an_erasure_elsewhere_clears_this_process_keys(
    make_store: Callable[..., asyncio.Future[EventStore]],
) -> None:
    here, there = await make_store(), await make_store()
    await here.append("email-1", NO_STREAM, [mail("eins")])
    assert here.keys.cached(f"email:{ADDRESS}") is not None
    reader = here.subscribe(0)
    assert [r.stream for r in await anext(reader)] == ["email-1"]
    async with there.transaction() as tx:
        assert await there.keys.erase(tx.connection, f"email:{ADDRESS}")
        await tx.append("contact-c1", ANY, [ContactErased(contact_id="c1", by="test")])
    async with asyncio.timeout(20):
        while not any(r.type_name == "ContactErased" for r in await anext(reader)):
            pass
    assert here.keys.cached(f"email:{ADDRESS}") is None
    await here.append("email-2", NO_STREAM, [mail("zwei")])  # a new key, not the erased one
    fresh = await make_store()
    [old] = await fresh.read_stream("email-1")
    [new] = await fresh.read_stream("email-2")
    assert old.erased and not new.erased and new.event.subject == "zwei"  # type: ignore[attr-defined]
    await reader.aclose()


async def test_events_sealed_before_key_ids_still_open_and_erase(store: EventStore) -> None:
    """An event from before migration 0004 names its subject; it opens, is found for an
    erasure, and reads as erased once the subject's key is gone."""
    subject = f"email:{ADDRESS}"
    async with store.transaction() as tx:
        key = await store.keys.key_for_writing(tx.connection, subject, tx.created_keys)
    store.keys.clear()
    nonce = os.urandom(12)
    plain = orjson.dumps({"sender": ADDRESS, "subject": "alt", "raw_ref": ""})
    cipher = AESGCM(key.key).encrypt(nonce, plain, subject.encode())
    sealed = {"$pd": {"s": subject, "c": base64.b64encode(nonce + cipher).decode()}}
    row = {"position": 1, "stream": "email-old", "version": 1, "type": "EmailReceived",
           "data": orjson.dumps(sealed).decode(), "metadata": '{"schema_version": 1}',
           "idempotency_key": None, "recorded_at": datetime.now(UTC)}  # fmt: skip
    async with store.db.write() as conn:
        await conn.execute(sa.insert(events).values(**row))
    [old] = await store.read_stream("email-old")
    assert old.event.subject == "alt" and not old.erased  # type: ignore[attr-defined]
    assert await sealed_positions(store, [subject]) == [1]
    async with store.db.write() as conn:
        assert await store.keys.erase(conn, subject)
    [gone] = await EventStore(store.db).read_stream("email-old")
    assert gone.erased and gone.event.subject == ""  # type: ignore[attr-defined]
