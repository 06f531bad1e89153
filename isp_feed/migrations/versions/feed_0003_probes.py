"""Remote probes: verifiers inside an ISP's network, each with its own credential and signing key.

Revision ID: feed_0003
Revises: feed_0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "feed_0003"
down_revision = "feed_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("token_prefix", sa.String(16), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("never downgraded")
