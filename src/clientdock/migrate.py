"""Apply Alembic migrations programmatically (serve, the CLI and tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from clientdock.db import normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "heads")
