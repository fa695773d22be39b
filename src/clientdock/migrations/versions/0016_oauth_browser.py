"""bind an OAuth round trip to the browser that started it: the SHA-256 of the browser's nonce

``connection_oauth_states.browser_hash``: the callback completes only when the browser presents
the nonce whose hash this is (a cookie set with the redirect to the platform). A state recorded
before this column has none, and no callback completes it (it expires within 15 minutes).

Revision ID: 0016_oauth_browser
Revises: 0011_connections
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_oauth_browser"
down_revision = "0011_connections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_oauth_states") as batch:
        batch.add_column(sa.Column("browser_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connection_oauth_states") as batch:
        batch.drop_column("browser_hash")
