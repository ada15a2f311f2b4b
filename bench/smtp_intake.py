"""SMTP intake throughput: Kartei's journal intake against a bare fsyncing sink.

Both are SMTP servers in this process's event loop, fed the same messages over the same
number of real `smtplib` connections (one client process each, as a mail server's
delivery agents are). The baseline is the least a durable intake must do: a plain
aiosmtpd server that writes each message to its own file and fsyncs it before answering
250. Kartei answers 250 after the commit that holds the message's event (invariant 3):
parse, archive (hashed, compressed, encrypted, synced), append, on SQLite.

Messages: German business mail as the IMAP benchmark builds it (10% with a 200 KB PDF),
the test suite's builders (HTML alternative, attachment, windows-1252 without a charset
Kartei knows) and the real-world MIME corpus in shared/corpus/emails, each with a Message-ID
of its own so that none is a repeat of another.

The sink and Kartei take turns, a quarter of the messages at a time (each first in every
other pair), so that a change of load on a shared machine hits both alike; the ratio is
Kartei's messages per second over the sink's (`ratio_median_of_turns`: the same for each
pair of turns, the median). CPU milliseconds per message are this process's (both servers
live here; the clients are other processes) while each server had its turn.

    python bench/smtp_intake.py [--quick] [--messages N] [--clients N]

`--quick`: 200 messages (well under a minute). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import smtplib
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from aiosmtpd.smtp import SMTP

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.mail.pipeline import MailIntake, MailRules
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from hub.archive import Archive
from hub.capture import Capture
from hub.health import ComponentHealth
from hub.store import Database, EventStore
from tests.mail import messages as built

CORPUS = Path(os.environ.get("KARTEI_CORPUS", "/work/shared/corpus/emails"))
RULES = MailRules(own_domains=frozenset({"firma.example"}))
ROUNDS = 4  # turns per server
_MESSAGE_ID = re.compile(rb"^message-id:.*\r?\n(?:[ \t].*\r?\n)*", re.IGNORECASE | re.MULTILINE)


def corpus() -> list[bytes]:
    """The real-world messages SMTP can carry as they are (no line over 998 bytes)."""
    found = []
    for path in sorted(CORPUS.glob("*")) if CORPUS.is_dir() else []:
        raw = path.read_bytes()
        lines = raw.replace(b"\r\n", b"\n").split(b"\n")
        if raw.strip() and max(map(len, lines)) <= 990 and b"\r" not in raw.replace(b"\r\n", b""):
            found.append(raw)
    return found


def messages(count: int, seed: int = 4) -> list[bytes]:
    """`count` distinct messages with CRLF line ends, in a fixed mixed order: 7 of 10
    generated business mail, 2 from the test builders, 1 from the corpus."""
    from bench.imap_sync import message  # the IMAP benchmark's generator

    rng = random.Random(seed)
    real = corpus()
    out = []
    for n in range(count):
        kind = n % 10
        if kind < 7 or (kind == 9 and not real):
            raw = message(n, rng)
        elif kind == 7:
            html = f"<p>Sehr geehrte Damen und Herren,</p><p>Auftrag {n} <b>eilt</b>.</p>"
            raw = built.simple(n, html=html, attachment=rng.randbytes(20_000) if n % 20 else None)
        elif kind == 8:
            raw = built.CP1252
        else:
            raw = real[n // 10 % len(real)]
        out.append(_wire(_with_message_id(raw, f"<smtp-bench-{n}@kunde.example>")))
    return out


def _with_message_id(raw: bytes, message_id: str) -> bytes:
    return f"Message-ID: {message_id}\n".encode() + _MESSAGE_ID.sub(b"", raw)


def _wire(raw: bytes) -> bytes:
    """CRLF line ends (smtplib sends bytes as they are)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def deliver(port: int, raws: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
        for raw in raws:
            smtp.sendmail("mx@firma.example", ["journal@kartei.example"], raw)


class Clients:
    """`n` connections, each from its own client process (client threads here would
    share the servers' GIL); per server the seconds spent delivering and this process's
    CPU seconds meanwhile, all of it and the event loop's thread's alone."""

    def __init__(self, pool: ProcessPoolExecutor, n: int) -> None:
        self.pool = pool
        self.n = n
        self.seconds: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        self.loop_cpu: dict[int, float] = {}
        self.turns: dict[int, list[float]] = {}  # seconds of each turn

    async def deliver(self, port: int, raws: list[bytes]) -> None:
        loop = asyncio.get_running_loop()
        started, cpu, loop_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        parts = [raws[i :: self.n] for i in range(self.n)]
        await asyncio.gather(*(loop.run_in_executor(self.pool, deliver, port, p) for p in parts))
        seconds = time.perf_counter() - started
        self.seconds[port] = self.seconds.get(port, 0.0) + seconds
        self.turns.setdefault(port, []).append(seconds)
        self.cpu[port] = self.cpu.get(port, 0.0) + time.process_time() - cpu
        self.loop_cpu[port] = self.loop_cpu.get(port, 0.0) + time.thread_time() - loop_cpu


class FileSink:
    """The baseline: accept, write the message to a file, fsync, answer 250."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: object, envelope: object) -> str:
        self.count += 1
        path = self.folder / f"{self.count}.eml"
        data = envelope.original_content  # type: ignore[attr-defined]
        await asyncio.to_thread(_write_synced, path, data)
        return "250 OK"


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


async def run_smtp(work: Path, raws: list[bytes], clients: int = 4) -> dict[str, float]:
    """Both servers, the same messages in turns; their rates, ratio and CPU."""
    sink_dir = work / "sink"
    sink_dir.mkdir()
    loop = asyncio.get_running_loop()
    sink = await loop.create_server(lambda: SMTP(FileSink(sink_dir)), "127.0.0.1", 0)
    sink_port = sink.sockets[0].getsockname()[1]
    store = EventStore(Database(f"sqlite:///{work / 'smtp.db'}"))
    await store.start()
    intake = MailIntake(Archive(work / "smtp-archive"), RULES)  # as `kartei run` builds it
    adapter = SmtpJournalIntake("127.0.0.1", 0, IntakeRules.of([], ["127.0.0.0/8"], 10**8), intake)
    task = asyncio.create_task(adapter.run(Capture(store, "smtp", ComponentHealth("smtp"))))
    await adapter.ready.wait()
    assert adapter.bound_port is not None and adapter.handler is not None
    port = adapter.bound_port
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(clients, mp_context=context) as pool:
        feed = Clients(pool, clients)
        await feed.deliver(sink_port, [])  # start the client processes
        feed.seconds.clear()
        feed.cpu.clear()
        feed.loop_cpu.clear()
        feed.turns.clear()
        size = -(-len(raws) // ROUNDS)
        for n, at in enumerate(range(0, len(raws), size)):
            # Each goes first in every other pair: the one after is slowed by what the
            # one before left to the disk (docs/mail.md, SMTP).
            for p in (sink_port, port) if n % 2 == 0 else (port, sink_port):
                await feed.deliver(p, raws[at : at + size])
    sink.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    stored = await store.head()
    intake.close()
    await store.close()
    assert stored == len(raws), (stored, len(raws))
    rates = {p: len(raws) / feed.seconds[p] for p in (sink_port, port)}
    return {
        "sink_msgs_per_s": rates[sink_port],
        "kartei_msgs_per_s": rates[port],
        "ratio": rates[port] / rates[sink_port],
        # The same per pair of turns (the sink's, then Kartei's, on the same messages), the
        # median: a burst of load from elsewhere that hits one turn moves it less.
        "ratio_median_of_turns": statistics.median(
            s / k for s, k in zip(feed.turns[sink_port], feed.turns[port], strict=True)
        ),
        "sink_cpu_ms_per_msg": feed.cpu[sink_port] * 1000 / len(raws),
        "kartei_cpu_ms_per_msg": feed.cpu[port] * 1000 / len(raws),
        # Of it, the event loop's thread (SMTP sessions, commit loop, SQLAlchemy's side
        # of the statements); the rest is threads: parse and archive, sync, SQLite.
        "sink_loop_cpu_ms_per_msg": feed.loop_cpu[sink_port] * 1000 / len(raws),
        "kartei_loop_cpu_ms_per_msg": feed.loop_cpu[port] * 1000 / len(raws),
        "kartei_msgs_per_commit": len(raws) / max(1, adapter.handler.deliveries.groups),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 messages")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--clients", type=int, default=4, help="SMTP connections (default 4)")
    args = parser.parse_args()
    count = args.messages or (200 if args.quick else 2_000)
    wire = messages(count)
    work = Path(tempfile.mkdtemp(prefix="kartei-bench-"))
    load = os.getloadavg()[0]
    try:
        os.sync()
        figures = await run_smtp(work, wire, args.clients)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "messages": count,
                "clients": args.clients,
                "mean_kb": round(sum(map(len, wire)) / len(wire) / 1024, 1),
                **{k: round(v, 2) for k, v in figures.items()},
                "target_ratio": 0.8,
                "load_before": round(load, 2),
                "load_after": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
