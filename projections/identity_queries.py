"""The identity index's lookup statements, built once, and how they are run fast."""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

# Direct-dial extensions behind a switchboard are at most this many digits long.
MAX_EXTENSION_DIGITS = 5
# How a number lookup matched, by the rank of its hit (higher ranks: switchboard).
RANKS = {0: "exact", 1: "signature"}


class Hit(NamedTuple):
    """A row of the lookup statements (see `_resolved`)."""

    contact_id: str
    display_name: str
    company: str
    customer_number: str | None
    kind: str
    rank: int


async def first_row(
    conn: AsyncConnection,
    statement: sa.Select[Any],
    params: dict[str, Any],
    cache: dict[int, SQLCompiler],
) -> Any:
    """The first row of a lookup statement, on SQLite in one driver round trip."""
    if conn.dialect.name != "sqlite":
        return (await conn.execute(statement, params)).first()
    # One trip to aiosqlite's thread instead of SQLAlchemy's several (cursor, execute,
    # fetch, close): each trip is a chance to wait for the GIL on the screen-pop path.
    compiled = cache.get(id(statement))
    if compiled is None:
        compiled = cast(SQLCompiler, statement.compile(dialect=conn.dialect))
        cache[id(statement)] = compiled
    values = compiled.construct_params(params) or {}
    driver: Any = (await conn.get_raw_connection()).driver_connection
    rows = await driver.execute_fetchall(
        compiled.string, [values[name] for name in compiled.positiontup or ()]
    )
    return Hit(*rows[0]) if rows else None


def number_query(
    numbers: sa.Table, signature_numbers: sa.Table, switchboards: sa.Table, cards: sa.Table
) -> sa.Select[Any]:
    """One statement, built once: the exact number (rank 0), else a number from email
    signatures (rank 1), else the longest switchboard prefix (rank 1 + digits dropped);
    a person before a company at the same rank."""
    n, sw = numbers, switchboards
    exact = sa.select(n.c.contact_id, sa.literal(0).label("rank")).where(
        n.c.number == sa.bindparam("number")
    )
    parts = [exact, _signature_hit(signature_numbers, cards)]
    for k in range(1, MAX_EXTENSION_DIGITS + 1):
        parts.append(
            sa.select(sw.c.contact_id, sa.literal(k + 1).label("rank")).where(
                sw.c.prefix == sa.bindparam(f"p{k}")
            )
        )
    hits = sa.union_all(*parts).subquery("hits")
    return _resolved(cards, hits)


def _signature_hit(signature_numbers: sa.Table, cards: sa.Table) -> sa.Select[Any, int]:
    """The one live contact whose email signatures carry the number; none when several
    do (a number in several people's signatures, e.g. a shared switchboard, names no one)."""
    s, c = signature_numbers, cards
    live = sa.func.coalesce(c.c.merged_into, c.c.contact_id)
    return (
        sa.select(sa.func.min(s.c.contact_id).label("contact_id"), sa.literal(1).label("rank"))
        .join(c, c.c.contact_id == s.c.contact_id)
        .where(s.c.number == sa.bindparam("number"))
        .having(sa.func.count(sa.distinct(live)) == 1)
    )


def email_query(emails: sa.Table, cards: sa.Table) -> sa.Select[Any]:
    """One statement, built once: the contact behind an address."""
    e = emails
    hits = (
        sa.select(e.c.contact_id, sa.literal(0).label("rank"))
        .where(e.c.address == sa.bindparam("address"))
        .subquery("hits")
    )
    return _resolved(cards, hits)


def emails_query(emails: sa.Table, cards: sa.Table) -> sa.Select[Any]:
    """Many addresses at once (`:addresses`, expanding): each address's hits, ranked as
    `email_query` ranks them (the first row of an address is its contact)."""
    e = emails
    hits = (
        sa.select(e.c.address, e.c.contact_id, sa.literal(0).label("rank"))
        .where(e.c.address.in_(sa.bindparam("addresses", expanding=True)))
        .subquery("hits")
    )
    return _resolved(cards, hits, per=hits.c.address)


def _resolved(cards: sa.Table, hits: Any, *, per: Any = None) -> sa.Select[Any]:
    """The live card behind each hit (a merged contact's survivor), best hit first: only
    the best, or with `per` (a column of `hits`, selected last) every hit, grouped by it."""
    found = cards.alias("found")
    live = cards.alias("live")
    query = (
        sa.select(
            live.c.contact_id,
            live.c.display_name,
            live.c.company,
            live.c.customer_number,
            live.c.kind,
            hits.c.rank,
        )
        .select_from(hits)
        .join(found, found.c.contact_id == hits.c.contact_id)
        .join(live, live.c.contact_id == sa.func.coalesce(found.c.merged_into, found.c.contact_id))
    )
    best = (hits.c.rank, sa.case((live.c.kind == "person", 0), else_=1), live.c.contact_id)
    if per is None:
        return query.order_by(*best).limit(1)
    return query.add_columns(per).order_by(per, *best)
