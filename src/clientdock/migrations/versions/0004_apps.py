"""partner apps and their assignments to businesses

Revision ID: 0004_apps
Revises: 0002_imports
Create Date: 2026-11-28 13:42:40.232341
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientdock.db

revision = "0004_apps"
down_revision = "0002_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("app_code_name", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("app_type", sa.String(length=32), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("app_code_name", name=op.f("uq_apps_app_code_name")),
        sa.UniqueConstraint("client_id", name=op.f("uq_apps_client_id")),
    )
    op.create_table(
        "app_assignments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("assignee_type", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_app_assignments_app_id_apps"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_app_assignments_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_assignments")),
        sa.UniqueConstraint("app_id", "tenant_id", name=op.f("uq_app_assignments_app_id_tenant_id")),
    )
    op.create_index(op.f("ix_app_assignments_tenant_id"), "app_assignments", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_app_assignments_tenant_id"), table_name="app_assignments")
    op.drop_table("app_assignments")
    op.drop_table("apps")
