"""Event store throughput against the `eventsourcing` library and against plain selects.

For SQLite and PostgreSQL, in one run, Kartei's store and its peer, the `eventsourcing`
library (9.5, the `bench` extra), on the same payload (Kartei's capture-like event with
its personal fields; sealed by Kartei, plain JSON in the peer), the same durability (an
fsync per commit: SQLite `synchronous=FULL` on both sides, PostgreSQL's default
`synchronous_commit`) and the same counts:

- single-event appends, one transaction each (a new stream each; Kartei with an
  idempotency key, the peer a new aggregate);
- 100 events per transaction (one stream);
- reading the whole log, decoded into events (pages of 1000), both logs of one size;
- Kartei's log read against a plain Core SELECT of the same rows of its `events` table;
- Kartei alone: one event and a checkpoint row per `EventStore.transaction()` (capture).

Each count runs in many short slices, the sides taking turns; a side's figure is the
median of its slices (rate and CPU per event), and each Kartei/peer ratio is printed
twice: of the medians, and as the median of the ratios of slices run next to each other
(`<row>_paired_ratio`, `<row>_paired_cpu_ratio`). Printed too: plain Core inserts into a
bare table of the same shape, the rebuild of a projection, and the cost of one append and
of "read after N" with a small log and a large one.

    python bench/store.py [--quick] [--big N] [--backends sqlite,postgresql]

The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import psycopg
import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.domain import event as records
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteFactory

from hub.events import Event, EventCodec, NewEvent, Recorded
from hub.projection import ProjectionRunner
from hub.store import ANY, NO_STREAM, Database, EventStore
from hub.store.schema import events
from projections.event_stats import EventStats

PG_ADMIN = os.environ.get("KARTEI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageSeen(Event):
    """A capture-like event: a subject line and a short body, personal, sealed."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"sender", "subject", "text"})
    message_id: str
    sender: str = ""
    subject: str = ""
    text: str = ""

    def data_subject(self) -> str | None:
        return f"email:{self.sender}"


CODEC = EventCodec({"MessageSeen": MessageSeen})
# Customers write again and again: their keys exist after the first message. The first
# message of each sender (creating its key) is appended before the timed runs.
SENDERS = 50
# Slices: short, many, the sides taking turns (the figures are their medians).
SINGLE_SLICE = 20  # single appends
BATCH_SLICE = 500  # events appended 100 per transaction
READ_SLICE = 2000  # events read
TEXT = "Sehr geehrte Damen und Herren, die gelieferte Kommode hat einen Kratzer. " * 4


def event(i: int) -> MessageSeen:
    return MessageSeen(
        message_id=f"<{i}@bench>",
        sender=f"kunde{i % SENDERS}@example.de",
        subject=f"Bestellung {i}: Rückfrage",
        text=TEXT,
    )


bare = sa.Table(
    "bare_events",
    sa.MetaData(),
    sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.Text, unique=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("stream", "version"),
    sa.Index("ix_bare_events_type", "type", "position"),
)


def bare_row(i: int, stream: str, version: int, data: str) -> dict[str, Any]:
    return {
        "stream": stream,
        "version": version,
        "type": "MessageSeen",
        "data": data,
        "metadata": '{"source":null,"actor":null,"correlation_id":null,"causation_id":null,'
        '"schema_version":1}',
        "idempotency_key": f"bare:{i}",
        "recorded_at": datetime.now(UTC),
    }


# -- the peer: the eventsourcing library --------------------------------------------


class Message(Aggregate):
    """The peer's stream: the same fields as MessageSeen, as plain JSON."""

    class Seen(Aggregate.Created):
        message_id: str
        sender: str
        subject: str
        text: str

    class Again(Aggregate.Event):
        message_id: str
        sender: str
        subject: str
        text: str

    @records(Seen)
    def __init__(self, message_id: str, sender: str, subject: str, text: str) -> None:
        self.last = message_id

    @records(Again)
    def again(self, message_id: str, sender: str, subject: str, text: str) -> None:
        self.last = message_id


def payload(i: int) -> dict[str, str]:
    e = event(i)
    return {"message_id": e.message_id, "sender": e.sender, "subject": e.subject, "text": e.text}


