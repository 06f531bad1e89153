"""Bulk submissions as background jobs (blocklist/batches.py), and the indexes that find a name by its orders.

Revision ID: core_0008
Revises: core_0007
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "core_0008"
down_revision = "core_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("form_token", sa.String(100), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("case_details", sa.Text, nullable=False),
        sa.Column("case_number", sa.String(100), nullable=False, index=True),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("submitted", sa.Integer, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        # The same form sent twice (a double press, a reload) is one batch: the database holds it.
        sa.UniqueConstraint("created_by", "form_token", name="uq_submission_batches_form_token"),
    )
    op.create_table(
        "submission_batch_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("submission_batches.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("typed", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=True, index=True),
        sa.Column("a_label", sa.String(253), nullable=True),
        sa.Column("code", sa.String(30), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.UniqueConstraint("batch_id", "position", name="uq_submission_batch_items_position"),
    )
    op.create_index("ix_submission_batch_items_state", "submission_batch_items", ["batch_id", "state", "position"])
    # A batch and its items change state as they are processed; neither is ever deleted.
    refuse_changes("submission_batches", update=False)
    refuse_changes("submission_batch_items", update=False)
    # A name's orders find its rows (holds, timelines, requisitions) without reading the whole list.
    op.create_index("ix_submissions_order_id", "submissions", ["order_id"])
    op.create_index("ix_submissions_lift_order_id", "submissions", ["lift_order_id"])


def downgrade() -> None:
    raise RuntimeError("the schema is never downgraded: nothing is deleted")
