"""The disk under the database fills up while mail arrives, in a real `kartei run`.

The SQLite file lies on a small filesystem of its own (a tmpfs mounted for the test;
skipped where mounting is not allowed), the archive on the test's ordinary disk. Mail
keeps coming over SMTP until the database's disk is full and after. The sender is told
to try again (451) for anything not committed, never 250; the process keeps running and
says "degraded" in /healthz; once the admin makes room, the senders' retries store every
message exactly once, health is ok again, and the database is intact.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.hub.test_cli import free_port, kartei
from tests.hub.test_cluster import ring, until
from tests.mail.messages import simple
from tests.mail.test_smtp import send
from tests.telephony.peers import FritzBoxPeer
from tests.tmpfs import grow, small_tmpfs

pytestmark = pytest.mark.slow

SMTP_AT = '\nhost = "127.0.0.1"\nport = '
MESSAGES = 60  # about 40 KB of text each: more than the database's disk holds


@pytest.fixture
def db_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "db-disk", "1500k") as disk:
        yield disk


def configure(data: Path, database: Path | str, smtp: int, web: int) -> Path:
    """An installation with the SMTP intake on `database` (a SQLite file, or a URL)."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    assert kartei("init", str(data)).returncode == 0
    config = data / "kartei.toml"
    text = config.read_text()
    for old, new in (
        ("[database]\n", f'[database]\nurl = "{url}"\n'),
        ("port = 8080", f"port = {web}"),
        (
            'enabled = false\nhost = "127.0.0.1"\nport = 2525',
            f'enabled = true\nhost = "127.0.0.1"\nport = {smtp}',
        ),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    head, _, classifier = text.partition("[classifier]\n")
    text = head + "[classifier]\n" + classifier.replace("enabled = true", "enabled = false", 1)
    config.write_text(text)
    return config


def mails() -> dict[int, bytes]:
    """Messages whose text (stored in the event) does not compress much."""
    return {
        n: simple(n, body=f"Guten Tag,\n{secrets.token_hex(20_000)}\n").replace(b"\n", b"\r\n")
        for n in range(1, MESSAGES + 1)
    }


async def send_until_full(smtp: int, sent: dict[int, bytes]) -> set[int]:
    """Sends every message once; the disk fills on the way. The numbers answered 250."""
    codes: dict[int, int] = {}
    for n, raw in sent.items():
        codes[n] = (await asyncio.to_thread(send, smtp, raw))[0]
    assert set(codes.values()) == {250, 451}, codes  # the disk filled, then refusals
    return {n for n, code in codes.items() if code == 250}


async def retry(smtp: int, sent: dict[int, bytes], acked: set[int]) -> None:
    """What was refused is sent again, as mail servers retry, and now accepted."""
    for n in sorted(set(sent) - acked):
        code, reply = await asyncio.to_thread(send, smtp, sent[n])
        assert code == 250, (n, reply)


def stored(database: Path) -> list[str]:
    with sqlite3.connect(database, timeout=30) as conn:
        rows = conn.execute("SELECT idempotency_key FROM events WHERE type = 'EmailReceived'")
        return [str(row[0]) for row in rows]


def launch(config: Path, log: Path) -> subprocess.Popen[str]:
    """`kartei run`, its stderr into `log` (a pipe nobody reads would block its logging)."""
    command = [sys.executable, "-m", "hub.cli", "run", "--config", str(config)]
    with log.open("w") as stderr:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, text=True)


async def test_a_full_database_disk_answers_451_and_loses_nothing(
    db_disk: Path, tmp_path: Path
) -> None:
    smtp, web = free_port(), free_port()
    database = db_disk / "kartei.db"
    config = configure(tmp_path / "firma", database, smtp, web)
    log = tmp_path / "stderr"
    process = launch(config, log)
    try:
        await until(lambda: _answers(web))
        sent = mails()
        acked = await send_until_full(smtp, sent)
        assert len(stored(database)) == len(acked)  # 250 only for what is committed
        intake = component(web, "adapter:smtp")
        assert intake["state"] == "degraded", intake
        assert "Guten Tag" not in str(intake)  # the refused message is not on a public page
        await asyncio.sleep(3)  # full for a while: the process stays up
        assert process.poll() is None

        await asyncio.to_thread(grow, db_disk)  # the admin makes room
        await retry(smtp, sent, acked)  # the sending servers retry
        code, _ = await asyncio.to_thread(send, smtp, sent[1])  # and one once more
        assert code == 250
        keys = stored(database)
        assert len(keys) == len(set(keys)) == MESSAGES  # each exactly once
        assert component(web, "adapter:smtp")["state"] == "ok"
        with sqlite3.connect(database, timeout=30) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert process.poll() is None
    finally:
        process.terminate()
        status = await asyncio.to_thread(stopped, process)
    stderr = log.read_text()
    assert status == 0, stderr[-5000:]  # it stops when told, even with the disk full before
    assert "Guten Tag" not in stderr  # no message text in the log


