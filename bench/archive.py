"""The archive's proofs: what the Merkle log costs on capture, how fast `verify` and
`export` run, and how large proofs are, on a real store (SQLite or PostgreSQL).

- capture: N received emails (about 43 KB raw each: 3 KB of text and a 30 KB random
  attachment, which is archived a second time, decoded; with `--blobs small` about 0.25 KB
  and 64 bytes), their blobs archived and their events appended in chunks of 100 per
  transaction (without IMAP and MIME parsing);
- the Merkle follower logging those N events (leaf per event, a hash of every blob file),
  timed on its own: its cost relative to this capture (wall and CPU); with `--with-follower`
  also capture into a fresh store while the follower follows live, against capture alone;
- the follower against a real IMAP first sync (bench/imap_sync.py's mailbox and sync from
  the local Dovecot): its CPU time as a share of the sync's time and CPU, the figure the
  target (under 5 % of the IMAP first sync time) is about;
- `verify`: events/s (leaves recomputed from rows, roots, signatures) and blobs/s (every
  archived file hashed), over the store's N events;
- proofs from the store: inclusion proofs of random events at N, a consistency proof
  from a head signed half-way (hashes, JSON bytes, wall and CPU time, median of several),
  each against the proof from the whole tree built from every leaf (how proofs were made
  before the log stored subtree roots; the paths must be equal);
- `export`: originals, proofs, index, manifest written to a folder;
- proof sizes from trees of random leaves (no database) at 100,000 and 1,000,000 leaves,
  with the time to build the tree that serves all proofs of an export.

    python bench/archive.py [--quick | --full | --events N] [--backend sqlite|postgresql]
                            [--with-follower] [--imap-messages N] [--imap-pairs N]
                            [--imap-only]

`--imap-only` runs only the IMAP measurement (live pairs and apart; `--imap-pairs`, default
3, sets how many pairs). `--quick`: 2,000 events and a 500-message IMAP sync (under a
minute); default 100,000 events and 10,000 messages; `--full` 1,000,000 events with small
blobs (the figures for verify, proofs and export at a million events; about 17 GB of disk,
most of it the file system's 4 KB blocks of some 4 million small files, and over an hour
on a loaded 2-core machine; `--no-export` saves half); `--full --blobs mail` stores
realistic mail (about 100 GB). The output's "stored" says what was stored.
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from hub.archive import Archive
from hub.events import NewEvent, Recorded
from hub.events.mail import Attachment, EmailReceived
from hub.proofs import heads, merkle
from hub.proofs.export import export
from hub.proofs.log import MerkleLog
from hub.proofs.verify import _signed_heads, _verify_blobs, _verify_events, verify
from hub.store import Database, EventStore

PG_ADMIN = os.environ.get("KARTEI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BODY = ("Sehr geehrte Damen und Herren,\r\nanbei unser Angebot. " * 60).encode()
# The IMAP benchmark's mailbox averages 42.5 KB a message (docs/mail.md): here 3 KB of text
# and a base64 attachment of 30 KB of random bytes (incompressible, as PDFs nearly are).
ATTACHMENT = 30_000


# `--blobs small`: the same events and two blobs each, of a few hundred bytes: what
# verify, proofs and export cost per event and per file at a million events, on a disk
# that cannot hold a million realistic mails twice (archive and export).
SMALL_ATTACHMENT = 64


def raw_mail(i: int, small: bool = False) -> bytes:
    head = f"From: kunde{i % 5000}@example.de\r\nTo: info@firma.example\r\n"
    head += f"Subject: Angebot {i}\r\nMessage-ID: <{i}@example.de>\r\n\r\n"
    attachment = base64.encodebytes(os.urandom(SMALL_ATTACHMENT if small else ATTACHMENT))
    body = b"Anbei unser Angebot. " if small else BODY
    return head.encode() + body + str(i).encode() + b"\r\n\r\n" + attachment


async def capture(store: EventStore, archive: Archive, n: int, small: bool = False) -> float:
    started = time.perf_counter()
    attached = SMALL_ATTACHMENT if small else ATTACHMENT
    for chunk in range(0, n, 100):
        batch = []
        for i in range(chunk, min(n, chunk + 100)):
            raw = raw_mail(i, small)
            ref = archive.put(raw, sync=False)
            pdf = archive.put(raw[-attached:], sync=False)  # the attachment, decoded
            event = EmailReceived(
                sender=f"kunde{i % 5000}@example.de",
                subject=f"Angebot {i}",
                text="Sehr geehrte Damen und Herren",
                raw_ref=ref,
                raw_size=len(raw),
                attachments=(
                    Attachment(name="r.pdf", content_type="application/pdf", size=1, ref=pdf),
                ),
            )
            batch.append((f"email-{i}", 0, [NewEvent(event, idempotency_key=f"mail:{i}")]))
        await asyncio.to_thread(archive.sync)
        async with store.transaction() as tx:
            await tx.append_many(batch)
    return time.perf_counter() - started


async def capture_with_follower(url: str, n: int, folder: Path) -> float:
    """Capture as above into a fresh store while the Merkle follower follows it live, as
    in `kartei run`; the clock stops when the follower has logged the last event."""
    store = EventStore(Database(url))
    await store.start()
    try:
        archive = Archive(folder / "archive")
        log = MerkleLog(store, archive.root)
        done = asyncio.Event()

        async def follow() -> None:
            async for batch in store.subscribe(0, batch_size=log.batch_size):
                if (await log.extend(batch)).size >= n:
                    done.set()

        task = asyncio.create_task(follow())
        started = time.perf_counter()
        await capture(store, archive, n)
        await done.wait()
        elapsed = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return elapsed
    finally:
        await store.close()


def decode(batch: list[Recorded]) -> None:
    """Decodes every event of a batch read from the database. Live, the follower takes
    the events from the shared tail as the append constructed them
    (hub.store.store._recorded): it never unseals them. A `Recorded` read from the
    database decodes lazily, on first use of `.event`; without this the follower's clock
    would count unsealing (a third of its time, measured with py-spy), which the live
    follower does not do."""
    for recorded in batch:
        _ = recorded.event


async def against_imap_sync(count: int, folder: Path, pairs: int = 3) -> dict[str, Any]:
    """The follower's cost on capture against a real IMAP first sync: bench/imap_sync's
    mailbox (42.5 KB a message, 10 % with a 200 KB attachment) synced from the local
    Dovecot into a fresh store, as `kartei run` does (fetch, parse and archive in workers,
    append, the read models caught up).

    Live: `pairs` pairs of first syncs, one with the Merkle follower running beside
    capture as the "workers" role runs it (`MerkleFollower` under its lease, following the
    shared tail) and one without, in turns (with first in every other pair, so a change of
    load hits both alike); the sync with the follower ends when it has logged the last
    event too. The cost is the difference of the means in wall time and CPU (main process
    and workers) as a share of the sync without it.
    Apart: the follower then logs a store synced without it, and its CPU time is set
    against that sync's wall time and CPU time."""
    import random
    import shutil

    from imap_sync import Dovecot, fill_maildir, message, warm_up

    rng = random.Random(4)
    dovecot = Dovecot()
    dovecot.start()
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    try:
        fill_maildir(dovecot, "bench", [message(n, rng) for n in range(count)])
        warm_up(dovecot, "bench")
        # One sync first, not counted: the first in a process also pays for imports.
        os.sync()
        await _first_sync(dovecot, folder / "sync-warm", os.cpu_count() or 2, True)
        shutil.rmtree(folder / "sync-warm")
        kept = None
        for turn in range(pairs):
            for follow in (True, False) if turn % 2 else (False, True):
                work = folder / f"sync-{turn}-{'with' if follow else 'without'}"
                os.sync()  # nothing of the run before left to write out
                run = await _first_sync(dovecot, work, os.cpu_count() or 2, follow)
                assert run["captured"] == count, run
                runs[follow].append(run)
                print(f"imap sync, follower {'on ' if follow else 'off'}: {run}", file=sys.stderr)
                if kept is None and not follow:
                    kept = work
                else:
                    shutil.rmtree(work)
    finally:
        dovecot.cleanup()
    assert kept is not None
    figures: dict[str, Any] = {"messages": count, "pairs": pairs}
    figures.update(_live_share(runs, count))
    figures.update(await _apart(kept / "kartei-workers", runs[False][0], count))
    return figures


