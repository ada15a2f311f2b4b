"""Cleaning the database's free pages after an erasure.

Deleted rows stay on their pages (and in SQLite's write-ahead log) until overwritten.
SQLite: the search indexes are merged (FTS5 'optimize' drops deleted entries), VACUUM
rewrites the file with `secure_delete`, and a TRUNCATE checkpoint empties the WAL.
PostgreSQL: VACUUM marks the dead rows' space free; their bytes go only when the pages
are reused or the table is rewritten (VACUUM FULL, which locks it), and the WAL and any
backups keep them until they are recycled (docs/privacy.md says what to do).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Sequence

import sqlalchemy as sa

from hub.store import Database

log = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 30.0  # a reader of another process may hold the WAL a moment


async def free_pages(db: Database, tables: Sequence[str], *, full: bool = False) -> None:
    """Wipes the free pages of the database (`full`: VACUUM FULL on PostgreSQL)."""
    if db.is_sqlite:
        path = db.url.database
        if path and path != ":memory:":
            async with db.write_turn():
                await asyncio.to_thread(_sqlite_vacuum, path)
        return
    async with db.writer.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in dict.fromkeys(tables):
            exists = await auto.scalar(sa.text("SELECT to_regclass(:t)"), {"t": table})
            if exists is not None:
                mode = "FULL, ANALYZE" if full else "ANALYZE"
                await auto.exec_driver_sql(f'VACUUM ({mode}) "{table}"')


def _sqlite_vacuum(path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=CHECKPOINT_SECONDS)
    try:
        conn.execute("PRAGMA secure_delete=ON")
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE '%USING fts5%'"
        ).fetchall()
        for (fts,) in rows:
            conn.execute(f'INSERT INTO "{fts}"("{fts}") VALUES(\'optimize\')')
        conn.execute("VACUUM")
        deadline = time.monotonic() + CHECKPOINT_SECONDS
        while True:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                break
            if time.monotonic() > deadline:
                log.warning("the WAL of %s could not be emptied: a reader holds it", path)
                break
            time.sleep(0.1)
    finally:
        conn.close()
