"""who made each recorded change: client_changes.actor

``kind:key id`` for an API key (``tenant:…``, ``app:…``), ``user:email`` for the web page,
``cli`` for ``clientdock import``; empty for rows recorded before this column.

Revision ID: 0009_change_actor
Revises: 0008_client_indexes
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_change_actor"
down_revision = "0008_client_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client_changes") as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("client_changes") as batch_op:
        batch_op.drop_column("actor")
