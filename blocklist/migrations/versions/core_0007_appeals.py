"""Appeals from the public against a block, and the magistrates' decisions on them.

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No column for an IP address, a user agent or a cookie: an appeal never keeps them.
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("receipt", sa.String(16), nullable=False, unique=True),
        sa.Column("domain", sa.String(253), nullable=False, index=True),
        sa.Column("unicode", sa.String(253), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("contact", sa.String(254), nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "appeal_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("appeal_id", sa.Integer, sa.ForeignKey("appeals.id"), nullable=False, unique=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("answer", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("magistrate_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("lift_order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=True),
        sa.Column("decided_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "appeal_answer_mails",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("decision_id", sa.Integer, sa.ForeignKey("appeal_decisions.id"), nullable=False, unique=True),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("smtp_response", sa.Text, nullable=True),
        sa.Column("sent_at", UtcDateTime, nullable=True),
    )
    # An appeal as received and its decision are evidence: never changed, never deleted. The answer's e-mail
    # moves from pending to sent or failed, and is never deleted either.
    refuse_changes("appeals")
    refuse_changes("appeal_decisions")
    refuse_changes("appeal_answer_mails", update=False)


def downgrade() -> None:
    raise RuntimeError("the schema is never downgraded: nothing is deleted")
