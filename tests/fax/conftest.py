"""Fixtures of the fax tests: documents made once per module, the SMTP fax intake, contacts."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.fax.intake import FaxIntake, FaxRules, FaxSmtpIntake
from adapters.fax.profiles import load_profiles
from adapters.mail.smtp import IntakeRules
from hub.archive import Archive
from hub.capture import Capture
from hub.events import Recorded
from hub.health import ComponentHealth
from hub.store import EventStore
from tests.contacts.conftest import Directory, contacts, phone  # noqa: F401 (fixture)
from tests.fax import documents

FAX_ADDRESS = "fax@kartei.example"
PROFILES = load_profiles()


@dataclass
class Documents:
    g4_two_pages: bytes
    g3_coarse: bytes
    scanned: bytes
    text_layer: bytes


@pytest.fixture(scope="module")
def docs() -> Documents:
    two = [documents.GERMAN, documents.ENGLISH]
    return Documents(
        g4_two_pages=documents.tiff(two),
        g3_coarse=documents.tiff([documents.ENGLISH], compression="group3", fine=False),
        scanned=documents.scanned_pdf(two),
        text_layer=documents.text_pdf(two),
    )


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive")


@dataclass
class FaxServer:
    adapter: FaxSmtpIntake
    capture: Capture
    task: asyncio.Task[None]

    @property
    def port(self) -> int:
        assert self.adapter.bound_port is not None
        return self.adapter.bound_port


@pytest.fixture
async def start_server(
    store: EventStore, archive: Archive
) -> AsyncIterator[Callable[..., asyncio.Future[FaxServer]]]:
    """Starts the real fax SMTP intake on a free port; stops it after the test."""
    servers: list[FaxServer] = []

    async def start(rules: FaxRules | None = None, max_message: int = 4_000_000) -> FaxServer:
        intake = FaxIntake(archive, rules or FaxRules(PROFILES, max_attachment_bytes=1_000_000))
        smtp_rules = IntakeRules.of([FAX_ADDRESS], ["127.0.0.0/8"], max_message)
        adapter = FaxSmtpIntake("127.0.0.1", 0, smtp_rules, intake)  # type: ignore[arg-type]
        capture = Capture(store, adapter.name, ComponentHealth("adapter:fax-smtp"))
        task = asyncio.create_task(adapter.run(capture))
        async with asyncio.timeout(10):
            await adapter.ready.wait()
        servers.append(FaxServer(adapter, capture, task))
        return servers[-1]

    yield start  # type: ignore[misc]
    for server in servers:
        server.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server.task


def send(port: int, raw: bytes, rcpt: str = FAX_ADDRESS) -> int:
    """One delivery with the standard library's SMTP client; the final reply code."""
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        client.ehlo("fritz.box")
        code, _ = client.mail("fritzbox@firma.example")
        if code != 250:
            return code
        code, _ = client.rcpt(rcpt)
        if code != 250:
            return code
        try:
            return client.data(raw)[0]
        except smtplib.SMTPDataError as err:
            return err.smtp_code
        except smtplib.SMTPSenderRefused as err:
            return err.smtp_code


async def deliver(port: int, raw: bytes) -> int:
    return await asyncio.to_thread(send, port, raw)


async def all_events(store: EventStore) -> list[Recorded]:
    return await store.read_all(0, 1000)
