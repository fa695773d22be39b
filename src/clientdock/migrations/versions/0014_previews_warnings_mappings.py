"""import previews, row warnings and remembered file mappings

* ``import_jobs.preview``: a check made while mapping in the import dialog; never listed on
  Imports (the import that follows may keep it as its preview).
* ``import_jobs.warned`` and ``import_rows.warnings``: rows that imported with a secondary
  value left out (``[{field, value, message}]``), counted per job.
* ``file_mappings``: the mapping last used for a file with a given header set, per tenant, so
  the same export is mapped the same way next time.

Revision ID: 0014_previews_warnings
Revises: 0013_register_answers
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clientdock.db

revision = "0014_previews_warnings"
down_revision = "0013_register_answers"
branch_labels = None
depends_on = ("0002_imports",)


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.add_column(sa.Column("preview", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("warned", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("import_rows") as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "file_mappings",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("headers_key", sa.String(length=64), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("updated_at", clientdock.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_file_mappings_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "headers_key", name=op.f("pk_file_mappings")),
    )


def downgrade() -> None:
    op.drop_table("file_mappings")
    with op.batch_alter_table("import_rows") as batch_op:
        batch_op.drop_column("warnings")
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.drop_column("warned")
        batch_op.drop_column("preview")