class FullSyncSQLite(SQLiteFactory):
    """The library's SQLite, committing with synchronous=FULL as Kartei's durable appends."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        create = pool._create_connection

        def create_full() -> Any:
            conn = create()
            conn._sqlite_conn.execute("PRAGMA synchronous=FULL")
            return conn

        pool._create_connection = create_full  # type: ignore[method-assign]


def peer_app(url: str) -> Application:
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        env = {
            "PERSISTENCE_MODULE": f"{FullSyncSQLite.__module__}:FullSyncSQLite",
            "SQLITE_DBNAME": str(u.database).replace("bench.db", "peer.db"),
        }
    else:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(u.database),
            "POSTGRES_HOST": u.host or "127.0.0.1",
            "POSTGRES_PORT": str(u.port or 5432),
            "POSTGRES_USER": u.username or "postgres",
            "POSTGRES_PASSWORD": u.password or "",
        }
    return Application(env=env)


def peer_read(app: Application, start: int = 1, stop: int | None = None) -> int:
    """The peer's log (ids `start` to `stop`; all of it by default), decoded into domain
    events, in pages of 1000."""
    recorder = app.recorder
    assert isinstance(recorder, ApplicationRecorder)
    n = 0
    while page := recorder.select_notifications(start, 1000, stop):
        for notification in page:
            app.mapper.to_domain_event(notification)
        n += len(page)
        start = page[-1].id + 1
    return n


async def timed(  # type: ignore[no-untyped-def]
    label: str,
    count: int,
    rates: dict[str, list[float]],
    cpus: dict[str, list[float]],
    work,
    *args: Any,
) -> None:
    """One slice of `count` events: its rate and its CPU per event, under `label`."""
    gc.collect(1)  # each side starts with the young garbage of neither
    started, cpu = time.perf_counter(), time.process_time()
    done = work(*args)
    if done is not None:
        await done
    elapsed = time.perf_counter() - started
    rates.setdefault(label, []).append(count / elapsed)
    cpus.setdefault(label, []).append((time.process_time() - cpu) / count * 1e6)


async def rate(n: int, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    await work()
    return n / (time.perf_counter() - started)


async def bench_backend(
    url: str, n_single: int, n_batch: int, n_read: int, read_slices: int, big: int
) -> dict[str, Any]:
    store = EventStore(Database(url), CODEC)
    await store.start()
    db = store.db
    async with db.write() as conn:
        await conn.run_sync(bare.metadata.create_all)
    peer = peer_app(url)
    sample = CODEC.to_data(event(0))
    data = json.dumps(sample)  # the bare rows carry a payload of the same size, unsealed
    out: dict[str, Any] = {"scale": {}}
    await store.append("warm-up", NO_STREAM, [event(i) for i in range(SENDERS)])
    peer.save(Message(**payload(0)))
    # Costs with a small log first; the same probes run again once the log is large.
    await grow(store, 10_000)
    out["scale"]["10000"] = await costs_at_size(store)

    async def store_single(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            await store.append(f"msg-s{i}", NO_STREAM, [NewEvent(event(i), f"s:{i}")])

    def peer_single(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            peer.save(Message(**payload(i)))

    async def bare_single(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            async with db.write() as conn:
                await conn.execute(sa.insert(bare), [bare_row(i, f"b-s{i}", 1, data)])

    async def store_batched(lo: int, hi: int) -> None:
        for b in range(lo // 100, hi // 100):
            batch = [NewEvent(event(i), f"b:{i}") for i in range(b * 100, b * 100 + 100)]
            await store.append(f"msg-b{b}", NO_STREAM, batch)

    def peer_batched(lo: int, hi: int) -> None:
        for b in range(lo // 100, hi // 100):
            message = Message(**payload(b * 100))
            for i in range(b * 100 + 1, b * 100 + 100):
                message.again(**payload(i))
            peer.save(message)

    async def bare_batched(lo: int, hi: int) -> None:
        for b in range(lo // 100, hi // 100):
            rows = [
                bare_row(n_single + i, f"b-b{b}", i + 1, data)
                for i in range(b * 100, b * 100 + 100)
            ]
            async with db.write() as conn:
                await conn.execute(sa.insert(bare), rows)

    # The machine is shared: each count runs in many short slices, the sides taking
    # turns (which goes first alternates), and each side's figure is the median of its
    # slices (rate and CPU per event); each slice starts after a collection of the young
    # generations, so that no side pays for the young garbage of the other.
    rounds: dict[str, list[float]] = {}
    # CPU of this process per event (all its threads; not the PostgreSQL server's): on a
    # busy machine a steadier measure of each side's own work than the wall clock.
    cpus: dict[str, list[float]] = {}
    for name, n, per_slice, sides in (
        ("single", n_single, SINGLE_SLICE, (store_single, peer_single, bare_single)),
        ("batched", n_batch, BATCH_SLICE, (store_batched, peer_batched, bare_batched)),
    ):
        order = list(zip(("append", "peer", "plain_insert"), sides, strict=True))
        for r, lo in enumerate(range(0, n - per_slice + 1, per_slice)):
            for label, work in order if r % 2 == 0 else reversed(order):
                await timed(f"{name}_{label}", per_slice, rounds, cpus, work, lo, lo + per_slice)
    # Capture's shape: one event and its checkpoint row per transaction (IMAP, SMTP),
    # through `EventStore.transaction()`; Kartei only (the peer has no such call).
    async with db.write() as conn:
        await conn.execute(
            sa.text("CREATE TABLE IF NOT EXISTS bench_checkpoint (name TEXT PRIMARY KEY, n INT)")
        )
    upsert = sa.text(
        "INSERT INTO bench_checkpoint VALUES ('inbox', :n)"
        " ON CONFLICT (name) DO UPDATE SET n = excluded.n"
    )

    async def store_tx(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            async with store.transaction() as tx:
                await tx.append(f"msg-t{i}", NO_STREAM, [NewEvent(event(i), f"t:{i}")])
                await tx.connection.execute(upsert, {"n": i})

    for lo in range(0, n_single - SINGLE_SLICE + 1, SINGLE_SLICE):
        await timed("single_tx_append", SINGLE_SLICE, rounds, cpus, store_tx, lo, lo + SINGLE_SLICE)
    for key, rates in rounds.items():
        out[f"{key}_per_s"] = statistics.median(rates)
    out["rounds"] = rounds
    out["single_ratio"] = out["single_append_per_s"] / out["single_plain_insert_per_s"]
    out["batched_ratio"] = out["batched_append_per_s"] / out["batched_plain_insert_per_s"]
    out["single_vs_peer"] = out["single_append_per_s"] / out["single_peer_per_s"]
    out["batched_vs_peer"] = out["batched_append_per_s"] / out["batched_peer_per_s"]

    # Both logs to the same size, then each read whole.
    await grow(store, n_read)
    total = await store.head()
    recorder = peer.recorder
    assert isinstance(recorder, ApplicationRecorder)
    peer_size = recorder.max_notification_id() or 0
    while peer_size < total:
        message = Message(**payload(peer_size))
        for i in range(1, min(100, total - peer_size)):
            message.again(**payload(peer_size + i))
        peer.save(message)
        peer_size = recorder.max_notification_id() or 0

    # The logs are read in slices of READ_SLICE events from a window that moves along
    # them (both sides the same windows, in pages of 1000), the sides taking turns.
    async def read_log(lo: int, hi: int) -> None:  # every event decoded, as the peer's
        async for batch in pages(lo, hi):
            for r in batch:
                r.event  # noqa: B018

    async def read_records(lo: int, hi: int) -> None:  # each event decoded if asked for
        async for _batch in pages(lo, hi):
            pass

    async def pages(lo: int, hi: int) -> AsyncIterator[list[Recorded]]:
        while lo < hi and (batch := await store.read_all(lo, min(1000, hi - lo))):
            yield batch
            lo = batch[-1].position

    def read_peer(lo: int, hi: int) -> None:  # the same window of the peer's log
        peer_read(peer, lo + 1, hi)

    async def read_plain(lo: int, hi: int) -> None:  # the same rows, as Core returns them
        while lo < hi:
            async with db.read() as conn:
                rows = (
                    await conn.execute(
                        sa.select(*events.c)
                        .where(events.c.position > lo)
                        .order_by(events.c.position)
                        .limit(min(1000, hi - lo))
                    )
                ).all()
            if not rows:
                return
            lo = rows[-1].position

    out["log_events"] = total
    reads: dict[str, list[float]] = {}
    reading = list(
        zip(
            ("read_events", "read_peer", "read_plain_select", "read_records"),
            (read_log, read_peer, read_plain, read_records),
            strict=True,
        )
    )
    window = min(total, peer_size) - READ_SLICE
    for r in range(read_slices):
        lo = (r * READ_SLICE) % window // 1000 * 1000
        for label, work in reading if r % 2 == 0 else reversed(reading):
            await timed(label, READ_SLICE, reads, cpus, work, lo, lo + READ_SLICE)
    for key, rates in reads.items():
        out[f"{key}_per_s"] = statistics.median(rates)
    out["rounds"].update(reads)
    for key, spent in cpus.items():
        out[f"{key}_cpu_us"] = statistics.median(spent)
    out["cpu_rounds"] = cpus
    out["read_ratio"] = out["read_events_per_s"] / out["read_plain_select_per_s"]
    out["read_records_ratio"] = out["read_records_per_s"] / out["read_plain_select_per_s"]
    out["read_vs_peer"] = out["read_events_per_s"] / out["read_peer_per_s"]
    # Each Kartei slice against the library's slice next to it (the median of those
    # ratios): steadier than the ratio of the medians while the machine's load drifts.
    for _row, ours, theirs in ROWS:
        paired = [a / b for a, b in zip(out["rounds"][ours], out["rounds"][theirs], strict=True)]
        cpu_paired = [b / a for a, b in zip(cpus[ours], cpus[theirs], strict=True)]
        out[f"{ours}_paired_ratio"] = statistics.median(paired)
        out[f"{ours}_paired_cpu_ratio"] = statistics.median(cpu_paired)
    runner = ProjectionRunner(store, EventStats())
    await runner.prepare()
    out["rebuild_events_per_s"] = await rate(total, runner.rebuild)
    peer.close()

    if big:
        await grow(store, big)
        out["scale"][str(big)] = await costs_at_size(store)
    await store.close()
    return out


async def grow(store: EventStore, size: int) -> None:
    head = await store.head()
    i = head
    while i < size:
        n = min(1000, size - i)
        await store.append(f"fill-{i}", ANY, [event(j) for j in range(i, i + n)])
        i += n


async def costs_at_size(store: EventStore) -> dict[str, float]:
    head = await store.head()
    appends = []
    for k in range(200):
        started = time.perf_counter()
        await store.append(f"probe-{head}-{k}", NO_STREAM, [NewEvent(event(k), f"p:{head}:{k}")])
        appends.append(time.perf_counter() - started)
    reads = []
    for _ in range(50):
        started = time.perf_counter()
        await store.read_all(head - 1000, 1000)
        reads.append(time.perf_counter() - started)
    return {
        "events": float(head),
        "append_ms_median": statistics.median(appends) * 1000,
        "read_after_n_1000_ms_median": statistics.median(reads) * 1000,
    }


async def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--big", type=int, default=None, help="size of the large log (0: no large log)"
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    n_single, n_batch = (300, 5_000) if args.quick else (2_000, 50_000)
    n_read = 20_000 if args.quick else 100_000
    read_slices = 20 if args.quick else 50
    big = args.big if args.big is not None else (0 if args.quick else 1_000_000)
    results: dict[str, Any] = {"quick": args.quick}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results["sqlite"] = await bench_backend(
                    f"sqlite:///{tmp}/bench.db", n_single, n_batch, n_read, read_slices, big
                )
        else:
            name = f"kartei_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                url = sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
                results["postgresql"] = await bench_backend(
                    url, n_single, n_batch, n_read, read_slices, big
                )
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


ROWS = (
    ("single-event append", "single_append", "single_peer"),
    ("100 per transaction", "batched_append", "batched_peer"),
    ("read whole log, decoded", "read_events", "read_peer"),
)


if __name__ == "__main__":
    figures = asyncio.run(main())
    print(
        f"{'events/s (medians of slices)':<36}{'eventsourcing':>14}{'Kartei':>10}{'ratio':>8}"
        f"{'CPU us/event: eventsourcing, Kartei, ratio':>46}{'paired: wall, CPU':>19}",
        file=sys.stderr,
    )
    for backend in ("sqlite", "postgresql"):
        if backend in figures:
            f = figures[backend]
            for label, ours, theirs in ROWS:
                mine, peers = f[f"{ours}_per_s"], f[f"{theirs}_per_s"]
                cpu_mine, cpu_peers = f[f"{ours}_cpu_us"], f[f"{theirs}_cpu_us"]
                print(
                    f"{backend + ', ' + label:<36}{peers:>14,.0f}{mine:>10,.0f}"
                    f"{mine / peers:>8.2f}{cpu_peers:>30.1f}{cpu_mine:>8.1f}"
                    f"{cpu_peers / cpu_mine:>8.2f}{f[f'{ours}_paired_ratio']:>12.2f}"
                    f"{f[f'{ours}_paired_cpu_ratio']:>7.2f}",
                    file=sys.stderr,
                )
            for label, ours, ratio in (
                ("decoded read / plain SELECT", "read_events_per_s", "read_ratio"),
                ("records read / plain SELECT", "read_records_per_s", "read_records_ratio"),
            ):
                print(
                    f"{backend + ', ' + label:<36}{f['read_plain_select_per_s']:>14,.0f}"
                    f"{f[ours]:>10,.0f}{f[ratio]:>8.2f}",
                    file=sys.stderr,
                )
            print(
                f"{backend + ', append + checkpoint in transaction()':<50}"
                f"{f['single_tx_append_per_s']:>10,.0f}   CPU us/event "
                f"{f['single_tx_append_cpu_us']:6.1f}",
                file=sys.stderr,
            )
            print(
                f"{'':<12}plain inserts: single {f['single_plain_insert_per_s']:,.0f}/s "
                f"({f['single_ratio']:.0%} of it), "
                f"batched {f['batched_plain_insert_per_s']:,.0f}/s "
                f"({f['batched_ratio']:.0%}); rebuild {f['rebuild_events_per_s']:,.0f}/s",
                file=sys.stderr,
            )
    print(json.dumps(figures, default=float))
