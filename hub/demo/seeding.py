"""`kartei init --demo`: the demo firm's year, fed through Kartei's real intake paths.

Nothing of the history is written as rows or appended by hand: Kartei runs in this process
with its real adapters, projections and policies, and the demo delivers mail and faxes to
its SMTP intake, plays calls on a FRITZ!Box call monitor it connects to, pushes today's
sipgate webhooks, and types notes and tasks into the web app as a logged-in user. The
classifier labels what customers wrote and the churn rule flags the customer who
complained three times. The contacts are the firm's existing card index (as an import
would bring them); the staff accounts are made as `kartei users add` makes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from zoneinfo import ZoneInfo

from hub.bootstrap import Kartei, bootstrap, run
from hub.contacts.decisions import create
from hub.demo import firm
from hub.demo.browser import LoginFailedError
from hub.demo.callmonitor import CallMonitor
from hub.demo.desk import staff_work
from hub.demo.history import year
from hub.demo.journal import journal
from hub.demo.messages import delivery
from hub.demo.people import customers
from hub.demo.script import Year
from hub.demo.settle import caught_up, lagging, recorded
from hub.demo.sipgate import push_calls
from hub.events import Metadata, NewEvent
from hub.proofs.setup import sign_now
from hub.settings import FritzBoxLine, Settings, load_settings
from hub.store import Database, EventStore
from hub.web.auth import Accounts, UserError

log = logging.getLogger(__name__)

CUSTOMERS = 300
LOOPBACK = "127.0.0.1"
# Far more than seeding takes on a slow machine; past it, something is stuck (see health).
FEED_SECONDS = 600.0


class SeedingError(RuntimeError):
    """The demo could not be seeded; the message says where it stuck."""


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the demo fed, and how long it took."""

    contacts: int
    mails: int
    calls: int
    notes: int
    tasks: int
    seconds: float
    classifier: str  # "on", or why it was off (then there are no complaints or praise)

    def summary(self) -> str:
        return (
            f"Seeded the demo firm {firm.NAME} in {self.seconds:.0f} s: {self.contacts} "
            f"contacts, {self.mails} mails and faxes, {self.calls} calls, {self.notes} notes, "
            f"{self.tasks} tasks (classifier: {self.classifier}). "
            f'Log in as "{firm.USER}" with the password "{firm.PASSWORD}".'
        )


def write_config(target: Path) -> None:
    """The demo firm's kartei.toml (over the example `kartei init` wrote)."""
    target.write_text(firm.CONFIG, encoding="utf-8")


async def seed_demo(config: Path, now: datetime | None = None) -> Seeded | None:
    """Seeds the demo firm into the configuration's store; None when it holds events already."""
    started = time.monotonic()
    settings = load_settings(config)
    contacts = await _card_index(settings)
    if contacts is None:
        return None
    tz = ZoneInfo(settings.kartei.timezone)
    moment = (now or datetime.now(tz)).astimezone(tz)
    script = year(customers(CUSTOMERS), moment)
    monitor = CallMonitor()
    await monitor.start()
    try:
        kartei = bootstrap(seeding_settings(settings, monitor.port))
        await _while_running(kartei, _feed(kartei, monitor, script, moment.date()))
    finally:
        await monitor.close()
    await _first_tree_head(settings)
    state = kartei.health.component("classifier")
    return Seeded(
        contacts,
        len(script.mails),
        len(script.calls) + len(script.live),
        len(script.notes),
        len(script.tasks),
        time.monotonic() - started,
        "on" if state.state == "ok" else str(state.details.get("why", state.state)),
    )


def seeding_settings(settings: Settings, box_port: int) -> Settings:
    """The configuration with the intake paths the demo feeds: free ports for the web and
    SMTP listeners, the demo's FRITZ!Box, the webhook token, faxes on the mail listener."""
    box = FritzBoxLine(name=firm.BOX, host=LOOPBACK, port=box_port)
    smtp = settings.mail.smtp.model_copy(update={"enabled": True, "host": LOOPBACK, "port": 0})
    fax = settings.fax.model_copy(
        update={"enabled": True, "smtp_listener": "mail", "accept_recipients": [firm.FAX_ADDRESS]}
    )
    return settings.model_copy(
        update={
            "web": settings.web.model_copy(update={"host": LOOPBACK, "port": 0}),
            "mail": settings.mail.model_copy(update={"smtp": smtp}),
            "fax": fax,
            "telephony": settings.telephony.model_copy(
                update={"fritzbox": [box], "webhook_token": firm.WEBHOOK_TOKEN}
            ),
        }
    )


