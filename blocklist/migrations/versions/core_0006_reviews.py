"""Periodic reviews of blocks: officers' re-attestations and magistrates' renewals.

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_attestations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("checked_on", sa.Date, nullable=False),
        sa.Column("evidence_ref", sa.String(200), nullable=False),
        sa.Column("content_present", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("officer_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "review_renewals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        # One renewal per re-attestation: two magistrates renewing on the same one at once cannot both win.
        sa.Column("attestation_id", sa.Integer, sa.ForeignKey("review_attestations.id"), nullable=False,
                  unique=True),
        sa.Column("previous_due", sa.Date, nullable=True),
        sa.Column("review_due", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("magistrate_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "review_digests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("to_addr", sa.String(254), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("names", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", UtcDateTime, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("smtp_response", sa.Text, nullable=True),
        sa.Column("sent_at", UtcDateTime, nullable=True),
        # At most one digest per magistrate and ISO week, whatever restarts or processes: the database holds it.
        sa.UniqueConstraint("week", "user_id", name="uq_review_digests_week_user"),
    )
    # A re-attestation and a renewal are the record of a review: never changed, never deleted. A digest moves
    # from pending to sent or failed, and is never deleted either.
    refuse_changes("review_attestations")
    refuse_changes("review_renewals")
    refuse_changes("review_digests", update=False)


def downgrade() -> None:
    raise RuntimeError("the schema is never downgraded: nothing is deleted")