async def test_kartei_stops_when_told_while_its_database_disk_is_full(
    db_disk: Path, tmp_path: Path
) -> None:
    smtp, web = free_port(), free_port()
    database = db_disk / "kartei.db"
    log = tmp_path / "stderr"
    process = launch(configure(tmp_path / "firma", database, smtp, web), log)
    try:
        await until(lambda: _answers(web))
        for raw in mails().values():
            if (await asyncio.to_thread(send, smtp, raw))[0] == 451:
                break
        assert component(web, "adapter:smtp")["state"] == "degraded"
    finally:
        process.terminate()  # its components cannot give back their leases: no room
        status = await asyncio.to_thread(stopped, process)
    assert status == 0, log.read_text()[-5000:]  # it stopped, rather than restart them
    await asyncio.to_thread(grow, db_disk)
    with sqlite3.connect(database, timeout=30) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def test_calls_while_the_database_disk_is_full_are_recorded_once_room_returns(
    db_disk: Path, tmp_path: Path
) -> None:
    peer = FritzBoxPeer()
    await peer.start()
    smtp, web = free_port(), free_port()
    database = db_disk / "kartei.db"
    config = configure(tmp_path / "firma", database, smtp, web)
    box = f'\n[[telephony.fritzbox]]\nname = "office"\nhost = "127.0.0.1"\nport = {peer.port}\n'
    config.write_text(config.read_text() + box)
    log = tmp_path / "stderr"
    process = launch(config, log)
    try:
        await until(lambda: _answers(web))
        await peer.wait_connections(1)
        await peer.send(ring(1))
        await until(lambda: rang(database) == 1)
        for raw in mails().values():  # mail fills the disk
            if (await asyncio.to_thread(send, smtp, raw))[0] == 451:
                break
        for n in (2, 3, 4):  # the box reports calls; it will not report them again
            await peer.send(ring(n))
        await until(lambda: component(web, "adapter:office")["state"] == "degraded")
        await asyncio.to_thread(grow, db_disk)  # the admin makes room
        await until(lambda: rang(database) == 4, 30)
        assert len(peer.writers) == 1  # the monitor kept its connection throughout
        await until(lambda: component(web, "adapter:office")["state"] == "ok", 10)
    finally:
        process.terminate()
        status = await asyncio.to_thread(stopped, process)
        await peer.close()
    assert status == 0, log.read_text()[-5000:]


def rang(database: Path) -> int:
    """Calls that rang, each counted once."""
    with sqlite3.connect(database, timeout=30) as conn:
        [(count,)] = conn.execute(
            "SELECT count(DISTINCT idempotency_key) FROM events WHERE type = 'CallRinging'"
        )
    return int(count)


@pytest.fixture
def pg_disk() -> Iterator[tuple[Path, str]]:
    """A PostgreSQL server of the test's own whose tables lie on a small disk of their own
    (its WAL on the ordinary one: a full WAL disk stops the server, a full table disk fails
    the statement); the disk holds what the new cluster takes and 6 MB more. The disk and
    the server's URL."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if os.geteuid() != 0 or not found:
        pytest.skip("needs root (mount, runuser) and PostgreSQL's server binaries")
    root = Path(tempfile.mkdtemp(prefix="kartei-pg-full-"))  # the postgres user's own
    disk, wal = root / "disk", root / "wal"
    for folder in (disk, wal):
        folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(disk)]
    subprocess.run(mount, check=True)
    subprocess.run(["chown", "-R", "postgres", str(root)], check=True)
    as_postgres = ["runuser", "-u", "postgres", "--"]
    data = disk / "data"
    initdb = [str(found[-1].parent / "initdb"), "-D", str(data), "-X", str(wal), "-A", "trust"]
    port = free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [*as_postgres, str(found[-1]), "-D", str(data), "-l", str(root / "log")]
    try:
        subprocess.run([*as_postgres, *initdb, "-U", "postgres"], check=True, capture_output=True)
        subprocess.run([*ctl, "-o", options, "-w", "start"], check=True, capture_output=True)
        used = sum(f.stat().st_size for f in data.rglob("*") if f.is_file()) // 1024
        subprocess.run(["mount", "-o", f"remount,size={used + 6144}k", str(disk)], check=True)
        yield disk, f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(root, ignore_errors=True)


async def test_a_full_postgresql_disk_answers_451_and_loses_nothing(
    pg_disk: tuple[Path, str], tmp_path: Path
) -> None:
    db_disk, private_postgres = pg_disk
    smtp, web = free_port(), free_port()
    config = configure(tmp_path / "firma", private_postgres, smtp, web)
    log = tmp_path / "stderr"
    process = launch(config, log)
    try:
        await until(lambda: _answers(web))
        sent = mails()
        acked = await send_until_full(smtp, sent)
        assert len(pg_stored(private_postgres)) == len(acked)  # 250 only for what is committed
        assert component(web, "adapter:smtp")["state"] == "degraded"
        await asyncio.to_thread(grow, db_disk)  # the admin makes room
        await retry(smtp, sent, acked)  # the sending servers retry
        keys = pg_stored(private_postgres)
        assert len(keys) == len(set(keys)) == MESSAGES  # each exactly once
        assert component(web, "adapter:smtp")["state"] == "ok"
        assert process.poll() is None
    finally:
        process.terminate()
        status = await asyncio.to_thread(stopped, process)
    assert status == 0, log.read_text()[-5000:]


def pg_stored(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT idempotency_key FROM events WHERE type = 'EmailReceived'")
        return [str(row[0]) for row in rows]


def component(web: int, name: str) -> dict[str, object]:
    answer = httpx.get(f"http://127.0.0.1:{web}/healthz", timeout=10)
    return dict(answer.json()["components"][name])


def stopped(process: subprocess.Popen[str]) -> int | None:
    """Its exit status once it has stopped; None (killed) if SIGTERM did not stop it."""
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def _answers(web: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{web}/healthz", timeout=10)
    except httpx.HTTPError:
        return False
    return True
