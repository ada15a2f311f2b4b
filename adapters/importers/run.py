"""`kartei import FILE`: read a file, plan each row against the directory, append per row."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.importers import remarks
from adapters.importers.plan import Directory, Outcome, Plan, Write, plan_import
from adapters.importers.remarks import Remark
from adapters.importers.tabular import FileFormatError, Record, read_csv, read_xlsx
from adapters.importers.vcard import read_vcards
from hub.contacts.model import Contact, stream_of
from hub.events import Metadata, NewEvent
from hub.store import EventStore
from hub.store.errors import ConcurrencyError

MAX_FILE_BYTES = 200 * 1024 * 1024
ROWS_PER_COMMIT = 250  # rows are all-or-nothing each; committing many at once is faster

Progress = Callable[[int, int], None]  # (rows written, rows to write)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (or, in a dry run, would do), row by row."""

    file: str
    format: str
    file_hash: str
    outcomes: list[Outcome]
    dry_run: bool
    appended: int = 0

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def summary(self) -> dict[str, int]:
        actions = ("create", "merge", "unchanged", "duplicate", "error")
        return {action: self.count(action) for action in actions}


def detect_format(path: Path, data: bytes) -> str:
    """csv, xlsx or vcard: by the file's name, else by its first bytes."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".vcf", ".vcard"):
        return "vcard"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if b"BEGIN:VCARD" in data[:4096].upper():
        return "vcard"
    return "csv"


def read_records(fmt: str, data: bytes, mapping: dict[str, str] | None) -> list[Record]:
    """The file's records (a FileFormatError when the file as a whole is unusable)."""
    if fmt == "vcard":
        return read_vcards(data)
    table = read_xlsx(data, mapping) if fmt == "xlsx" else read_csv(data, mapping)
    return table.records


async def import_file(
    path: Path,
    store: EventStore,
    known: list[Contact],
    *,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    on_duplicate: str = "merge",
    region: str = "DE",
    own_area_code: str | None = None,
    progress: Progress | None = None,
    actor: str | None = None,
) -> ImportReport:
    """Imports a file; duplicates are looked for among the `known` contacts (all of the
    directory, merged ones included: `ContactDirectory.all`)."""
    data = await asyncio.to_thread(_read, path)
    fmt = detect_format(path, data)
    file_hash = hashlib.sha256(data).hexdigest()[:16]
    records = await asyncio.to_thread(read_records, fmt, data, mapping)
    plan = await asyncio.to_thread(
        plan_import,
        records,
        Directory(known),
        file_hash,
        on_duplicate=on_duplicate,
        region=region,
        own_area_code=own_area_code,
    )
    appended = 0
    if not dry_run:
        meta = Metadata(source=f"import:{fmt}", actor=actor)
        appended = await write_plan(store, plan, meta, progress)
    return ImportReport(str(path), fmt, file_hash, plan.outcomes, dry_run, appended)


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileFormatError(remarks.TOO_LARGE, size=size, limit=MAX_FILE_BYTES)
    return path.read_bytes()


async def write_plan(
    store: EventStore, plan: Plan, meta: Metadata, progress: Progress | None = None
) -> int:
    """Appends the plan's events, many rows per commit; a row that conflicts with a
    concurrent change is reported and the rest still written."""
    writes = sorted(plan.writes, key=lambda w: w.line)
    outcomes = {o.line: o for o in plan.outcomes}
    appended = 0
    for start in range(0, len(writes), ROWS_PER_COMMIT):
        chunk = writes[start : start + ROWS_PER_COMMIT]
        try:
            appended += await _commit(store, chunk, meta)
        except ConcurrencyError:
            for write in chunk:  # one at a time, to find the rows that conflict
                try:
                    appended += await _commit(store, [write], meta)
                except ConcurrencyError:
                    outcome = outcomes[write.line]
                    outcome.action = "error"
                    outcome.reason = Remark.of(remarks.CHANGED_MEANWHILE)
        if progress:
            progress(min(start + ROWS_PER_COMMIT, len(writes)), len(writes))
    return appended


async def _commit(store: EventStore, writes: list[Write], meta: Metadata) -> int:
    appended = 0
    async with store.transaction() as tx:
        for w in writes:
            event = NewEvent(w.event, w.key, meta)
            result = await tx.append(stream_of(w.contact_id), w.expected_version, [event])
            appended += result.appended
    return appended
