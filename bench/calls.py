"""Screen-pop latency: a FRITZ!Box RING line on the socket -> CallRinging committed -> the
caller resolved to a contact, on SQLite, with N contacts in the identity index.

A call monitor peer (loopback TCP server speaking the FRITZ!Box format) writes one RING
line at a time to the real driver (`FritzBoxMonitor`, recording through `Capture`); a
subscriber, as the web's screen pop does, wakes on the committed CallRinging and asks
`IdentityIndex.lookup_number`. The clock runs from the write to the resolved contact.
Most callers are customers (several spellings of their numbers), some are unknown.

`steps` splits each call's time (see `Trace`); the baselines append the same event
directly (without and with waiting for the disk) and look it up. `--app` measures the
calls again with all of Kartei running (every projection and policy), as in production.

    python bench/calls.py                  # 100,000 contacts, 1,000 calls
    python bench/calls.py --quick          # 3,000 contacts, 200 calls (< 1 min)
    python bench/calls.py --quick --app    # ... and inside the whole app

The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from adapters.telephony.connection import Backoff
from adapters.telephony.fritzbox import FritzBoxMonitor
from adapters.telephony.fritzbox_parsing import Overlong
from adapters.telephony.model import CallTracker, Captured
from adapters.telephony.setup import number_normalizer
from hub.bootstrap import bootstrap, run
from hub.capture import Capture
from hub.contacts.decisions import create
from hub.demo import customers
from hub.events import NewEvent, Recorded
from hub.events.calls import CallRinging
from hub.health import ComponentHealth
from hub.projection import ProjectionRunner
from hub.settings import settings_from_dict
from hub.store import ANY, NO_STREAM, Database, EventStore, Transaction
from projections.identity import IdentityIndex

START = datetime(2026, 3, 2, 8, 0, 0)
# Calls are timed one at a time with a short pause between them, as real calls come
# seconds apart: back to back, each RING would race the screen pop's follow-up read of
# the previous one for the two cores, which measures the benchmark, not a call.
GAP_SECONDS = 0.02


async def seed(store: EventStore, contacts: int) -> tuple[list[str], float]:
    """Appends generated contacts; returns their phone numbers as typed and the seconds."""
    cards = customers(contacts, seed=11)
    started = time.perf_counter()
    for first in range(0, len(cards), 2000):
        async with store.transaction() as tx:
            for contact_id, card in cards[first : first + 2000]:
                event = NewEvent(create(contact_id, card), f"bench:{contact_id}")
                await tx.append(f"contact-{contact_id}", NO_STREAM, [event])
    phones = [p.raw for _, card in cards for p in card["phones"]]  # type: ignore[attr-defined]
    return phones, time.perf_counter() - started


def caller(phones: list[str], rng: random.Random) -> str:
    """What a box sends: a customer's number in national digits, or an unknown number."""
    if rng.random() < 0.8:
        digits = "".join(c for c in rng.choice(phones) if c.isdigit() or c == "+")
        return "0" + digits[3:] if digits.startswith("+49") else digits
    return f"0{rng.randint(2000, 9999)}{rng.randint(100000, 9999999)}"


class Trace:
    """Timing counters along the path of one call at a time: when each step finished.

    The steps, in order: the driver got the bytes (`read`), parsed them and ran the call
    state machine (`tracked`), held the write transaction (`tx_open`: writer lock and
    BEGIN), finished its statements (`appended`), committed (`committed`: fsync, notify),
    the screen pop's shared tail read the new event (`tail_read`), and the lookup ended.
    """

    STEPS = ("read", "tracked", "tx_open", "appended", "committed", "tail_read", "resolved")

    def __init__(self) -> None:
        self.current: dict[str, float] = {}
        self.samples: dict[str, list[float]] = {step: [] for step in self.STEPS}

    def stamp(self, step: str) -> None:
        self.current.setdefault(step, time.perf_counter())

    def start(self) -> float:
        self.current = {}
        return time.perf_counter()

    def keep(self, t0: float) -> None:
        """Adds the current call's step durations (each from the step before)."""
        before = t0
        for step in self.STEPS:
            at = self.current.get(step, before)
            self.samples[step].append(at - before)
            before = at

    def figures(self) -> dict[str, dict[str, float]]:
        return {step: stats(values) for step, values in self.samples.items() if values}