async def _first_tree_head(settings: Settings) -> None:
    """Signs the archive's tree head over the seeded year, so the archive page shows a
    signed, checkable state from the start, not only after the first night's head."""
    store = EventStore(Database(settings.database_url))
    await store.start()
    try:
        head = await sign_now(settings, store)
    finally:
        await store.close()
    log.info("demo: tree head %d signed over %d events", head.id, head.size)


async def _card_index(settings: Settings) -> int | None:
    """The staff accounts and the firm's contacts, on an empty store; None if not empty."""
    kartei = bootstrap(settings, adapters=[], policies=[], projections=[])
    await kartei.store.start()
    try:
        if await kartei.store.head() > 0:
            return None
        await _staff_accounts(Accounts(kartei.store.db))
        return await add_contacts(kartei.store)
    finally:
        await kartei.store.close()


async def _staff_accounts(accounts: Accounts) -> None:
    people = [(firm.USER, "admin", "Demo"), *((s.username, "staff", s.name) for s in firm.STAFF)]
    for username, role, name in people:
        with contextlib.suppress(UserError):  # made by an earlier, interrupted seeding
            await accounts.add(username, firm.PASSWORD, role=role, display_name=name)


async def add_contacts(store: EventStore, count: int = CUSTOMERS) -> int:
    """Appends the demo customers (idempotent: adding them twice adds nothing)."""
    meta = Metadata(source="demo")
    appended = 0
    async with store.transaction() as tx:
        for contact_id, card in customers(count):
            event = NewEvent(create(contact_id, card), f"demo:{contact_id}", meta)
            appended += (await tx.append(f"contact-{contact_id}", None, [event])).appended
    return appended


async def _while_running(kartei: Kartei, work: Coroutine[Any, Any, None]) -> None:
    """Runs Kartei until `work` is done (or Kartei stops by itself, which is an error)."""
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop), name="kartei")
    doing = asyncio.ensure_future(work)
    try:
        await asyncio.wait({running, doing}, return_when=asyncio.FIRST_COMPLETED)
        if not doing.done():
            raise SeedingError("Kartei stopped while the demo was being seeded")
        doing.result()
    finally:
        doing.cancel()
        stop.set()
        await running


async def _feed(kartei: Kartei, monitor: CallMonitor, script: Year, today: date) -> None:
    try:
        async with asyncio.timeout(FEED_SECONDS):
            await _feed_all(kartei, monitor, script, today)
    except TimeoutError:
        raise SeedingError(
            f"the demo was not seeded within {FEED_SECONDS:.0f} s; not running: {lagging(kartei)}"
        ) from None
    except (smtplib.SMTPException, HTTPError, LoginFailedError) as err:
        raise SeedingError(f"Kartei refused what the demo fed it: {err}") from err


async def _feed_all(kartei: Kartei, monitor: CallMonitor, script: Year, today: date) -> None:
    web, smtp_port = await _listening(kartei)
    await caught_up(kartei)  # the contacts in the directory and the caller index
    deliveries = [delivery(item) for item in script.mails]
    await asyncio.gather(
        asyncio.to_thread(journal, LOOPBACK, smtp_port, deliveries),
        _play(kartei, monitor, script),
    )
    log.info("demo: %d mails and faxes, %d calls recorded", len(deliveries), len(script.calls))
    await asyncio.to_thread(push_calls, web, script.live)
    await caught_up(kartei)  # classified, flagged, call-back tasks opened
    log.info("demo: classified and caught up")
    await asyncio.to_thread(staff_work, web, script.notes, script.tasks, today)
    await caught_up(kartei)


async def _play(kartei: Kartei, monitor: CallMonitor, script: Year) -> None:
    await monitor.play(script.calls)
    prefix = f"call-{firm.BOX}-"
    await recorded(kartei.store, ["CallEnded"], prefix, len(script.calls))


async def _listening(kartei: Kartei) -> tuple[str, int]:
    """The web app's URL and the SMTP intake's port, once both listen."""
    smtp = next(a for a in kartei.adapters if a.name == "smtp")
    assert kartei.web is not None
    await kartei.web.ready.wait()
    await smtp.ready.wait()  # type: ignore[attr-defined]
    return f"http://{LOOPBACK}:{kartei.web.bound_port}", int(smtp.bound_port)  # type: ignore[attr-defined]
