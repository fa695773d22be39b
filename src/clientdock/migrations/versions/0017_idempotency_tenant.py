"""idempotency records of a tenant key carry its tenant, under row-level security

``idempotency_keys.tenant_id``: the tenant of the key that sent the request (NULL for a platform
or app key, which act for no one tenant). A stored answer is tenant data (a created client, an
import's rows), so on PostgreSQL the table gets the same policy as every tenant table: the
Idempotency-Key middleware reads and writes a tenant key's records in a session bound to its
tenant. Records already kept are given the tenant of the key whose hash they carry, so a retry
just after the upgrade is still replayed.

Revision ID: 0017_idempotency_tenant
Revises: 0016_row_security
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clientdock.settings import get_settings

revision = "0017_idempotency_tenant"
down_revision = "0016_row_security"
branch_labels = None
depends_on = None

POLICY = "tenant_rows"
CRITERION = "tenant_id = current_setting('clientdock.tenant_id', true)"


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("tenant_id", sa.String(length=32), nullable=True))
        batch.create_index(batch.f("ix_idempotency_keys_tenant_id"), ["tenant_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_idempotency_keys_tenant_id_tenants"), "tenants", ["tenant_id"], ["id"], ondelete="CASCADE")
    # the principal is the SHA-256 of the key, which is what api_keys keeps of it
    op.execute(
        "UPDATE idempotency_keys SET tenant_id = (SELECT k.tenant_id FROM api_keys k "
        "WHERE k.secret_hash = idempotency_keys.principal AND k.kind = 'tenant')"
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    role = get_settings().tenant_role
    op.execute("ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY")
    op.execute(f'CREATE POLICY {POLICY} ON idempotency_keys TO "{role}" USING ({CRITERION}) WITH CHECK ({CRITERION})')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON idempotency_keys")
        op.execute("ALTER TABLE idempotency_keys DISABLE ROW LEVEL SECURITY")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint(batch.f("fk_idempotency_keys_tenant_id_tenants"), type_="foreignkey")
        batch.drop_index(batch.f("ix_idempotency_keys_tenant_id"))
        batch.drop_column("tenant_id")
