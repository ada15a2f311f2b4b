"""Per-folder IMAP checkpoints: (UIDVALIDITY, highest UID captured), and the last sync.

The checkpoint row moves in the same transaction as the events it covers (invariant 3):
after a crash, capture resumes exactly after the last committed message. Beside them, per
account, which Sent folder the last connection found (or the warning that there is none),
for `kartei capture status`, which runs in another process than the capture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.imap.folders import SentFolders
from hub.sql import create_tables, dialect_insert

tables = sa.MetaData()
checkpoints = sa.Table(
    "imap_checkpoints",
    tables,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("folder", sa.Text, primary_key=True),
    sa.Column("uidvalidity", sa.BigInteger, nullable=False),
    sa.Column("last_uid", sa.BigInteger, nullable=False),
    sa.Column("messages", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_sync", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
)
accounts = sa.Table(
    "imap_accounts",
    tables,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("sent_folders", sa.Text, nullable=False),  # one name a line
    sa.Column("found_by", sa.Text, nullable=False),
    sa.Column("warning", sa.Text, nullable=True),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int


async def ensure_table(conn: AsyncConnection) -> None:
    await create_tables(conn, tables)


async def load(conn: AsyncConnection, account: str, folder: str) -> Checkpoint | None:
    c = checkpoints.c
    row = (
        await conn.execute(
            sa.select(c.uidvalidity, c.last_uid).where(c.account == account, c.folder == folder)
        )
    ).first()
    return Checkpoint(int(row.uidvalidity), int(row.last_uid)) if row else None


async def save(
    conn: AsyncConnection, account: str, folder: str, point: Checkpoint, captured: int
) -> None:
    """Moves the checkpoint (call inside the transaction that appended the events)."""
    await conn.execute(
        _save_statement(conn),
        {
            "account": account,
            "folder": folder,
            "uidvalidity": point.uidvalidity,
            "last_uid": point.last_uid,
            "messages": captured,
            "last_sync": datetime.now(UTC),
        },
    )


_SAVES: dict[str, sa.Insert] = {}


def _save_statement(conn: AsyncConnection) -> sa.Insert:
    """The upsert `save` runs, built once per database kind: building a statement (and
    SQLAlchemy its cache key) for every commit is work the event loop need not do."""
    stmt = _SAVES.get(conn.dialect.name)
    if stmt is None:
        insert = dialect_insert(conn, checkpoints)
        stmt = _SAVES[conn.dialect.name] = insert.on_conflict_do_update(
            index_elements=["account", "folder"],
            set_={
                "uidvalidity": insert.excluded.uidvalidity,
                "last_uid": insert.excluded.last_uid,
                "last_sync": insert.excluded.last_sync,
                "last_error": None,
                "messages": checkpoints.c.messages + insert.excluded.messages,
            },
        )
    return stmt


async def reset(conn: AsyncConnection, account: str, folder: str | None) -> int:
    """Makes the next sync re-read the folder(s) from the start (keys prevent duplicates)."""
    c = checkpoints.c
    where = [c.account == account] + ([c.folder == folder] if folder else [])
    result = await conn.execute(sa.update(checkpoints).where(*where).values(last_uid=0))
    return int(result.rowcount or 0)


async def record_error(conn: AsyncConnection, account: str, folder: str, error: str) -> None:
    c = checkpoints.c
    await conn.execute(
        sa.update(checkpoints)
        .where(c.account == account, c.folder == folder)
        .values(last_error=error[:500])
    )


async def save_sent(conn: AsyncConnection, account: str, sent: SentFolders) -> None:
    """Records which Sent folder(s) this connection found, or the warning."""
    stmt = dialect_insert(conn, accounts)
    columns = ("sent_folders", "found_by", "warning", "checked_at")
    stmt = stmt.on_conflict_do_update(
        index_elements=["account"], set_={c: getattr(stmt.excluded, c) for c in columns}
    )
    await conn.execute(
        stmt,
        {
            "account": account,
            "sent_folders": "\n".join(sent.names),
            "found_by": sent.found_by,
            "warning": sent.warning,
            "checked_at": datetime.now(UTC),
        },
    )


async def sent_by_account(conn: AsyncConnection) -> dict[str, dict[str, object]]:
    """Per account: its Sent folders (a list), how they were found, warning, checked_at."""
    rows = await conn.execute(sa.select(accounts).order_by(accounts.c.account))
    return {
        r.account: {
            "sent_folders": r.sent_folders.split("\n") if r.sent_folders else [],
            "found_by": r.found_by,
            "warning": r.warning,
            "checked_at": r.checked_at,
        }
        for r in rows
    }


async def all_rows(conn: AsyncConnection) -> list[dict[str, object]]:
    rows = await conn.execute(
        sa.select(checkpoints).order_by(checkpoints.c.account, checkpoints.c.folder)
    )
    return [{str(k): v for k, v in r._mapping.items()} for r in rows]
