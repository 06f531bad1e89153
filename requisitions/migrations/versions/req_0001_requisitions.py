"""Requisitions, their delivery attempts, and per-order issuance.

Revision ID: req_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "req_0001"
down_revision = None
branch_labels = ("requisitions",)
depends_on = "core_0002"


def upgrade() -> None:
    op.create_table(
        "requisitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), index=True),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False, index=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("names", sa.Text, nullable=False),
        sa.Column("feed_serial", sa.Integer),
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
        sa.Column("acknowledged_at", UtcDateTime),
        sa.Column("failed_at", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.CheckConstraint("kind IN ('blocking', 'lifting', 'catch_up')", name="ck_req_kind"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'acknowledged', 'failed')", name="ck_req_status"),
    )
    op.create_table(
        "requisition_delivery_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("requisition_id", sa.Integer, sa.ForeignKey("requisitions.id"), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("outcome", sa.String(15), nullable=False),
        sa.Column("smtp_response", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "requisition_order_issues",
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("isp_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("requisitions are never deleted")
