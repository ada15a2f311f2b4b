"""How far a PST import got, per file state and folder, for a run that was stopped.

The row moves in the same transaction as the events of the messages it counts (as the
IMAP checkpoint does), so a killed import resumes after the last committed message. It
only saves work: the capture keys alone keep a re-run from storing anything twice. The
node id of the last message counted is checked on resume; where it differs (the file
changed in place), the folder is read again from its start. A folder is kept as a hash
of its path, never by name: a folder may be named for a person ("Kunden/Meyer"), and
these rows are no event that erasing the person's key could make unreadable.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.sql import create_tables, dialect_insert

tables = sa.MetaData()
progress = sa.Table(
    "pst_import_progress",
    tables,
    sa.Column("file", sa.Text, primary_key=True),  # pst.fingerprint: size and header
    sa.Column("folder", sa.Text, primary_key=True),  # folder_key: a hash of its path
    sa.Column("done", sa.BigInteger, nullable=False),  # messages read, from the first
    sa.Column("last_node", sa.BigInteger, nullable=False),  # the last one's node id
)


@dataclass(frozen=True, slots=True)
class FolderProgress:
    done: int
    last_node: int


def folder_key(file: str, folder: str) -> str:
    """A folder's row: compared, never read back (a hash of the file state and path)."""
    data = f"kartei-pst-folder\0{file}\0{folder}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


_FOLDER_KEY = re.compile(r"[0-9a-f]{32}")


async def ensure_table(conn: AsyncConnection) -> None:
    """The table, without the marks of earlier versions, which named the folder in plain
    text (they only saved work: those folders are read again, nothing is stored twice)."""
    await create_tables(conn, tables)
    c = progress.c
    rows = await conn.execute(sa.select(c.folder))
    named = [r.folder for r in rows if not _FOLDER_KEY.fullmatch(r.folder)]
    if named:
        await conn.execute(sa.delete(progress).where(c.folder.in_(named)))


async def load(conn: AsyncConnection, file: str) -> dict[str, FolderProgress]:
    """The file's marks by `folder_key`."""
    c = progress.c
    rows = await conn.execute(sa.select(c.folder, c.done, c.last_node).where(c.file == file))
    return {r.folder: FolderProgress(int(r.done), int(r.last_node)) for r in rows}


async def save(conn: AsyncConnection, file: str, folder: str, point: FolderProgress) -> None:
    """Moves the folder's mark (inside the transaction that appended its messages)."""
    stmt = dialect_insert(conn, progress).values(
        file=file, folder=folder_key(file, folder), done=point.done, last_node=point.last_node
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["file", "folder"],
        set_={"done": stmt.excluded.done, "last_node": stmt.excluded.last_node},
    )
    await conn.execute(stmt)
