"""Projection CPU per event: every default projection applying the batches of a first sync.

A fresh SQLite store is filled with the IMAP benchmark's mail (bench/imap_sync.py's
messages, parsed and archived by the mail intake, appended as a sync appends them). Each
round rebuilds every projection's tables and applies the log's batches to it through its
`ProjectionRunner`, with the events already decoded, as the live tail hands them over
during a sync; the figure is the main process's CPU time per event of each projection.

    python bench/projection_catchup.py [--messages N] [--rounds N] [--profile FILE]
                                       [--store DIR] [--text feedback]

`--store` keeps the filled store in DIR and reuses it on the next run (for a before/after
comparison on the same events).

`--text feedback` builds each body from the German customer messages in
bench/data/german_feedback.jsonl instead of the IMAP benchmark's 30-word vocabulary: real
prose has many more distinct trigrams per message, which is what the search index's cost
follows (docs/mail.md, "Speed").

`--profile` writes a cProfile of the last round (pstats format). The last line printed is
one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.mail.pipeline import MailIntake, store_prepared
from bench.imap_sync import RULES, message
from hub.archive import Archive
from hub.bootstrap import default_projections
from hub.capture import Capture
from hub.health import ComponentHealth
from hub.projection import ProjectionRunner
from hub.settings import Settings
from hub.store import Database, EventStore

CHUNK = 200  # messages per append, as the IMAP sync commits them


FEEDBACK = Path(__file__).resolve().parent / "data" / "german_feedback.jsonl"


def prose_message(n: int, rng: random.Random, texts: list[str]) -> bytes:
    """A mail the size of the IMAP benchmark's, written in real German customer prose."""
    msg = EmailMessage()
    msg["From"] = f"Kunde {n} <kunde{n % 700}@kunde{n % 50}.example>"
    msg["To"] = "info@firma.example"
    msg["Subject"] = f"Anfrage {n}: {rng.choice(texts)[:40]}"
    msg["Message-ID"] = f"<prose-{n}@kunde.example>"
    size = int(rng.expovariate(1 / 12_000)) + 500
    parts: list[str] = []
    while sum(len(p) + 2 for p in parts) < size:
        parts.append(rng.choice(texts))
    msg.set_content("\n\n".join(parts) + "\n--\nKunde\nTel.: 030 1234567\n")
    return msg.as_bytes()


async def fill(store: EventStore, work: Path, count: int, text: str) -> None:
    intake = MailIntake(Archive(work / "archive"), RULES, workers=2)
    capture = Capture(store, "imap:bench", ComponentHealth("bench"))
    rng = random.Random(1)
    texts = [json.loads(line)["text"] for line in FEEDBACK.read_text().splitlines()]

    def make(n: int) -> bytes:
        return prose_message(n, rng, texts) if text == "feedback" else message(n, rng)

    try:
        for start in range(0, count, CHUNK):
            raws = [(make(n), "INBOX") for n in range(start, min(count, start + CHUNK))]
            prepared = await intake.prepare_many(raws)
            async with capture.transaction() as tx:
                await store_prepared(tx, prepared, capture.source)
    finally:
        intake.close()


async def one_round(
    store: EventStore, runners: list[ProjectionRunner]
) -> dict[str, tuple[float, float]]:
    """CPU seconds per event of each runner applying the whole log, events decoded: the
    process's (with the database thread) and the event loop's own."""
    out = {}
    for runner in runners:
        async with store.db.write() as conn:
            await runner._reset(conn)
        types = runner.projection.event_types
        batches = []
        position, head = 0, await store.head()
        while position < head:
            batch = await store.read_all(position, runner.batch_size, types=types)
            if not batch:
                break
            for r in batch:
                r.event  # noqa: B018 -- decoded beforehand, as the live tail's events are
            batches.append(batch)
            position = batch[-1].position
        events = sum(len(b) for b in batches)
        clock, loop_clock = time.process_time(), time.thread_time()
        for batch in batches:
            await runner.apply(batch)
        spent = time.process_time() - clock, time.thread_time() - loop_clock
        out[runner.projection.name] = (spent[0] / max(1, events), spent[1] / max(1, events))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=200, help="events per batch (sync chunk)")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--store", type=Path, help="keep the filled store here, reuse it")
    parser.add_argument("--quick", action="store_true", help="500 messages, 2 rounds")
    parser.add_argument(
        "--text", choices=("bench", "feedback"), default="bench", help="what bodies hold"
    )
    args = parser.parse_args()
    if args.quick:
        args.messages, args.rounds = 500, 2
    with tempfile.TemporaryDirectory() as tmp:
        work = args.store or Path(tmp)
        filled = (work / "kartei.db").exists()
        store = EventStore(Database(f"sqlite:///{work / 'kartei.db'}"))
        await store.start()
        try:
            if not filled:
                await fill(store, work, args.messages, args.text)
            runners = [
                ProjectionRunner(store, p, batch_size=args.batch)
                for p in default_projections(Settings())
            ]
            for runner in runners:
                await runner.prepare()
            rounds = []
            profiler = cProfile.Profile() if args.profile else None
            for n in range(args.rounds):
                if profiler and n == args.rounds - 1:
                    profiler.enable()
                rounds.append(await one_round(store, runners))
                if profiler and n == args.rounds - 1:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
        finally:
            await store.close()
    figures: dict[str, dict[str, list[float]]] = {}  # µs of CPU per event
    for which, index in (("process", 0), ("loop", 1)):
        figures[which] = {
            name: [round(1e6 * r[name][index], 1) for r in rounds] for name in rounds[0]
        }
        figures[which]["all"] = [round(sum(1e6 * v[index] for v in r.values()), 1) for r in rounds]
        for name, values in figures[which].items():
            median = statistics.median(values)
            print(f"{which:>7} {name:>12}: median {median:7.1f} µs/event  {values}")
    print(f"load average: {os.getloadavg()}")
    print(json.dumps({"us_per_event": figures, "load": os.getloadavg()}))


if __name__ == "__main__":
    asyncio.run(main())
