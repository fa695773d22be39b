"""the people of a client: clients.contacts

A JSON list of ``{firstName, lastName, email, role, source, appointedOn, nationality,
occupation}`` (contact persons from an accounting platform, Companies House officers).
Existing clients get an empty list (server default ``'[]'``) on SQLite and PostgreSQL.

Revision ID: 0010_client_contacts
Revises: 0009_change_actor
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_client_contacts"
down_revision = "0009_change_actor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        batch_op.add_column(sa.Column("contacts", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        batch_op.drop_column("contacts")
