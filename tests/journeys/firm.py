"""The demo firm running as it does at a customer's: a real Kartei and a real Chromium.

Everything reaches Kartei through its real intake paths: mail over SMTP to the journal
intake, faxes over SMTP to the fax address on the same listener, calls from the
FRITZ!Box call monitor peer and as sipgate.io webhooks over HTTP. Nothing writes events
or rows directly. The read models and policies run behind the intake, so the journeys
wait for what the user sees: a page is reloaded until it shows it (under a timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Locator, Page, async_playwright

from adapters.mail.smtp import SmtpJournalIntake
from hub.bootstrap import Kartei, bootstrap, components
from hub.contacts.decisions import create
from hub.demo import customers
from hub.events import Metadata, NewEvent
from hub.runtime import Supervisor
from hub.settings import Settings
from hub.store import EventStore
from tests.classifier.telegram_peer import BotApiPeer
from tests.telephony.peers import FritzBoxPeer
from tests.web.conftest import FAST_HASHER, PASSWORD, make_settings
from tests.web.live import CHROMIUM_ARGS, Live

BERLIN = ZoneInfo("Europe/Berlin")
WEBHOOK_TOKEN = "journeys-webhook-token-4711"
FIRM = "info@firma.example"
FAX_ADDRESS = "fax@firma.example"
STAFF_CHATS = {"mk": 1001, "sw": 1002, "jb": 1003, "al": 1004}  # the demo contacts' owners
DEMO = dict(customers())


async def add_demo_contacts(store: EventStore) -> None:
    """The firm's customers as `kartei init --demo` adds them: the state a journey starts in."""
    meta = Metadata(source="demo")
    async with store.transaction() as tx:
        for contact_id, card in DEMO.items():
            event = NewEvent(create(contact_id, card), f"demo:{contact_id}", meta)
            await tx.append(f"contact-{contact_id}", None, [event])


def demo(contact_id: str) -> dict[str, Any]:
    """A demo customer's card as `hub.demo.customers()` makes it."""
    return DEMO[contact_id]


@dataclass
class Firm(Live):
    """A running Kartei on the demo firm's contacts, its intake addresses and a browser."""

    smtp_port: int = 0
    bot: BotApiPeer | None = None
    shots: Path = field(default_factory=Path)

    async def deliver(self, message: EmailMessage, to: Sequence[str] = (FIRM,)) -> None:
        """Sends a message to Kartei's SMTP intake; returns once it answered 250."""
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        sender = str(message["From"]).rsplit("<", 1)[-1].rstrip(">")
        await asyncio.to_thread(_send, self.smtp_port, sender, list(to), raw)

    async def sipgate(self, **fields: str | list[str]) -> httpx.Response:
        """Posts one sipgate.io push (form fields as sipgate sends them) to the webhook."""
        body = {("user[]" if k == "user" else k.rstrip("_")): v for k, v in fields.items()}
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            answer = await http.post(f"/telephony/sipgate/{WEBHOOK_TOKEN}", data=body)
        assert answer.status_code == 200, answer.text
        return answer

    async def shot(self, page: Page, name: str) -> None:
        """A screenshot of the key step (kept in the test's tmp_path)."""
        await page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    async def shown(self, page: Page, path: str, selector: str, seconds: float = 30) -> Locator:
        """Opens `path`, reloading until `selector` is on the page; its locator."""
        locator = page.locator(selector)
        try:
            async with asyncio.timeout(seconds):
                await page.goto(self.base_url + path)
                while not await locator.count():
                    await asyncio.sleep(0.25)  # the read models run behind the intake
                    await page.reload()
        except TimeoutError:
            text = await page.locator("body").inner_text()
            raise AssertionError(
                f"{selector!r} not on {path} after {seconds} s; the page shows:\n{text[:3000]}"
            ) from None
        return locator


