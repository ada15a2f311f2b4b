"""Full-text search: SQLite FTS5 (trigram) or PostgreSQL trigram, one API.

Used for contact cards (`contact_search`) and messages (the timeline's `timeline_text`).
Both backends keep one row of searchable text per contact or message (`text_table`).
SQLite adds an FTS5 trigram index kept in step by triggers; PostgreSQL uses a pg_trgm GIN
index when the extension can be had, and a plain scan otherwise (fine at a firm's size).
Trigrams find any fragment of three or more characters, so part of a phone number works.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import AnyStr

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_QUERY = 200  # characters of a search that count; nobody types more into a search box
_WILDCARDS = re.compile(r"[%_\\]")
_PHONEISH = re.compile(r"^[\d\s+/().\-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_PLAIN_UMLAUTS = (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss"))

# The extension may be missing or not ours to create; search still works without it.
_POSTGRES_DDL = """
DO $$ DECLARE ns text; BEGIN
  BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN others THEN NULL; END;
  SELECT n.nspname INTO ns FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace
   WHERE o.opcname = 'gin_trgm_ops' LIMIT 1;
  IF ns IS NOT NULL THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS {table}_trgm ON {table} '
                   'USING gin (body %%I.gin_trgm_ops)', ns);
  END IF;
