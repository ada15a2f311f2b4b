"""Email capture throughput: IMAP first sync against mbsync, SMTP intake against a file sink.

IMAP: one mailbox on a local Dovecot (10,000 messages, mixed sizes, 10% with a 200 KB
attachment; --quick: 500), copied by `mbsync` (Debian isync) into a Maildir, then captured
by Kartei (fetch + parse in worker processes + archive + append + checkpoint + the mail
projections) into a fresh SQLite store, from the same server, in the same run, in turns
(two rounds; each phase starts after `sync`, so none writes out another's data); with
`--fetch-in both` a second Kartei sync first, fetched by the main process as before the
workers fetched, for a baseline from the same run. CPU per message of the main process and
of the workers comes with each.
SMTP: 4 connections delivering the same messages to Kartei's journal intake (250 after
commit, SQLite) and to a bare aiosmtpd server that writes and fsyncs each message to a file
(in turns, a quarter at a time, so a change of load on a shared machine hits both alike):
`bench/smtp_intake.py`'s `run_smtp`, here with this benchmark's messages (that script's
own mix adds the test builders' and the real-world corpus's messages).

    python bench/imap_sync.py [--quick] [--messages N] [--smtp-messages N]
                              [--fetch-in workers|main|both] [--rounds N]

The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.imap import client
from adapters.imap.sync import sync_folder
from adapters.mail.pipeline import SLICE, MailIntake, MailRules
from bench.smtp_intake import run_smtp
from hub.archive import Archive
from hub.bootstrap import default_projections
from hub.capture import Capture
from hub.health import ComponentHealth
from hub.projection import ProjectionRunner
from hub.settings import ImapAccount, Settings
from hub.store import Database, EventStore
from hub.store.schema import events
from tests.mail.dovecot import Dovecot

WORDS = (
    "Angebot",
    "Rechnung",
    "Lieferung",
    "Termin",
    "Rückfrage",
    "bitte",
    "danke",
    "Grüße",
    "Kunde",
    "Auftrag",
    "Bestellung",
    "Frist",
    "Zahlung",
    "Muster",
    "Ware",
    "Größe",
    "Straße",
)
RULES = MailRules(own_domains=frozenset({"firma.example"}))


def message(n: int, rng: random.Random) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Kunde {n} <kunde{n % 700}@kunde{n % 50}.example>"
    msg["To"] = "info@firma.example"
    msg["Subject"] = f"Anfrage {n}: {' '.join(rng.choices(WORDS, k=5))}"
    msg["Date"] = "Sat, 01 Mar 2025 12:00:00 +0100"
    msg["Message-ID"] = f"<bench-{n}@kunde.example>"
    size = int(rng.expovariate(1 / 12_000)) + 500
    words = []
    while sum(len(w) + 1 for w in words) < size:
        words.extend(rng.choices(WORDS, k=50))
    body = textwrap.fill(" ".join(words), 76)
    msg.set_content(body + "\n--\nKunde\nTel.: 030 1234567\n")
    if n % 10 == 0:
        msg.add_attachment(
            rng.randbytes(200_000),
            maintype="application",
            subtype="pdf",
            filename=f"Rechnung-{n}.pdf",
        )
    return msg.as_bytes()


def fill_maildir(dovecot: Dovecot, user: str, raws: list[bytes]) -> None:
    """Puts the messages straight into the user's Maildir (quicker than APPEND)."""
    cur = dovecot.root / "home" / user / "Maildir" / "cur"
    cur.mkdir(parents=True, exist_ok=True)
    for n, raw in enumerate(raws):
        (cur / f"{1700000000 + n}.M{n}P1.bench:2,").write_bytes(raw)
    subprocess.run(
        [
            "chown",
            "-R",
            f"{os.getuid() if os.geteuid() else 'dovecot'}",
            str(dovecot.root / "home" / user),
        ],
        check=False,
    )


def warm_up(dovecot: Dovecot, user: str) -> None:
    """Lets Dovecot index the folder before anything is timed."""
    imap = client.IMAPClient("127.0.0.1", dovecot.port, ssl=False)
    imap.login(user, Dovecot.PASSWORD)
    imap.select_folder("INBOX", readonly=True)
    imap.fetch(imap.search("ALL"), ["RFC822.SIZE"])
    imap.logout()