def _send(port: int, sender: str, to: list[str], raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        refused = smtp.sendmail(sender, to, raw)
    assert not refused, refused


def email(
    sender: str, subject: str, text: str, *, to: str = FIRM, at: datetime | None = None
) -> EmailMessage:
    """A plain customer email as a mail client writes it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(at or datetime.now(BERLIN))
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">"))
    message.set_content(text)
    return message


def monitor_line(at: datetime, kind: str, call_id: int, *fields: str) -> str:
    """One FRITZ!Box call monitor line, stamped in the box's local time."""
    stamp = at.astimezone(BERLIN).strftime("%d.%m.%y %H:%M:%S")
    return ";".join([stamp, kind, str(call_id), *fields]) + ";"


async def _close_policies(kartei: Kartei) -> None:
    """Stops the classifier's thread and closes the alert channels' connections."""
    for runner in kartei.policies.values():
        policy: Any = runner.policy
        if hasattr(policy, "deliverer"):
            for channel in policy.deliverer.channels:
                await channel.close()
        elif hasattr(policy, "close"):
            policy.close()


def _settings(
    tmp_path: Path, peer: FritzBoxPeer, bot: BotApiPeer | None, models: Path | None
) -> Settings:
    alerts: dict[str, Any] = {"digest_enabled": False, "retry_initial_seconds": 0.2}
    if bot is not None:
        alerts["telegram"] = {"bot_token": bot.token, "base_url": bot.base_url}
        alerts["staff"] = [{"name": n, "telegram_chat_id": c} for n, c in STAFF_CHATS.items()]
    classifier: dict[str, Any] = {"enabled": models is not None}
    if models is not None:
        classifier |= {"cache_dir": models, "worker": "thread"}
    return make_settings(
        tmp_path,
        web={"host": "127.0.0.1", "port": 0},
        contacts={"own_area_code": "30"},
        telephony={
            "fritzbox": [{"name": "fritzbox", "host": "127.0.0.1", "port": peer.port}],
            "webhook_token": WEBHOOK_TOKEN,
        },
        mail={"own_domains": ["firma.example"], "smtp": {"enabled": True, "port": 0}},
        fax={"enabled": True, "smtp_listener": "mail", "accept_recipients": [FAX_ADDRESS]},
        classifier=classifier,
        alerts=alerts,
    )


@contextlib.asynccontextmanager
async def running_firm(
    store: EventStore, tmp_path: Path, *, models: Path | None = None, alerts: bool = False
) -> AsyncIterator[Firm]:
    """Kartei with every default projection, policy and adapter, on the demo contacts.

    `models`: the classifier's model cache (the classifier is off without it); `alerts`:
    alerts go to a local Telegram Bot API peer (`firm.bot`).
    """
    async with contextlib.AsyncExitStack() as stack:
        peer = FritzBoxPeer()
        await peer.start()
        stack.push_async_callback(peer.close)
        bot = BotApiPeer() if alerts else None
        if bot is not None:
            await bot.start()
            stack.push_async_callback(bot.stop)
        await add_demo_contacts(store)
        kartei = bootstrap(_settings(tmp_path, peer, bot, models), store=store)
        assert kartei.web is not None
        kartei.web.app.state.accounts.hasher = FAST_HASHER
        await kartei.web.app.state.accounts.add("anna", PASSWORD, role="admin", display_name="Anna")
        stack.push_async_callback(_close_policies, kartei)
        stack.push_async_callback(kartei.web.app.state.pop.close)
        await stack.enter_async_context(_supervised(kartei))
        smtp_port = await _ready(kartei, peer, models is not None)
        pw = await stack.enter_async_context(async_playwright())
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        stack.push_async_callback(browser.close)
        base_url = f"http://127.0.0.1:{kartei.web.bound_port}"
        shots = tmp_path / "screenshots"
        shots.mkdir()
        yield Firm(kartei, base_url, peer, browser, smtp_port, bot, shots)


@contextlib.asynccontextmanager
async def _supervised(kartei: Kartei) -> AsyncIterator[None]:
    """Every component running under the supervisor, as `kartei run` runs them."""
    task = asyncio.create_task(Supervisor(kartei.health).run(components(kartei, web=True)))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _ready(kartei: Kartei, peer: FritzBoxPeer, classifier: bool) -> int:
    """Waits until web, SMTP intake and call monitor listen and the demo contacts are known
    (and the model is loaded); the SMTP intake's port."""
    assert kartei.web is not None
    [smtp] = [a for a in kartei.adapters if isinstance(a, SmtpJournalIntake)]
    async with asyncio.timeout(30):
        await kartei.web.ready.wait()
        await smtp.ready.wait()
        await peer.wait_connections(1)
        head = await kartei.store.head()
        for name in ("contacts", "identity"):
            await kartei.projections[name].wait_for(head)
        if classifier:  # loading takes seconds; the first mail would wait for it
            await kartei.policies["classifier"].policy.model()  # type: ignore[attr-defined]
    assert smtp.bound_port is not None
    return smtp.bound_port
