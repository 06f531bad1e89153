"""DNS verification rounds and their per-name, per-resolver results with evidence.

Revision ID: feed_0002
Revises: feed_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "feed_0002"
down_revision = "feed_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_rounds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("feed_serial", sa.Integer),
        sa.Column("names", sa.Integer, nullable=False, server_default="0"),
        sa.Column("resolvers", sa.Integer, nullable=False, server_default="0"),
        sa.Column("trigger", sa.String(20), nullable=False, server_default="manual"),
    )
    op.create_table(
        "verification_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("verification_rounds.id"), nullable=False, index=True),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False, index=True),
        sa.Column("resolver", sa.String(60), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False, index=True),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("feed_serial", sa.Integer),
        sa.Column("at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("evidence is never deleted")
