"""The newest verdict per name and ISP resolver, so that compliance reads one row per name, not the history.

Revision ID: feed_0005
Revises: feed_0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "feed_0005"
down_revision = "feed_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_latest",
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), primary_key=True),
        sa.Column("resolver", sa.String(60), primary_key=True),
        sa.Column("domain", sa.String(253), primary_key=True),
        sa.Column("result_id", sa.Integer, sa.ForeignKey("verification_results.id"), nullable=False),
        sa.Column("round_id", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("last_blocked_round", sa.Integer),
    )
    # From the evidence already kept: each (ISP, resolver, name)'s newest result, and its last `blocked` round.
    op.execute("""
        INSERT INTO verification_latest (isp_id, resolver, domain, result_id, round_id, verdict, at,
                                         last_blocked_round)
        SELECT r.isp_id, r.resolver, r.domain, r.id, r.round_id, r.verdict, r.at,
               (SELECT max(b.round_id) FROM verification_results b WHERE b.isp_id = r.isp_id
                AND b.resolver = r.resolver AND b.domain = r.domain AND b.verdict = 'blocked')
        FROM verification_results r
        WHERE r.id IN (SELECT max(id) FROM verification_results GROUP BY isp_id, resolver, domain)
    """)


def downgrade() -> None:
    raise RuntimeError("never downgraded")
