"""the register's answers, cached with a TTL (Companies House enrichment)

Revision ID: 0013_register_answers
Revises: 0012_provider_budgets
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientdock.db

revision = "0013_register_answers"
down_revision = "0012_provider_budgets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_answers",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("fetched_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_register_answers")),
    )


def downgrade() -> None:
    op.drop_table("register_answers")
