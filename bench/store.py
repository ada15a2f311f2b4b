"""Event store throughput against the ceiling of plain SQLAlchemy Core on the same database.

For SQLite and PostgreSQL, in one run: single appends (one transaction each), batched
appends (100 per transaction), reading the whole log and rebuilding a projection, each
compared with plain Core inserts/selects of the same rows into a bare table of the same
shape (same columns and indexes; no trigger, no checks, no sealing of personal fields).
Then the cost of one append and of "read after N" with a small log and a large one.

    python bench/store.py [--quick] [--big N] [--backends sqlite,postgresql]

The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import psycopg
import sqlalchemy as sa

from hub.events import Event, EventCodec, NewEvent
from hub.projection import ProjectionRunner
from hub.store import ANY, NO_STREAM, Database, EventStore
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


async def rate(n: int, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    await work()
    return n / (time.perf_counter() - started)


async def bench_backend(url: str, n_single: int, n_batch: int, big: int) -> dict[str, Any]:
    store = EventStore(Database(url), CODEC)
    await store.start()
    db = store.db
    async with db.write() as conn:
        await conn.run_sync(bare.metadata.create_all)
    sample = CODEC.to_data(event(0))
    data = json.dumps(sample)  # the bare rows carry a payload of the same size, unsealed
    out: dict[str, Any] = {"scale": {}}
    await store.append("warm-up", NO_STREAM, [event(i) for i in range(SENDERS)])
    # Costs with a small log first; the same probes run again once the log is large.
    await grow(store, 10_000)
    out["scale"]["10000"] = await costs_at_size(store)

    async def store_single() -> None:
        for i in range(n_single):
            await store.append(f"msg-s{i}", NO_STREAM, [NewEvent(event(i), f"s:{i}")])

    async def bare_single() -> None:
        for i in range(n_single):
            async with db.write() as conn:
                await conn.execute(sa.insert(bare), [bare_row(i, f"b-s{i}", 1, data)])

    async def store_batched() -> None:
        for b in range(n_batch // 100):
            batch = [NewEvent(event(i), f"b:{i}") for i in range(b * 100, b * 100 + 100)]
            await store.append(f"msg-b{b}", NO_STREAM, batch)

    async def bare_batched() -> None:
        for b in range(n_batch // 100):
            rows = [
                bare_row(n_single + i, f"b-b{b}", i + 1, data)
                for i in range(b * 100, b * 100 + 100)
            ]
            async with db.write() as conn:
                await conn.execute(sa.insert(bare), rows)

    # Interleave store and bare runs so neither gets a warmer cache or a quieter disk.
    out["single_append_per_s"] = await rate(n_single, store_single)
    out["single_plain_insert_per_s"] = await rate(n_single, bare_single)
    out["batched_append_per_s"] = await rate(n_batch, store_batched)
    out["batched_plain_insert_per_s"] = await rate(n_batch, bare_batched)
    out["single_ratio"] = out["single_append_per_s"] / out["single_plain_insert_per_s"]
    out["batched_ratio"] = out["batched_append_per_s"] / out["batched_plain_insert_per_s"]

    total = await store.head()

    async def read_log() -> None:
        async for _batch in store.iter_all(batch_size=1000):
            pass

    async def read_bare() -> None:
        after = 0
        while True:
            async with db.read() as conn:
                rows = (
                    await conn.execute(
                        sa.select(bare)
                        .where(bare.c.position > after)
                        .order_by(bare.c.position)
                        .limit(1000)
                    )
                ).all()
            if not rows:
                return
            after = rows[-1].position

    out["read_events_per_s"] = await rate(total, read_log)
    out["read_plain_select_per_s"] = await rate(total, read_bare)
    out["read_ratio"] = out["read_events_per_s"] / out["read_plain_select_per_s"]
    runner = ProjectionRunner(store, EventStats())
    await runner.prepare()
    out["rebuild_events_per_s"] = await rate(total, runner.rebuild)

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
    parser.add_argument("--big", type=int, default=None, help="size of the large log")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    n_single, n_batch = (500, 5_000) if args.quick else (2_000, 50_000)
    big = args.big or (60_000 if args.quick else 1_000_000)
    results: dict[str, Any] = {"quick": args.quick}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results["sqlite"] = await bench_backend(
                    f"sqlite:///{tmp}/bench.db", n_single, n_batch, big
                )
        else:
            name = f"kartei_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                url = sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
                results["postgresql"] = await bench_backend(url, n_single, n_batch, big)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


if __name__ == "__main__":
    figures = asyncio.run(main())
    for backend in ("sqlite", "postgresql"):
        if backend in figures:
            f = figures[backend]
            line = (
                f"single {f['single_append_per_s']:.0f}/s ({f['single_ratio']:.0%} of plain), "
                f"batched {f['batched_append_per_s']:.0f}/s ({f['batched_ratio']:.0%}), "
                f"read {f['read_events_per_s']:.0f}/s, rebuild {f['rebuild_events_per_s']:.0f}/s"
            )
            print(
                f"{backend:>10}: {line}",
                file=sys.stderr,
            )
    print(json.dumps(figures, default=float))
