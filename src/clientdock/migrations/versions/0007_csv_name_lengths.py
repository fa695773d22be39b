"""client name parts up to 500 characters

Real files hold long names (the corpus's naughty strings: a 269-character last name made of
combining marks). SQLite does not enforce VARCHAR lengths, so only PostgreSQL is altered.

Revision ID: 0007_csv_name_lengths
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_csv_name_lengths"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("first_name", "middle_name", "last_name")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for column in COLUMNS:
        op.alter_column("clients", column, type_=sa.String(length=500), existing_type=sa.String(length=255), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for column in COLUMNS:
        op.alter_column("clients", column, type_=sa.String(length=255), existing_type=sa.String(length=500), existing_nullable=True)
