"""platform budgets shared by every worker: calls in the last minute, calls in flight, blocks

Revision ID: 0012_provider_budgets
Revises: 0011_connections
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientdock.db

revision = "0012_provider_budgets"
down_revision = "0011_connections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_calls",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("budget", sa.String(length=160), nullable=False),
        sa.Column("started_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", clientdock.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_calls")),
    )
    op.create_index("ix_provider_calls_budget_started", "provider_calls", ["budget", "started_at"], unique=False)
    op.create_table(
        "provider_blocks",
        sa.Column("budget", sa.String(length=160), nullable=False),
        sa.Column("until", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("budget", name=op.f("pk_provider_blocks")),
    )


def downgrade() -> None:
    op.drop_table("provider_blocks")
    op.drop_index("ix_provider_calls_budget_started", table_name="provider_calls")
    op.drop_table("provider_calls")
