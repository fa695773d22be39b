"""job executor heartbeats

Revision ID: 0006_executors
Revises: 0002_imports
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientdock.db

revision = "0006_executors"
down_revision = "0002_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_executors",
        sa.Column("executor_id", sa.String(length=128), nullable=False),
        sa.Column("heartbeat_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("executor_id", name=op.f("pk_job_executors")),
    )


def downgrade() -> None:
    op.drop_table("job_executors")
