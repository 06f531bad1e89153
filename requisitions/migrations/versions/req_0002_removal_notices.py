"""Removal notices to Belgian hosting providers (e-commerce law), their delivery attempts and outcomes.

Revision ID: req_0002
Revises: req_0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "req_0002"
down_revision = "req_0001"
branch_labels = None
depends_on = "core_0005"


def upgrade() -> None:
    op.create_table(
        "removal_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        # One notice per submission: two workers issuing at once cannot both write one.
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, unique=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False, index=True),
        sa.Column("domain", sa.String(253), nullable=False, index=True),
        sa.Column("unicode", sa.String(253), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("provider", sa.String(200)),
        sa.Column("email", sa.String(254)),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("deadline", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(15), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime),
        sa.Column("sent_at", UtcDateTime),
        sa.Column("smtp_response", sa.Text),
        sa.Column("failed_at", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint("status IN ('pending', 'sent', 'no_address', 'failed', 'acknowledged', 'removed')",
                           name="ck_removal_notice_status"),
        # A notice without an address is delivered by hand, never queued for the SMTP server.
        sa.CheckConstraint("email IS NOT NULL OR status <> 'pending'", name="ck_removal_notice_address"),
    )
    op.create_table(
        "removal_notice_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("removal_notices.id"), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("outcome", sa.String(15), nullable=False),
        sa.Column("smtp_response", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "removal_notice_outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("removal_notices.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(15), nullable=False),
        sa.Column("happened_on", sa.Date, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False, server_default=""),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.CheckConstraint("kind IN ('acknowledged', 'removed')", name="ck_removal_outcome_kind"),
        sa.UniqueConstraint("notice_id", "kind", name="uq_removal_outcome_kind"),
    )
    # Delivery evidence and what officers recorded are history: never changed, never deleted; a notice's delivery
    # state moves on, but the notice itself is never deleted either.
    refuse_changes("removal_notice_attempts")
    refuse_changes("removal_notice_outcomes")
    refuse_changes("removal_notices", update=False)


def downgrade() -> None:
    raise RuntimeError("removal notices are never deleted")
