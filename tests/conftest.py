"""Fixtures shared by the whole suite: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is the real server (127.0.0.1:5432, trust auth, or KARTEI_TEST_PG). Each test
session creates its own database and drops it at the end; each test gets a fresh schema
in it, so tests never see each other's (append-only, hence undeletable) events.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy.engine import make_url

from hub.events import EventCodec
from hub.store import Database, EventStore

PG_ADMIN_URL = os.environ.get("KARTEI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its URL."""
    name = f"kartei_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_pg_schema(pg_database: str) -> str:
    """A new empty schema in the session database; a URL whose search_path is it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{pg_database}?options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/kartei.db"
    return new_pg_schema(request.getfixturevalue("pg_database"))


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
async def make_store(database_url: str) -> AsyncIterator[Callable[..., EventStore]]:
    """Builds started stores on the test's database (several share it, like processes)."""
    stores: list[EventStore] = []

    async def make(codec: EventCodec | None = None, **kwargs: object) -> EventStore:
        store = EventStore(Database(database_url), codec, **kwargs)  # type: ignore[arg-type]
        await store.start()
        stores.append(store)
        return store

    yield make  # type: ignore[misc]
    for store in stores:
        await store.close()


@pytest.fixture
async def store(make_store: Callable[..., object]) -> EventStore:
    """A started store with Kartei's own event vocabulary."""
    return await make_store()  # type: ignore[misc,no-any-return]