async def _first_sync(dovecot: Any, work: Path, workers: int, follow: bool) -> dict[str, float]:
    """bench/imap_sync.run_kartei (workers fetch) into `work`/kartei-workers, with the
    Merkle follower beside it when `follow`: the clock stops when every projection, and
    the follower, has caught up with the last event."""
    from imap_sync import run_kartei

    run = await run_kartei(
        dovecot, "bench", work, workers, "workers", beside=_Follower if follow else None
    )
    return {**run, "cpu_s": run["main_cpu_s"] + run["workers_cpu_s"]}


class _Follower:
    """The Merkle follower as the "workers" role runs it: under its lease, on the tail."""

    def __init__(self, store: EventStore, work: Path) -> None:
        from hub.health import ComponentHealth
        from hub.proofs.follower import MerkleFollower
        from hub.store.leases import Leases

        self.merkle = MerkleLog(store, work / "archive")
        health = ComponentHealth(MerkleFollower.name)
        self.follower = MerkleFollower(self.merkle, Leases(store.db), health)

    async def run(self) -> None:
        await self.follower.run()

    async def caught_up(self, head: int) -> None:
        while (await self.merkle.state())[1] < head:  # noqa: ASYNC110 - a poll
            await asyncio.sleep(0.02)


def _live_share(runs: dict[bool, list[dict[str, float]]], count: int) -> dict[str, Any]:
    def mean(follow: bool, key: str) -> float:
        return sum(r[key] for r in runs[follow]) / len(runs[follow])

    wall, cpu = mean(False, "total_s"), mean(False, "cpu_s")
    return {
        "live_sync_s_without": round(wall, 2),
        "live_sync_s_with": round(mean(True, "total_s"), 2),
        "live_sync_cpu_s_without": round(cpu, 2),
        "live_sync_cpu_s_with": round(mean(True, "cpu_s"), 2),
        # The target: the follower's cost under 5 % of the IMAP first sync's time.
        "live_share_of_sync_time": round(mean(True, "total_s") / wall - 1, 3),
        "live_share_of_sync_cpu": round(mean(True, "cpu_s") / cpu - 1, 3),
        "live_cpu_ms_per_message": round((mean(True, "cpu_s") - cpu) / count * 1000, 3),
        # The main process alone (capture's commits, the read models, the follower): the
        # workers' CPU swings most with the load, and the follower adds nothing there.
        "live_main_cpu_s_without": round(mean(False, "main_cpu_s"), 2),
        "live_main_cpu_s_with": round(mean(True, "main_cpu_s"), 2),
        "live_main_cpu_ms_per_message": round(
            (mean(True, "main_cpu_s") - mean(False, "main_cpu_s")) / count * 1000, 3
        ),
        "live_pairs_s": [
            [r["total_s"], w["total_s"]] for r, w in zip(runs[False], runs[True], strict=True)
        ],
        "live_load": [r["load"] for r in runs[False] + runs[True]],
    }


