"""Verification evidence is append-only in the database itself; rounds are never deleted; indexes for
compliance figures over large rounds.

Revision ID: feed_0004
Revises: feed_0003
Create Date: 2026-11-29
"""

from alembic import op

from blocklist.append_only import refuse_changes

revision = "feed_0004"
down_revision = "feed_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_verification_results_isp_round", "verification_results", ["isp_id", "round_id"])
    op.create_index("ix_verification_results_domain_isp", "verification_results", ["domain", "isp_id"])
    refuse_changes("verification_results")
    # A round's row is finished (finished_at set) after its results are in: updates stay allowed.
    refuse_changes("verification_rounds", update=False)


def downgrade() -> None:
    raise RuntimeError("evidence is never deleted")
