"""A batch written in one hop stores exactly what SQLAlchemy's executemany stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from hub.sql import UtcDateTime, create_tables, dialect_insert, upsert
from hub.store import EventStore
from projections.batch_writes import BatchWriter

TABLES = sa.MetaData()


def _table(name: str) -> sa.Table:
    return sa.Table(
        name,
        TABLES,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("at", UtcDateTime, nullable=True),
        sa.Column("date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("count", sa.BigInteger, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )


VIA_SQLALCHEMY = _table("batch_via_sqlalchemy")
VIA_WRITER = _table("batch_via_writer")
BERLIN = timezone(timedelta(hours=1))
ROWS = [
    {"key": "a", "at": datetime(2026, 12, 7, 13, 12, tzinfo=BERLIN), "date": None},
    {"key": "b", "at": datetime(2026, 1, 1), "date": datetime(2025, 3, 1, 12, tzinfo=BERLIN)},
    {"key": "c", "at": datetime(2026, 6, 30, 23, 59, 59, 999, tzinfo=UTC), "date": None},
]


def _rows(note: str) -> list[dict[str, object]]:
    return [{**row, "count": n * 10**12, "note": f"{note} ü {n}"} for n, row in enumerate(ROWS)]


async def test_rows_stored_as_sqlalchemy_stores_them(store: EventStore) -> None:
    writer = BatchWriter()
    async with store.db.write() as conn:
        await create_tables(conn, TABLES)
        columns = ["at", "date", "count", "note"]
        for table, write in ((VIA_SQLALCHEMY, False), (VIA_WRITER, True)):
            first = dialect_insert(conn, table).on_conflict_do_nothing()
            update = upsert(conn, table, ["key"], columns)
            if write:  # the same statements twice: compiled once, reused
                await writer.write(conn, [(first, _rows("first")), (update, [])])
                await writer.write(conn, [(update, _rows("second")[1:])])
            else:
                await conn.execute(first, _rows("first"))
                await conn.execute(update, _rows("second")[1:])
    async with store.db.read() as conn:
        # Raw stored values: what each path bound, before any type's result processing.
        found = [
            (await conn.exec_driver_sql(f"SELECT * FROM {t.name} ORDER BY key")).all()
            for t in (VIA_SQLALCHEMY, VIA_WRITER)
        ]
    assert found[0] == found[1]
    assert [row.note for row in found[1]] == ["first ü 0", "second ü 1", "second ü 2"]
    assert len(found[1]) == 3
