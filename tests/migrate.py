"""Moves a test's database along the migration chain with Alembic, as an upgrade would."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from hub.store import Database
from hub.store.database import MIGRATIONS


def alembic(db: Database, action: str, revision: str) -> None:
    """Runs `alembic <action> <revision>` ("upgrade"/"downgrade") on `db`."""
    engine = sa.create_engine(
        db.url.set(drivername="sqlite" if db.is_sqlite else "postgresql+psycopg"),
        poolclass=sa.NullPool,
    )
    try:
        with engine.begin() as conn:
            config = AlembicConfig()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()
