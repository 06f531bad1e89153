"""Verification evidence stored once: each distinct DNS answer a row of its own (content-addressed), each
observation a small row pointing at it, so that a round in which nothing changed adds only the small rows.

Revision ID: feed_0009
Revises: feed_0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes

revision = "feed_0009"
down_revision = "feed_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("wire", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "verification_observations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("result_id", sa.Integer, sa.ForeignKey("verification_results.id"), nullable=False),
        sa.Column("side", sa.String(7), nullable=False),
        sa.Column("resolver", sa.String(60), nullable=True),
        sa.Column("qtype", sa.Integer, nullable=False),
        sa.Column("sent_us", sa.BigInteger, nullable=False),
        sa.Column("rtt_us", sa.BigInteger, nullable=True),
        sa.Column("rcode", sa.Integer, nullable=True),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("answer_id", sa.Integer, sa.ForeignKey("verification_answers.id"), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("transport", sa.String(3), nullable=True),
    )
    op.create_index("ix_verification_observations_result_id", "verification_observations", ["result_id"])
    # Covered by the composite indexes (domain, isp_id) and (isp_id, round_id): a round's rows were indexed twice.
    op.drop_index("ix_verification_results_domain", "verification_results")
    op.drop_index("ix_verification_results_isp_id", "verification_results")
    refuse_changes("verification_answers")
    refuse_changes("verification_observations")


def downgrade() -> None:
    raise RuntimeError("evidence is never downgraded: nothing is deleted")
