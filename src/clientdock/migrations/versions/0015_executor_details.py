"""what a worker's heartbeat row says of it: host name, process id, concurrency

Revision ID: 0015_executor_details
Revises: 0006_executors
Create Date: 2027-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_executor_details"
down_revision = "0006_executors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_executors") as batch:
        batch.add_column(sa.Column("hostname", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("concurrency", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_executors") as batch:
        batch.drop_column("concurrency")
        batch.drop_column("pid")
        batch.drop_column("hostname")
