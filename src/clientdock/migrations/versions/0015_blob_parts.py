"""uploads and staged records kept in the database, so that every worker can read them

Revision ID: 0015_blob_parts
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientdock.db

revision = "0015_blob_parts"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_parts",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("part", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "part", name=op.f("pk_blob_parts")),
    )


def downgrade() -> None:
    op.drop_table("blob_parts")
