"""connections to accounting platforms and their OAuth round trips

Revision ID: 0011_connections
Revises: 0010_client_contacts
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientdock.db

revision = "0011_connections"
down_revision = "0010_client_contacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=True),
        sa.Column("token_expires_at", clientdock.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("connected_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_import_id", sa.String(length=32), nullable=True),
        sa.Column("last_imported_at", clientdock.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_connections_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_connections_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "provider", "organisation_id", name=op.f("uq_connections_tenant_id_provider_organisation_id")),
    )
    op.create_index(op.f("ix_connections_tenant_id"), "connections", ["tenant_id"], unique=False)
    op.create_table(
        "connection_oauth_states",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(length=255), nullable=True),
        sa.Column("return_to", sa.String(length=255), nullable=True),
        sa.Column("created_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", clientdock.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_connection_oauth_states_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_connection_oauth_states_state_hash")),
    )
    op.create_index(op.f("ix_connection_oauth_states_tenant_id"), "connection_oauth_states", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_connection_oauth_states_tenant_id"), table_name="connection_oauth_states")
    op.drop_table("connection_oauth_states")
    op.drop_index(op.f("ix_connections_tenant_id"), table_name="connections")
    op.drop_table("connections")
