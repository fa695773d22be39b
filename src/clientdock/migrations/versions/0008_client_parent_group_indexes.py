"""index clients.parent_id and clients.client_group_id

Deleting a client makes the database find the clients whose ``parent_id`` points at it (ON
DELETE SET NULL); without an index that is a scan of the tenant's clients per deleted row, so
undoing an import of 18,000 clients took 96 s. The group filter of the client list reads
``client_group_id``.

Revision ID: 0008_client_indexes
Revises: 0007_csv_name_lengths
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0008_client_indexes"
down_revision = "0007_csv_name_lengths"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        batch_op.create_index(batch_op.f("ix_clients_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_client_group_id"), ["client_group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_client_group_id"))
        batch_op.drop_index(batch_op.f("ix_clients_parent_id"))
