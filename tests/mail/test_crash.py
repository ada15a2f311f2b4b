"""`kartei run` killed with SIGKILL mid-capture loses nothing and duplicates nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import smtplib
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.events.mail import EmailReceived
from hub.store import EventStore
from tests.mail import messages
from tests.mail.conftest import imap_login
from tests.mail.dovecot import Dovecot, free_port

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, database_url: str, mail: str) -> Path:
    path = tmp_path / "kartei.toml"
    path.write_text(
        f'[kartei]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
        f'[web]\nport = 0\n[logging]\nlevel = "WARNING"\n'
        f'[mail]\nown_domains = ["firma.example"]\n{mail}'
    )
    return path


@contextmanager
def kartei_run(config: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The real `kartei run` in its own process."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from hub.cli import main; main()", "run", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def until(check: Callable[[], object], seconds: float = 150) -> None:
    """Polls `check` until it holds; generous: CI machines under load are slow."""
    async with asyncio.timeout(seconds):
        while not await check():  # type: ignore[misc]  # noqa: ASYNC110 - poll under a timeout
            await asyncio.sleep(0.05)


async def received(store: EventStore) -> list[EmailReceived]:
    return [
        r.event
        for r in await store.read_all(0, 100_000, types=["EmailReceived"])
        if isinstance(r.event, EmailReceived)
    ]


async def appended_twice(store: EventStore) -> list[str]:
    """Streams with more than one event: a message stored twice, or a re-read taken for a
    sighting in another mailbox (EmailSeenInMailbox): neither may come from a crash."""
    mail = ["EmailReceived", "EmailSent", "EmailSeenInMailbox", "CaptureFailed"]
    streams = Counter(r.stream for r in await store.read_all(0, 100_000, types=mail))
    return sorted(s for s, n in streams.items() if n > 1)


async def imap_checkpoint(store: EventStore) -> int:
    try:
        async with store.db.read() as conn:
            row = await conn.execute(sa.text("SELECT max(last_uid) FROM imap_checkpoints"))
            return int(row.scalar_one() or 0)
    except sa.exc.DBAPIError:
        return 0  # the table does not exist yet


async def test_sigkill_during_imap_first_sync(
    tmp_path: Path,
    database_url: str,
    make_store: Callable[..., EventStore],
    dovecot: Dovecot,
    mailbox_user: str,
) -> None:
    # Six commits of 200 (adapters/imap/sync.CHUNK); the kill lands after the second.
    total, kill_after = 1200, 400
    imap = imap_login(dovecot, mailbox_user)
    imap.multiappend("INBOX", [messages.simple(n) for n in range(total)])
    imap.logout()
    account = (
        f'[[mail.imap]]\nname = "info"\nhost = "127.0.0.1"\nport = {dovecot.port}\n'
        f'security = "none"\nusername = "{mailbox_user}"\npassword = "{Dovecot.PASSWORD}"\n'
    )
    config = write_config(tmp_path, database_url, account)
    store = await make_store()  # type: ignore[misc]
    with kartei_run(config) as process:
        await until(lambda: _between(imap_checkpoint(store), kill_after, total - 1))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert kill_after <= len(await received(store)) < total  # really killed mid-sync
    with kartei_run(config):
        await until(lambda: _at_least(received(store), total))
    ids = [e.message_id for e in await received(store)]
    assert len(ids) == total and set(ids) == {f"<msg-{n}@kunde.example>" for n in range(total)}
    assert await appended_twice(store) == []


async def test_sigkill_during_smtp_deliveries(
    tmp_path: Path, database_url: str, make_store: Callable[..., EventStore]
) -> None:
    port = free_port()
    config = write_config(tmp_path, database_url, f"[mail.smtp]\nenabled = true\nport = {port}\n")
    store = await make_store()  # type: ignore[misc]
    # The volume: 2,000 deliveries over 4 connections, killed about a third in.
    per_connection, kill_at, acked = 500, 700, set[int]()

    def deliver(numbers: list[int]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                for n in numbers:
                    smtp.sendmail("mx@firma.example", ["j@kartei.example"], messages.simple(n))
                    acked.add(n)
        except (smtplib.SMTPException, OSError):
            pass  # the server died: what was not acknowledged is retried later

    with kartei_run(config) as process:
        await until(lambda: _connectable(port))
        senders = [
            asyncio.to_thread(deliver, list(range(i * per_connection, (i + 1) * per_connection)))
            for i in range(4)
        ]
        killer = asyncio.create_task(_kill_after(process, lambda: len(acked) >= kill_at))
        await asyncio.gather(*senders)
        await killer
    assert kill_at <= len(acked) < 4 * per_connection
    assert {e.message_id for e in await received(store)} >= {
        f"<msg-{n}@kunde.example>" for n in acked
    }  # every 250 was committed before it was sent
    with kartei_run(config):
        await until(lambda: _connectable(port))
        missing = sorted(set(range(4 * per_connection)) - acked)
        # The sending MTA retries what got no 250.
        await asyncio.gather(*(asyncio.to_thread(deliver, missing[i::4]) for i in range(4)))
    ids = [e.message_id for e in await received(store)]
    assert len(ids) == 4 * per_connection == len(set(ids))
    assert await appended_twice(store) == []  # a redelivered message added nothing


async def _kill_after(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    async with asyncio.timeout(150):
        while not ready():  # noqa: ASYNC110 - poll under a timeout
            await asyncio.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


async def _between(value: object, low: int, high: int) -> bool:
    got = await value  # type: ignore[misc]
    return bool(low <= got <= high)


async def _at_least(value: object, n: int) -> bool:
    return len(await value) >= n  # type: ignore[misc]


async def _connectable(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