def run_mbsync(dovecot: Dovecot, user: str, work: Path) -> float:
    target = work / "mbsync"
    target.mkdir()
    config = work / "mbsyncrc"
    config.write_text(
        f"IMAPAccount bench\nHost 127.0.0.1\nPort {dovecot.port}\nUser {user}\n"
        f"Pass {Dovecot.PASSWORD}\nSSLType None\nAuthMechs LOGIN\n\n"
        f"IMAPStore remote\nAccount bench\n\n"
        f"MaildirStore local\nPath {target}/\nInbox {target}/INBOX\n\n"
        f"Channel bench\nFar :remote:INBOX\nNear :local:INBOX\nCreate Near\nSync Pull\n"
        f"SyncState *\n"
    )
    started = time.perf_counter()
    subprocess.run(["mbsync", "-q", "-c", str(config), "bench"], check=True)
    return time.perf_counter() - started


class Beside(Protocol):
    """A component run beside capture and the read models (bench/archive.py: the Merkle
    follower); the clock stops when it has caught up too."""

    async def run(self) -> None: ...

    async def caught_up(self, head: int) -> None: ...


async def run_kartei(
    dovecot: Dovecot,
    user: str,
    work: Path,
    workers: int,
    fetch_in: str,
    beside: Callable[[EventStore, Path], Beside] | None = None,
) -> dict[str, float]:
    """One first sync into a fresh store; `fetch_in` "workers" (as `kartei run` does for
    big syncs) or "main" (the main process fetches, the workers only parse: the old way).
    `beside(store, work)`, when given, makes a component that runs beside them."""
    work = work / f"kartei-{fetch_in}"
    await asyncio.to_thread(work.mkdir, parents=True)
    store = EventStore(Database(f"sqlite:///{work / 'kartei.db'}"))
    await store.start()
    intake = MailIntake(Archive(work / "archive"), RULES, workers=workers)
    warm = [(message(0, random.Random(0)), "warm")] * 2 * SLICE
    await intake.prepare_many(warm)  # starts the worker processes
    account = ImapAccount(
        name="bench",
        host="127.0.0.1",
        port=dovecot.port,
        security="none",
        username=user,
        password=Dovecot.PASSWORD,
    )
    capture = Capture(store, "imap:bench", ComponentHealth("bench"))
    # Every projection `kartei run` keeps, following the log as there (one shared tail).
    runners = [ProjectionRunner(store, p) for p in default_projections(Settings())]
    for runner in runners:
        await runner.prepare()
    extra = beside(store, work) if beside is not None else None
    pids = intake.worker_pids()
    load = os.getloadavg()[0]
    workers_cpu, main_cpu = _cpu_seconds(pids), time.process_time()
    started = time.perf_counter()
    imap = await asyncio.to_thread(client.connect, account)
    try:
        async with asyncio.TaskGroup() as group:
            following = [group.create_task(runner.run()) for runner in runners]
            if extra is not None:
                following.append(group.create_task(extra.run()))
            result = await sync_folder(
                imap,
                "bench",
                "INBOX",
                intake,
                capture,
                remote_account=account if fetch_in == "workers" else None,
            )
            synced = time.perf_counter() - started
            head = await store.head()
            for runner in runners:  # the clock stops when every projection has caught up
                await runner.wait_for(await _last_position(store, runner, head))
            if extra is not None:
                await extra.caught_up(head)
            total = time.perf_counter() - started
            for task in following:
                task.cancel()
    finally:
        await asyncio.to_thread(client.logout, imap)
    main_cpu = time.process_time() - main_cpu
    workers_cpu = _cpu_seconds(pids) - workers_cpu
    intake.close()
    await store.close()
    return {
        "captured": result.captured,
        "sync_s": synced,
        "total_s": total,
        # CPU seconds: the main process (fetch thread, commits, projections, event loop)
        # and the worker processes together, per message in milliseconds
        "main_cpu_ms_per_msg": 1000 * main_cpu / max(1, result.seen),
        "workers_cpu_ms_per_msg": 1000 * workers_cpu / max(1, result.seen),
        "main_cpu_s": main_cpu,
        "workers_cpu_s": workers_cpu,
        "load": round((load + os.getloadavg()[0]) / 2, 1),  # 1-minute load, before and after
        **result.timings,
    }


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (/proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


async def _last_position(store: EventStore, runner: ProjectionRunner, head: int) -> int:
    """The newest event up to `head` that this projection reads (it skips the others)."""
    query = sa.select(sa.func.coalesce(sa.func.max(events.c.position), 0)).where(
        events.c.position <= head
    )
    if runner.projection.event_types is not None:
        query = query.where(events.c.type.in_(list(runner.projection.event_types)))
    async with store.db.read() as conn:
        return int((await conn.execute(query)).scalar_one())


async def smtp_only(count: int) -> None:
    rng = random.Random(4)
    wire = [message(n, rng).replace(b"\n", b"\r\n") for n in range(count)]
    work = Path(tempfile.mkdtemp(prefix="kartei-bench-"))
    try:
        smtp = await run_smtp(work, wire)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mean_kb = sum(map(len, wire)) / len(wire) / 1024
    figures = {k: round(v, 2) for k, v in smtp.items()}
    print(json.dumps({"smtp_messages": count, "mean_kb": round(mean_kb, 1), **figures}))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--smtp-messages", type=int)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--fetch-in",
        choices=["workers", "main", "both"],
        default="workers",
        help="who fetches: the workers (as `kartei run`), the main process (the old way), "
        "or both, one after the other in this run (main first)",
    )
    parser.add_argument("--smtp-only", action="store_true", help="skip the IMAP part")
    parser.add_argument(
        "--rounds",
        type=int,
        help="mbsync and Kartei in turn, this many times (default 2, --quick 1): the "
        "figures are the means, the ratio that of the means",
    )
    args = parser.parse_args()
    if args.smtp_only:
        await smtp_only(args.smtp_messages or (200 if args.quick else 2_000))
        return
    count = args.messages or (500 if args.quick else 10_000)
    rounds = args.rounds or (1 if args.quick else 2)
    smtp_count = args.smtp_messages or (200 if args.quick else 2_000)
    rng = random.Random(4)
    raws = [message(n, rng) for n in range(count)]
    mean_kb = sum(map(len, raws)) / len(raws) / 1024
    work = Path(tempfile.mkdtemp(prefix="kartei-bench-"))
    dovecot = Dovecot()
    dovecot.start()
    try:
        fill_maildir(dovecot, "bench", raws)
        warm_up(dovecot, "bench")
        modes = ["main", "workers"] if args.fetch_in == "both" else [args.fetch_in]
        pairs: list[tuple[float, dict[str, float]]] = []  # (mbsync, Kartei) per round
        for turn in range(rounds):
            folder = work / f"round-{turn}"
            folder.mkdir()
            # Each phase starts with nothing dirty in the page cache: mbsync's fsyncs and
            # Kartei's archive syncs would otherwise also write out the phase before.
            os.sync()
            mbsync_s = run_mbsync(dovecot, "bench", folder)
            print(f"mbsync: {count} messages in {mbsync_s:.2f} s", file=sys.stderr)
            runs = {}
            for mode in modes:
                os.sync()
                runs[mode] = await run_kartei(dovecot, "bench", folder, args.workers, mode)
                print(f"kartei ({mode} fetches): {runs[mode]}", file=sys.stderr)
                assert runs[mode]["captured"] == count
            pairs.append((mbsync_s, runs[modes[-1]]))
            shutil.rmtree(folder)
        mbsync_s = sum(m for m, _ in pairs) / rounds
        kartei = {key: sum(k[key] for _, k in pairs) / rounds for key in pairs[0][1]}
        # SMTP carries CRLF line ends (smtplib sends bytes as they are).
        wire = [raw.replace(b"\n", b"\r\n") for raw in raws[:smtp_count]]
        os.sync()
        smtp = await run_smtp(work, wire)
        print(f"smtp: {smtp}", file=sys.stderr)
    finally:
        dovecot.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "messages": count,
                "mean_kb": round(mean_kb, 1),
                "workers": args.workers,
                "mbsync_s": round(mbsync_s, 2),
                "kartei_sync_s": round(kartei["sync_s"], 2),
                "kartei_total_s": round(kartei["total_s"], 2),
                "ratio_to_mbsync": round(kartei["total_s"] / mbsync_s, 2),
                "rounds": [[round(m, 2), round(k["total_s"], 2)] for m, k in pairs],
                "fetch_in": modes[-1],
                "main_cpu_ms_per_msg": round(kartei["main_cpu_ms_per_msg"], 2),
                "workers_cpu_ms_per_msg": round(kartei["workers_cpu_ms_per_msg"], 2),
                **{
                    f"main_fetches_{key}": round(runs["main"][key], 2)  # the last round's
                    for key in ("total_s", "main_cpu_ms_per_msg", "workers_cpu_ms_per_msg")
                    if modes == ["main", "workers"]
                },
                "target_ratio": 1.0,
                "smtp_messages": smtp_count,
                "smtp_sink_msgs_per_s": round(smtp["sink_msgs_per_s"], 1),
                "smtp_kartei_msgs_per_s": round(smtp["kartei_msgs_per_s"], 1),
                "smtp_ratio": round(smtp["ratio"], 2),
                "smtp_target_ratio": 0.8,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