def traced(box: FritzBoxMonitor, store: EventStore, trace: Trace) -> None:
    """Wraps the driver's, the store's write and the tail's steps with the trace's stamps
    (the first write transaction after a RING is the driver's: others wake on its commit)."""
    take, transaction, tail_after = box._take, store.transaction, store._tail.after

    def timed_take(line: bytes | Overlong) -> list[Captured]:
        trace.stamp("read")
        try:
            return take(line)
        finally:
            trace.stamp("tracked")

    @asynccontextmanager
    async def timed_transaction(**options: Any) -> AsyncIterator[Transaction]:
        async with transaction(**options) as tx:
            trace.stamp("tx_open")
            yield tx
            trace.stamp("appended")
        trace.stamp("committed")

    async def timed_tail(*args: Any) -> list[Recorded] | None:
        found = await tail_after(*args)
        if found:
            trace.stamp("tail_read")
        return found

    box._take = timed_take  # type: ignore[method-assign]
    store.transaction = timed_transaction  # type: ignore[method-assign]
    store._tail.after = timed_tail  # type: ignore[method-assign,assignment]


class Peer:
    """The FRITZ!Box side: accepts the driver and writes lines to it."""

    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def listen(self) -> int:
        self.server = await asyncio.start_server(self.accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connected.set()
        await reader.read()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


async def timed_calls(
    store: EventStore,
    index: IdentityIndex,
    box: FritzBoxMonitor,
    peer: Peer,
    phones: list[str],
    calls: int,
) -> dict[str, object]:
    """Writes RING lines one at a time to the running driver; the clock stops when the
    screen pop's subscriber has the committed CallRinging and its caller's contact."""
    rng = random.Random(7)
    trace = Trace()
    traced(box, store, trace)
    resolved: dict[str, asyncio.Future[tuple[float, float, bool]]] = {}

    async def screen_pop() -> None:
        async for batch in store.subscribe(await store.head(), types=["CallRinging"]):
            committed = time.perf_counter()
            async with store.db.read() as conn:
                for r in batch:
                    assert isinstance(r.event, CallRinging)
                    match = await index.lookup_number(conn, r.event.caller_raw)
                    trace.stamp("resolved")
                    done = resolved.get(r.event.call_id)
                    if done is not None and not done.done():
                        done.set_result((committed, time.perf_counter(), match is not None))

    pop = asyncio.create_task(screen_pop())
    await peer.connected.wait()
    assert peer.writer is not None
    total, commit, known = [], [], 0
    for i in range(calls + 50):  # the first 50 warm the caches and are not counted
        at = (START + timedelta(seconds=i)).strftime("%d.%m.%y %H:%M:%S")
        call_id = f"{i % 900}-{(START + timedelta(seconds=i)):%Y%m%d%H%M%S}"
        done = resolved[call_id] = asyncio.get_running_loop().create_future()
        line = f"{at};RING;{i % 900};{caller(phones, rng)};3012345;SIP0;\r\n".encode()
        t0 = trace.start()
        peer.writer.write(line)
        try:
            committed, t1, found = await asyncio.wait_for(done, 10)
        except TimeoutError:
            state = f"head {await store.head()}, lines skipped {box.skipped_lines}"
            raise RuntimeError(f"call {call_id} not resolved within 10 s ({state})") from None
        if i >= 50:
            trace.keep(t0)
            total.append(t1 - t0)
            commit.append(committed - t0)
            known += found
        await asyncio.sleep(GAP_SECONDS)
    pop.cancel()
    await asyncio.gather(pop, return_exceptions=True)
    return {
        "known_callers": known,
        "ring_to_resolved": stats(total),
        "ring_to_committed": stats(commit),
        "steps": trace.figures(),
    }


async def driver_alone(
    store: EventStore, index: IdentityIndex, phones: list[str], calls: int
) -> dict[str, object]:
    """The driver and the screen pop's subscriber, nothing else on the store."""
    peer = Peer()
    port = await peer.listen()
    settings = settings_from_dict({"contacts": {"own_area_code": "30"}})
    tracker = CallTracker("fritzbox", number_normalizer(settings), ids_reused=True)
    box = FritzBoxMonitor(
        "fritzbox", "127.0.0.1", port, tracker, ZoneInfo("Europe/Berlin"), Backoff(0.01, 0.1)
    )
    capture = Capture(store, "fritzbox", ComponentHealth("adapter:fritzbox"))
    run = asyncio.create_task(box.run(capture))
    try:
        return await timed_calls(store, index, box, peer, phones, calls)
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        peer.close()


async def in_the_app(url: str, phones: list[str], calls: int) -> dict[str, object]:
    """The same calls with the whole of Kartei running (`kartei run` without the web
    server): every projection and policy wakes on each ring and writes its checkpoint,
    competing with the driver and the screen pop for the writer, the loop and the cores."""
    peer = Peer()
    port = await peer.listen()
    # Another box name: its calls are new calls, not repeats of the first run's (keys).
    box_settings = {"name": "office", "host": "127.0.0.1", "port": port}
    settings = settings_from_dict(
        {
            "database": {"url": url},
            "contacts": {"own_area_code": "30"},
            "classifier": {"enabled": False},  # no model to load; it never reads calls
            "telephony": {"fritzbox": [box_settings]},
        }
    )
    kartei = bootstrap(settings)
    stop = asyncio.Event()
    app = asyncio.create_task(run(kartei, stop, web=False))
    try:
        await peer.connected.wait()
        started = time.perf_counter()
        head = await kartei.store.head()
        for runner in kartei.projections.values():
            await runner.wait_for(head)
        caught_up = time.perf_counter() - started
        box = next(a for a in kartei.adapters if isinstance(a, FritzBoxMonitor))
        index = kartei.projection("identity")
        assert isinstance(index, IdentityIndex)
        figures = await timed_calls(kartei.store, index, box, peer, phones, calls)
        return {
            "projections": sorted(kartei.projections),
            "policies": sorted(kartei.policies),
            "projections_catch_up_s": round(caught_up, 2),
            **figures,
        }
    finally:
        stop.set()
        await app
        peer.close()


async def baseline(
    store: EventStore, index: IdentityIndex, phones: list[str], calls: int, *, durable: bool
) -> list[float]:
    """The floor under the driver: the same event appended directly, then one lookup."""
    rng = random.Random(durable)
    samples = []
    for i in range(calls):
        raw = caller(phones, rng)
        event = CallRinging(
            call_id=f"b{i}",
            source="baseline",
            line="3012345",
            caller_raw=raw,
            caller=index.normalize(raw),
        )
        key = f"baseline:{durable}:{i}"
        t0 = time.perf_counter()
        await store.append(f"call-{key}", ANY, [NewEvent(event, key)], durable=durable)
        async with store.db.read() as conn:
            await index.lookup_number(conn, raw)
        samples.append(time.perf_counter() - t0)
        await asyncio.sleep(GAP_SECONDS)
    return samples


async def round_trips(store: EventStore, count: int) -> list[float]:
    """One `SELECT 1` on an open read connection: the cost of a statement's trip to
    SQLite's thread and back onto the event loop, which every step above pays per
    statement."""
    samples = []
    async with store.db.read() as conn:
        for _ in range(count):
            t0 = time.perf_counter()
            await conn.execute(sa.text("SELECT 1"))
            samples.append(time.perf_counter() - t0)
            await asyncio.sleep(GAP_SECONDS / 10)
    return samples


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50_ms": round(pick(0.5) * 1000, 3),
        "p99_ms": round(pick(0.99) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


async def main(contacts: int, calls: int, app: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kartei.db'}"
        store = EventStore(Database(url))
        await store.start()
        try:
            phones, seed_s = await seed(store, contacts)
            index = IdentityIndex("DE", "30")
            runner = ProjectionRunner(store, index, batch_size=2000)  # type: ignore[arg-type]
            await runner.prepare()
            started = time.perf_counter()
            await runner.catch_up()
            index_s = time.perf_counter() - started
            figures = await driver_alone(store, index, phones, calls)
            # The ring is committed without waiting for the disk (adapters.telephony.
            # recording): the floor is the same commit; the durable one shows the fsync.
            fast = await baseline(store, index, phones, calls, durable=False)
            durable = await baseline(store, index, phones, calls, durable=True)
            trips = await round_trips(store, calls)
        finally:
            await store.close()
        whole = await in_the_app(url, phones, calls) if app else None
    ring: dict[str, float] = figures["ring_to_resolved"]  # type: ignore[assignment]
    return {
        "benchmark": "calls",
        "database": "sqlite",
        "contacts": contacts,
        "calls": calls,
        "seed_s": round(seed_s, 2),
        "index_build_s": round(index_s, 2),
        **figures,
        "baseline_append_then_lookup": stats(fast),
        "baseline_durable_append_then_lookup": stats(durable),
        "statement_round_trip": stats(trips),
        **({"in_the_app": whole} if whole is not None else {}),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "target_p99_ms": 10,
        "within_target": ring["p99_ms"] < 10,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 contacts, 200 calls")
    parser.add_argument("--contacts", type=int)
    parser.add_argument("--calls", type=int)
    parser.add_argument(
        "--app", action="store_true", help="also measure with all of Kartei running"
    )
    args = parser.parse_args()
    contacts = args.contacts or (3_000 if args.quick else 100_000)
    calls = args.calls or (200 if args.quick else 1000)
    result = asyncio.run(main(contacts, calls, args.app))
    print(json.dumps(result), file=sys.stdout)
