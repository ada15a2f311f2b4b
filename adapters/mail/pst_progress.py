"""How far a PST import got, per file state and folder, for a run that was stopped.

The row moves in the same transaction as the events of the messages it counts (as the
IMAP checkpoint does), so a killed import resumes after the last committed message. It
only saves work: the capture keys alone keep a re-run from storing anything twice. The
node id of the last message counted is checked on resume; where it differs (the file
changed in place), the folder is read again from its start.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.sql import create_tables, dialect_insert

tables = sa.MetaData()
progress = sa.Table(
    "pst_import_progress",
    tables,
    sa.Column("file", sa.Text, primary_key=True),  # pst.fingerprint: size and header
    sa.Column("folder", sa.Text, primary_key=True),
    sa.Column("done", sa.BigInteger, nullable=False),  # messages read, from the first
    sa.Column("last_node", sa.BigInteger, nullable=False),  # the last one's node id
)


@dataclass(frozen=True, slots=True)
class FolderProgress:
    done: int
    last_node: int


async def ensure_table(conn: AsyncConnection) -> None:
    await create_tables(conn, tables)


async def load(conn: AsyncConnection, file: str) -> dict[str, FolderProgress]:
    c = progress.c
    rows = await conn.execute(sa.select(c.folder, c.done, c.last_node).where(c.file == file))
    return {r.folder: FolderProgress(int(r.done), int(r.last_node)) for r in rows}


async def save(conn: AsyncConnection, file: str, folder: str, point: FolderProgress) -> None:
    """Moves the folder's mark (inside the transaction that appended its messages)."""
    stmt = dialect_insert(conn, progress).values(
        file=file, folder=folder, done=point.done, last_node=point.last_node
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["file", "folder"],
        set_={"done": stmt.excluded.done, "last_node": stmt.excluded.last_node},
    )
    await conn.execute(stmt)
