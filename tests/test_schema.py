"""The schema: migrations match the models, and no table of ours shadows a DBOS table.

On SQLite, DBOS keeps its system tables in the same file as ours (that is what makes the
job row and its workflow commit together), so the names share one namespace.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from dbos._schemas.system_database import SystemSchema

from clientdock.db import Database
from clientdock.models import Base


def test_no_table_shares_a_name_with_a_dbos_system_table() -> None:
    dbos_tables = {table.name for table in SystemSchema.metadata_obj.tables.values()}
    assert dbos_tables, "DBOS system schema not found"
    assert set(Base.metadata.tables) & dbos_tables == set()


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
