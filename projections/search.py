"""Full-text search over contact cards: SQLite FTS5 (trigram) or PostgreSQL trigram, one API.

Both backends keep one row of searchable text per contact in `contact_search`. SQLite adds
an FTS5 trigram index kept in step by triggers; PostgreSQL uses a pg_trgm GIN index when the
extension can be had, and a plain scan otherwise (fine at a firm's few thousand contacts).
Trigrams find any fragment of three or more characters, so part of a phone number works.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_QUERY = 200  # characters of a search that count; nobody types more into a search box
_PHONEISH = re.compile(r"^[\d\s+/().\-]+$")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS contact_fts USING fts5("
    "body, content='contact_search', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS contact_search_ai AFTER INSERT ON contact_search BEGIN "
    "INSERT INTO contact_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS contact_search_ad AFTER DELETE ON contact_search BEGIN "
    "INSERT INTO contact_fts(contact_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS contact_search_au AFTER UPDATE ON contact_search BEGIN "
    "INSERT INTO contact_fts(contact_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO contact_fts(rowid, body) VALUES (new.id, new.body); END",
)
# The extension may be missing or not ours to create; search still works without it.
_POSTGRES_DDL = """
DO $$ DECLARE ns text; BEGIN
  BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN others THEN NULL; END;
  SELECT n.nspname INTO ns FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace
   WHERE o.opcname = 'gin_trgm_ops' LIMIT 1;
  IF ns IS NOT NULL THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS contact_search_trgm ON contact_search '
                   'USING gin (body %%I.gin_trgm_ops)', ns);
  END IF;
END $$
"""


def search_table(metadata: sa.MetaData) -> sa.Table:
    """The `contact_search` table in `metadata`, with each backend's index created along."""
    table = sa.Table(
        "contact_search",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text, nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    for ddl in _SQLITE_DDL:
        sa.event.listen(metadata, "after_create", sa.DDL(ddl).execute_if(dialect="sqlite"))
    sa.event.listen(
        metadata,
        "before_drop",
        sa.DDL("DROP TABLE IF EXISTS contact_fts").execute_if(dialect="sqlite"),
    )
    sa.event.listen(
        metadata, "after_create", sa.DDL(_POSTGRES_DDL).execute_if(dialect="postgresql")
    )
    return table


def fold(text: str) -> str:
    """Lower case, plus the ASCII spelling of umlauts ("Müller" finds "mueller")."""
    lowered = unicodedata.normalize("NFC", text).lower()
    folded = lowered.translate(_FOLD)
    return lowered if folded == lowered else f"{lowered} {folded}"


def document(parts: Iterable[str | None]) -> str:
    """The searchable text of a card from its parts."""
    return fold(" | ".join(p for p in parts if p))


def terms(query: str) -> list[str]:
    """The fragments all of which a card must contain; a phone number is one fragment."""
    text = unicodedata.normalize("NFC", query[:MAX_QUERY]).strip().lower()
    if _PHONEISH.match(text) and sum(c.isdigit() for c in text) >= 3:
        digits = re.sub(r"\D", "", text)
        return [digits[2:] if digits.startswith("00") else digits]
    return [t for t in text.split() if t]


async def find(conn: AsyncConnection, table: sa.Table, query: str, limit: int) -> list[str]:
    """Ids of contacts whose text contains every fragment of `query`, best first."""
    found = terms(query)
    if not found:
        return []
    if conn.dialect.name == "sqlite":
        return await _find_sqlite(conn, table, found, limit)
    conditions = [table.c.body.ilike(f"%{_escape(t)}%", escape="\\") for t in found]
    rows = await conn.execute(
        sa.select(table.c.contact_id).where(*conditions).order_by(table.c.body).limit(limit)
    )
    return list(rows.scalars())


async def _find_sqlite(
    conn: AsyncConnection, table: sa.Table, found: list[str], limit: int
) -> list[str]:
    long_terms = [t for t in found if len(t) >= 3]
    short_terms = [t for t in found if len(t) < 3]  # trigrams need three characters
    conditions = [table.c.body.like(f"%{_escape(t)}%", escape="\\") for t in short_terms]
    if not long_terms:
        query = sa.select(table.c.contact_id).where(*conditions).order_by(table.c.body)
    else:
        match = " ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        hits = (
            sa.text(
                "SELECT s.contact_id AS contact_id, f.rank AS rank FROM contact_fts f "
                "JOIN contact_search s ON s.id = f.rowid WHERE contact_fts MATCH :match"
            )
            .bindparams(match=match)
            .columns(contact_id=sa.Text, rank=sa.Float)
            .subquery()
        )
        query = sa.select(hits.c.contact_id).order_by(hits.c.rank)
        if conditions:
            query = query.join(table, table.c.contact_id == hits.c.contact_id).where(*conditions)
    rows = await conn.execute(query.limit(limit))
    return list(rows.scalars())


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
