"""Which serial each ISP resolver really serves, measured from outside by its canaries in every round, and since
when: append-only evidence, one row per round and resolver.

Revision ID: feed_0011
Revises: feed_0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "feed_0011"
down_revision = "feed_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_live",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("verification_rounds.id"), nullable=False),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False),
        sa.Column("resolver", sa.String(60), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("serial", sa.Integer, nullable=True),
        sa.Column("since", UtcDateTime, nullable=True),
        sa.Column("asked", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_verification_live_resolver", "verification_live", ["isp_id", "resolver", "id"])
    refuse_changes("verification_live")


def downgrade() -> None:
    raise RuntimeError("evidence is never downgraded: nothing is deleted")
