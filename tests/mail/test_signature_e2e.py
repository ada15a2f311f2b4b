"""End to end: a contact's email signature carries a number; a later call from it is theirs."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from collections.abc import Awaitable, Callable
from pathlib import Path

from adapters.mail.pipeline import MailIntake
from hub.bootstrap import bootstrap, run
from hub.contacts.service import ContactService
from hub.events import Recorded
from hub.events.tasks import TaskOpened
from hub.settings import settings_from_dict
from hub.store import EventStore
from tests.mail import messages
from tests.mail.dovecot import free_port
from tests.telephony.peers import FritzBoxPeer

SIGNATURE = "Guten Tag,\nbitte rufen Sie mich an.\n\n-- \nAnna Schulz\nTel.: 030 555111\n"


async def until(check: Callable[[], Awaitable[object]], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.05)


async def callback_tasks(store: EventStore) -> list[TaskOpened]:
    found = await store.read_all(0, 1000, types=["TaskOpened"])
    return [r.event for r in found if isinstance(r.event, TaskOpened)]


async def test_number_from_a_signature_recognises_a_later_call(
    database_url: str, tmp_path: Path
) -> None:
    port, peer = free_port(), FritzBoxPeer()
    await peer.start()
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path / "data")},
            "database": {"url": database_url},
            "contacts": {"own_area_code": "30"},
            "mail": {"own_domains": ["firma.example"], "smtp": {"enabled": True, "port": port}},
            "telephony": {"fritzbox": [{"name": "office", "host": "127.0.0.1", "port": peer.port}]},
        }
    )
    kartei = bootstrap(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop, web=False))
    try:
        await peer.wait_connections(1)
        anna = await ContactService(kartei.store).create(
            {"given_name": "Anna", "family_name": "Schulz", "emails": ("anna@kunde.example",)}
        )
        identity = kartei.projections["identity"]
        head = await kartei.store.head()
        await asyncio.wait_for(identity.wait_for(head), 30)
        raw = messages.simple(1, sender="Anna Schulz <anna@kunde.example>", body=SIGNATURE)

        def deliver() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                smtp.sendmail("mx@firma.example", ["info@firma.example"], raw)

        await asyncio.to_thread(deliver)

        async def offered() -> list[Recorded]:
            return await kartei.store.read_all(0, 100, types=["SignatureNumberFound"])

        await until(offered)
        [found] = await offered()
        await asyncio.wait_for(identity.wait_for(found.position), 30)
        async with kartei.store.db.read() as conn:
            match = await kartei.projection("identity").lookup_number(conn, "030 555111")  # type: ignore[attr-defined]
        assert (match.contact_id, match.how) == (anna, "signature")
        # A missed call from that number: the call-back task is Anna's.
        await peer.send(
            ["02.03.26 09:00:00;RING;0;555111;3012345;SIP0;", "02.03.26 09:00:09;DISCONNECT;0;0;"]
        )

        async def called_back() -> bool:
            return bool(await callback_tasks(kartei.store))

        await until(called_back)
        [task] = await callback_tasks(kartei.store)
        assert (task.kind, task.contact_id) == ("callback", anna)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, 30)
        await peer.close()
        for adapter in kartei.adapters:  # the app leaves its parsing processes running
            intake = getattr(adapter, "intake", None)
            if isinstance(intake, MailIntake):
                intake.close()
