"""Signed checkpoints of the audit chain (event count, head hash, time), one per feed version and at least hourly;
and the index by which the feed finds each name's approval event.

Revision ID: feed_0007
Revises: feed_0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "feed_0007"
down_revision = "feed_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("made_at", UtcDateTime, nullable=False, index=True),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("feed_serial", sa.Integer, unique=True),
    )
    refuse_changes("audit_checkpoints")
    # The feed publishes a name only if its submission's approval is an event (isp_feed/publish.py); without this
    # index SQLite looks it up through the index on action alone: one scan of all approvals per name.
    op.create_index("ix_audit_events_action_object", "audit_events", ["action", "object_id"])


def downgrade() -> None:
    raise RuntimeError("checkpoints are never deleted")