END $$
"""


def _sqlite_ddl(table: str, fts: str, detail: str, batched: bool) -> tuple[str, ...]:
    """An FTS5 trigram index over `table`.body, kept in step by triggers (deletes only,
    when `batched`: the writer indexes a batch's rows itself, see `index_writes`)."""
    create = (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
        f"body, content='{table}', content_rowid='id', tokenize='trigram', detail={detail})"
    )
    deleted = (
        f"CREATE TRIGGER IF NOT EXISTS {table}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, body) VALUES ('delete', old.id, old.body); END"
    )
    if batched:
        return create, deleted
    return (
        create,
        f"CREATE TRIGGER IF NOT EXISTS {table}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, body) VALUES (new.id, new.body); END",
        deleted,
        f"CREATE TRIGGER IF NOT EXISTS {table}_au AFTER UPDATE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, body) VALUES ('delete', old.id, old.body); "
        f"INSERT INTO {fts}(rowid, body) VALUES (new.id, new.body); END",
    )


def text_table(
    metadata: sa.MetaData,
    name: str,
    fts: str,
    key: str,
    *,
    detail: str = "full",
    batched: bool = False,
) -> sa.Table:
    """A table of one searchable text per `key`, with each backend's index created along.

    `name` and `fts` are identifiers fixed in code, never user input. SQLite's index keeps
    trigram positions with `detail="full"` (MATCH with ranking, as `find` needs); with
    `"none"` it keeps only which rows hold a trigram: less than half the work to write,
    and enough for `matching`, whose LIKE the index answers and then checks on the text.

    With `batched`, SQLite indexes inserted and updated rows only when the writer runs
    `index_writes` around its upsert: a trigger's insert into FTS5 runs in a savepoint of
    its own, and FTS5 writes its pending terms to disk at every savepoint, one segment
    per row. Indexing a whole batch in one statement cost 2.5 times less CPU per mail.
    Deleted rows still leave the index by trigger (erasure deletes with plain SQL).
    """
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(key, sa.Text, nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    for ddl in _sqlite_ddl(name, fts, detail, batched):
        sa.event.listen(metadata, "after_create", sa.DDL(ddl).execute_if(dialect="sqlite"))
    sa.event.listen(
        metadata,
        "before_drop",
        sa.DDL(f"DROP TABLE IF EXISTS {fts}").execute_if(dialect="sqlite"),
    )
    postgres = _POSTGRES_DDL.replace("{table}", name)
    sa.event.listen(metadata, "after_create", sa.DDL(postgres).execute_if(dialect="postgresql"))
    return table


@dataclass(frozen=True, slots=True)
class IndexWrites:
    """The two statements that keep a `batched` text table's SQLite index in step with an
    upsert of rows: `unindex` before it (the old text of rows being replaced leaves the
    index), `index` after it (the rows' new text enters). Each takes the keys of all the
    batch's rows at once (`params`): one statement, so FTS5 flushes once per batch."""

    unindex: sa.TextClause
    index: sa.TextClause

    @staticmethod
    def params(keys: Iterable[str]) -> dict[str, str]:
        return {"keys": json.dumps(list(keys))}


def index_writes(table: sa.Table, fts: str, key: str) -> IndexWrites:
    """The `IndexWrites` of `table` (from `text_table(..., batched=True)`) on SQLite."""
    # In rowid order: FTS5 also writes its pending terms to disk whenever a rowid is lower
    # than the one before, and `IN` alone visits the rows in the order of their keys.
    rows = f"FROM {table.name} WHERE {key} IN (SELECT value FROM json_each(:keys)) ORDER BY id"
    return IndexWrites(
        unindex=sa.text(f"INSERT INTO {fts}({fts}, rowid, body) SELECT 'delete', id, body {rows}"),
        index=sa.text(f"INSERT INTO {fts}(rowid, body) SELECT id, body {rows}"),
    )


def search_table(metadata: sa.MetaData) -> sa.Table:
    """The `contact_search` table in `metadata`, with each backend's index created along."""
    return text_table(metadata, "contact_search", "contact_fts", "contact_id")


def fold(text: str) -> str:
    """Lower case, plus both ASCII spellings of umlauts: "Müller" is found by "müller",
    "mueller" and "muller" (a keyboard without umlauts)."""
    lowered = _lower(text)
    folded = _ascii_umlauts(lowered)
    if folded == lowered:
        return lowered
    plain = _replace_all(lowered, _PLAIN_UMLAUTS)
    return " ".join(dict.fromkeys((lowered, folded, plain)))  # "ß" alone: two spellings


def fold_one(text: str) -> str:
    """Lower case with umlauts in their ASCII spelling only: half the text `fold` makes,
    for long texts whose queries are folded the same way (`matching`)."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return _ascii_umlauts(_lower(text))
    # Latin-1 text (most German mail): the same result in bytes, several times quicker
    # than str.lower on non-ASCII text. Latin-1 characters are NFC on their own.
    return _replace_all(data.translate(_LATIN1_LOWER), _UMLAUT_BYTES).decode("latin-1")


# str.lower of each Latin-1 character is one Latin-1 character (tests/contacts/test_fold.py).
_LATIN1_LOWER = "".join(chr(i).lower() for i in range(256)).encode("latin-1")
_UMLAUT_BYTES = tuple((u.encode("latin-1"), a.encode("latin-1")) for u, a in _UMLAUTS)


def _lower(text: str) -> str:
    lowered = text.lower()
    if unicodedata.is_normalized("NFC", lowered):  # almost always: a quick check
        return lowered
    return unicodedata.normalize("NFC", lowered)


def _ascii_umlauts(lowered: str) -> str:
    return _replace_all(lowered, _UMLAUTS)


def _replace_all(text: AnyStr, pairs: tuple[tuple[AnyStr, AnyStr], ...]) -> AnyStr:
    # Four replace calls run in C; str.translate with a mapping costs ten times as much
    # on a mail's text.
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def document(parts: Iterable[str | None]) -> str:
    """The searchable text of a card from its parts."""
    return fold(" | ".join(p for p in parts if p))


def terms(query: str) -> list[str]:
    """The fragments all of which a card must contain; a phone number is one fragment."""
    text = _query_text(query)
    if _PHONEISH.match(text) and sum(c.isdigit() for c in text) >= 3:
        digits = re.sub(r"\D", "", text)
        return [digits[2:] if digits.startswith("00") else digits]
    return [t for t in text.split() if t]


def _query_text(query: str) -> str:
    text = unicodedata.normalize("NFC", query[:MAX_QUERY]).lower()
    # Control characters separate words: a NUL ends SQLite's FTS5 query string early
    # ("unterminated string") and PostgreSQL refuses it in text; nobody searches for one.
    return _CONTROL.sub(" ", text).strip()


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


def matching(
    conn: AsyncConnection, table: sa.Table, fts: str, query: str
) -> sa.ColumnElement[bool] | None:
    """A condition on `table` (from `text_table`, bodies made by `fold_one`): the body holds
    every fragment of `query`.

    None when there is nothing to look for. SQLite answers LIKE on fragments of three or
    more characters from the FTS5 trigram index; PostgreSQL uses the pg_trgm index (when it
    exists) via ILIKE. A query that looks like a number ("030 1234567", "2024-4711") is
    looked for as its digits, as `terms` reads it, and as typed: a mail writes numbers
    with their blanks and dashes.
    """
    readings = [[fold_one(t) for t in found] for found in _readings(query)]
    if not readings:
        return None
    if conn.dialect.name != "sqlite":
        return sa.or_(
            *(
                sa.and_(*(table.c.body.ilike(f"%{_escape(t)}%", escape="\\") for t in found))
                for found in readings
            )
        )
    if len(readings) == 1:
        return sa.and_(*_sqlite_holds(table, fts, readings[0]))
    either = [
        sa.select(table.c.id).where(*_sqlite_holds(table, fts, r, f"r{n}p"))
        for n, r in enumerate(readings)
    ]
    return table.c.id.in_(sa.union(*either))


def _readings(query: str) -> list[list[str]]:
    """The ways `query` is looked for: its `terms`, and for a number also its words."""
    found = terms(query)
    typed = _query_text(query).split()
    return [r for r in ([found] if typed == found else [found, typed]) if r]


def _sqlite_holds(
    table: sa.Table, fts: str, found: list[str], tag: str = "p"
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [
        table.c.body.like(f"%{_escape(t)}%", escape="\\") for t in found
    ]
    # The index answers only a LIKE without ESCAPE: it narrows the rows by the pieces
    # between wildcard characters, and the exact LIKE above checks what it found.
    pieces = [p for t in found for p in _WILDCARDS.split(t) if len(p) >= 3]
    if pieces:
        likes = " AND ".join(f"body LIKE :{tag}{i}" for i in range(len(pieces)))
        statement = sa.text(f"SELECT rowid FROM {fts} WHERE {likes}").bindparams(
            **{f"{tag}{i}": f"%{p}%" for i, p in enumerate(pieces)}
        )
        rowids = statement.columns(rowid=sa.Integer).subquery()
        conditions.append(table.c.id.in_(sa.select(rowids.c.rowid)))
    return conditions


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
