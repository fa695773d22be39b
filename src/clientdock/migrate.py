"""Apply Alembic migrations programmatically (serve, worker, the CLI and tests use this).

On PostgreSQL the upgrade holds an advisory lock (:data:`MIGRATION_LOCK`, on a connection of
its own, released after), so that several processes starting together against one database
migrate one after the other: the first applies the migrations, the others find nothing to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from clientdock.db import advisory_lock_key, is_sqlite, normalise_url, unpooled_engine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = advisory_lock_key("clientdock.migrate")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    config = alembic_config(url)
    if is_sqlite(normalise_url(url)):
        command.upgrade(config, "heads")
        return
    engine = unpooled_engine(url)
    try:
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(config, "heads")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()
