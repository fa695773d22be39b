"""Alembic environment: the URL comes from the caller (clientdock.migrate) or the settings."""

from __future__ import annotations

from alembic import context

from clientdock.db import make_engine
from clientdock.models import Base
from clientdock.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url


def run() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