async def _apart(work: Path, sync: dict[str, float], count: int) -> dict[str, Any]:
    """The follower logging a store synced without it, on its own clock."""
    store = EventStore(Database(f"sqlite:///{work / 'kartei.db'}"))
    await store.start()
    try:
        log = MerkleLog(store, work / "archive")
        wall, follower_cpu, events = 0.0, 0.0, 0
        async for batch in store.iter_all(0, log.batch_size):
            decode(batch)  # as above
            started, cpu = time.perf_counter(), time.process_time()
            await log.extend(batch)
            wall += time.perf_counter() - started
            follower_cpu += time.process_time() - cpu
            events += len(batch)
    finally:
        await store.close()
    return {
        "events": events,
        "imap_first_sync_s": round(sync["total_s"], 2),
        "imap_first_sync_cpu_s": round(sync["cpu_s"], 2),
        "follower_s": round(wall, 3),
        "follower_cpu_s": round(follower_cpu, 3),
        "follower_cpu_ms_per_message": round(follower_cpu / count * 1000, 3),
        "follower_cpu_share_of_sync_time": round(follower_cpu / sync["total_s"], 3),
        "follower_cpu_share_of_sync_cpu": round(follower_cpu / sync["cpu_s"], 3),
    }


def proof_sizes(n: int) -> dict[str, Any]:
    leaves = [os.urandom(32) for _ in range(n)]
    started = time.perf_counter()
    tree = merkle.Tree(leaves)
    built = time.perf_counter() - started
    started = time.perf_counter()
    paths = [tree.inclusion_path(i) for i in range(0, n, max(1, n // 1000))]
    per_proof = (time.perf_counter() - started) / len(paths)
    consistency = tree.consistency_path(n * 2 // 3 + 1)
    return {
        "leaves": n,
        "tree_build_s": round(built, 3),
        "inclusion_proof_ms": round(per_proof * 1000, 4),
        "inclusion_hashes_max": max(len(p) for p in paths),
        "inclusion_bytes_max": 32 * max(len(p) for p in paths),
        "consistency_hashes": len(consistency),
        "consistency_bytes": 32 * len(consistency),
    }


def timed(reps: int) -> Any:
    """Runs an async call `reps` times: its last result, median wall and CPU ms."""

    async def measure(call: Any) -> tuple[Any, float, float]:
        walls, cpus = [], []
        for _ in range(reps):
            started, cpu = time.perf_counter(), time.process_time()
            result = await call()
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        return result, statistics.median(walls) * 1000, statistics.median(cpus) * 1000

    return measure


async def proofs_from_store(
    log: MerkleLog, n: int, middle: Any, head: Any, figures: dict[str, Any]
) -> None:
    """Inclusion proofs of random events and the consistency proof from the half-way
    head: from the stored nodes, and (the way before) from the whole tree of every leaf."""
    rng = random.Random(5)
    positions = [n // 2, *rng.sample(range(1, n + 1), 19)]
    walls, cpus, hashes_read = [], [], []
    for position in positions:
        proof, wall, cpu = await timed(3)(lambda p=position: log.inclusion(p))
        walls.append(wall)
        cpus.append(cpu)
        ranges = merkle.inclusion_ranges(proof["leaf_index"], proof["tree_size"])
        hashes_read.append(sum(b - a for s in merkle.reads(ranges).values() for a, b in s))
    figures["prove_one_ms"] = round(statistics.median(walls), 2)
    figures["prove_one_cpu_ms"] = round(statistics.median(cpus), 2)
    figures["prove_one_ms_max"] = round(max(walls), 2)
    figures["prove_hashes_read_max"] = max(hashes_read)
    proof = await log.inclusion(n // 2)
    figures["inclusion_proof_json_bytes"] = len(json.dumps(proof))
    figures["inclusion_proof_hashes"] = len(proof["path"])

    async def whole_tree_inclusion() -> list[bytes]:
        tree = merkle.Tree(await log.leaf_hashes(head.size))
        return tree.inclusion_path(proof["leaf_index"])

    reps = 3 if n <= 200_000 else 1
    path, wall, cpu = await timed(reps)(whole_tree_inclusion)
    assert [p.hex() for p in path] == proof["path"], "stored-node proof differs"
    figures["prove_one_whole_tree_ms"] = round(wall, 1)
    figures["prove_one_whole_tree_cpu_ms"] = round(cpu, 1)

    consistency, wall, cpu = await timed(5)(lambda: log.consistency(middle, head))
    figures["consistency_ms"] = round(wall, 2)
    figures["consistency_cpu_ms"] = round(cpu, 2)
    figures["consistency_from_size"] = middle.size
    figures["consistency_proof_hashes"] = len(consistency["path"])
    figures["consistency_proof_json_bytes"] = len(json.dumps(consistency))

    async def whole_tree_consistency() -> list[bytes]:
        return merkle.consistency_path(middle.size, await log.leaf_hashes(head.size))

    path, wall, cpu = await timed(reps)(whole_tree_consistency)
    assert [p.hex() for p in path] == consistency["path"], "stored-node proof differs"
    figures["consistency_whole_tree_ms"] = round(wall, 1)
    figures["consistency_whole_tree_cpu_ms"] = round(cpu, 1)


def stored(n: int, small: bool, archive: Path, url: str, folder: Path) -> str:
    """What the run stored, for the output."""
    blobs = (
        "small blobs (a 0.25 KB mail and a 64-byte attachment)"
        if small
        else ("realistic mail (43 KB raw and its 30 KB attachment)")
    )
    size = sum(f.stat().st_size for f in archive.rglob("*") if f.is_file())
    database = folder / "kartei.db"
    where = (
        f"SQLite {database.stat().st_size / 1e6:.0f} MB"
        if url.startswith("sqlite") and database.exists()
        else "PostgreSQL"
    )
    return (
        f"{n:,} EmailReceived events with 2 blobs each, {blobs}: "
        f"archive {size / 1e6:,.0f} MB in files ({where})"
    )


async def run(
    url: str, n: int, folder: Path, small: bool = False, export_too: bool = True
) -> dict[str, Any]:
    store = EventStore(Database(url))
    await store.start()
    archive = Archive(folder / "archive")
    figures: dict[str, Any] = {"events": n}
    try:
        cpu = time.process_time()
        seconds = await capture(store, archive, n, small)
        cpu_capture = time.process_time() - cpu
        figures["capture_s"] = round(seconds, 2)
        figures["capture_events_per_s"] = round(n / seconds)
        figures["capture_cpu_s"] = round(cpu_capture, 2)
        log = MerkleLog(store, archive.root)
        key = heads.ensure_key(folder)
        follower, follower_cpu, middle = 0.0, 0.0, None
        async for batch in store.iter_all(0, log.batch_size):
            decode(batch)
            started, cpu = time.perf_counter(), time.process_time()
            size = (await log.extend(batch)).size
            follower += time.perf_counter() - started
            follower_cpu += time.process_time() - cpu
            if middle is None and size >= n // 2:  # a head half-way: a real consistency proof
                middle = await log.sign(key)
        figures["follower_s"] = round(follower, 2)
        figures["follower_cpu_s"] = round(follower_cpu, 2)
        figures["follower_share_of_capture"] = round(follower / seconds, 3)
        figures["follower_cpu_share_of_capture"] = round(follower_cpu / cpu_capture, 3)
        figures["follower_ms_per_event"] = round(follower / n * 1000, 3)
        # CPU per event, to set against the IMAP first sync's CPU per message (docs/mail.md:
        # main process about 0.6 ms, workers about 1 ms): wall times swing with the load.
        figures["follower_cpu_ms_per_event"] = round(follower_cpu / n * 1000, 3)
        started = time.perf_counter()
        head = await log.sign(key)
        figures["sign_ms"] = round((time.perf_counter() - started) * 1000, 1)

        public = key.public_key()
        started = time.perf_counter()
        report = await verify(log, public)
        figures["verify_s"] = round(time.perf_counter() - started, 2)
        assert report.ok, report.problems[:5]
        from hub.proofs.verify import Report

        part = Report()
        signed = _signed_heads(await log.heads(), public, part)
        started = time.perf_counter()
        blobs = await _verify_events(log, signed, part)
        events_s = time.perf_counter() - started
        started = time.perf_counter()
        _verify_blobs(archive.root, blobs, part)
        blobs_s = time.perf_counter() - started
        figures["verify_events_per_s"] = round(part.events / events_s)
        figures["verify_blobs_per_s"] = round(part.blobs / blobs_s)
        figures["verify_blobs"] = part.blobs

        assert middle is not None
        await proofs_from_store(log, n, middle, head, figures)
        figures["stored"] = await asyncio.to_thread(stored, n, small, archive.root, url, folder)

        if export_too:
            started = time.perf_counter()
            summary = await export(
                log, head, folder / "export", public_pem=heads.public_pem(public)
            )
            exported = time.perf_counter() - started
            figures["export_s"] = round(exported, 2)
            figures["export_events_per_s"] = round(summary.events / exported)
            size = summary.size
            figures["export_mb_per_s"] = round(size / exported / 1e6, 1)
    finally:
        await store.close()
    return figures


def pg_url() -> tuple[str, str]:
    name = f"kartei_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 events, under a minute")
    parser.add_argument("--events", type=int, help="events captured (default 100,000)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="1,000,000 events, small blobs unless --blobs mail (then about 55 GB of "
        "archive and 43 GB of export on disk)",
    )
    parser.add_argument(
        "--blobs",
        choices=["mail", "small"],
        help="what each event's two blobs are: realistic mail (43 KB; the default) or a "
        "few hundred bytes (the default with --full)",
    )
    parser.add_argument("--no-export", action="store_true", help="skip the export")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--with-follower",
        action="store_true",
        help="capture again into a fresh store with the follower running live (twice the time)",
    )
    parser.add_argument(
        "--imap-messages",
        type=int,
        help="the follower against a real IMAP first sync of this many messages (needs "
        "Dovecot; default 10,000, --quick 500; 0 skips it)",
    )
    parser.add_argument(
        "--imap-pairs", type=int, default=3, help="pairs of IMAP syncs with and without"
    )
    parser.add_argument(
        "--imap-only", action="store_true", help="only the follower against the IMAP sync"
    )
    args = parser.parse_args()
    n = args.events or (2_000 if args.quick else 1_000_000 if args.full else 100_000)
    small = (args.blobs or ("small" if args.full else "mail")) == "small"
    results: dict[str, Any] = {"quick": args.quick, "backend": args.backend}
    with tempfile.TemporaryDirectory(prefix="kartei-bench-archive-") as tmp:
        if args.imap_only:
            imap = args.imap_messages or (500 if args.quick else 10_000)
            results["imap"] = asyncio.run(against_imap_sync(imap, Path(tmp), args.imap_pairs))
            for key, value in results["imap"].items():
                print(f"imap: {key:<32}{value}", file=sys.stderr)
            print(json.dumps(results))
            return
        folder = Path(tmp)
        if args.backend == "sqlite":
            url, dropped = f"sqlite:///{folder / 'kartei.db'}", None
        else:
            url, dropped = pg_url()
        try:
            results["log"] = asyncio.run(run(url, n, folder, small, not args.no_export))
        finally:
            if dropped:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
    if args.with_follower:
        with tempfile.TemporaryDirectory(prefix="kartei-bench-archive-") as tmp:
            folder = Path(tmp)
            url, dropped = (
                (f"sqlite:///{folder / 'kartei.db'}", None)
                if args.backend == "sqlite"
                else pg_url()
            )
            try:
                both = asyncio.run(capture_with_follower(url, n, folder))
            finally:
                if dropped:
                    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
        alone = results["log"]["capture_s"]
        results["log"]["capture_with_follower_s"] = round(both, 2)
        results["log"]["capture_slowdown_with_follower"] = round(both / alone - 1, 3)
    imap = args.imap_messages if args.imap_messages is not None else (500 if args.quick else 10_000)
    if imap:
        with tempfile.TemporaryDirectory(prefix="kartei-bench-archive-") as tmp:
            results["imap"] = asyncio.run(against_imap_sync(imap, Path(tmp), args.imap_pairs))
        for key, value in results["imap"].items():
            print(f"imap: {key:<32}{value}", file=sys.stderr)
    sizes = [10_000] if args.quick else [100_000, 1_000_000]
    results["proofs"] = [proof_sizes(s) for s in sizes]
    for key, value in results["log"].items():
        print(f"{key:<32}{value}", file=sys.stderr)
    for row in results["proofs"]:
        print(row, file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
