"""Login throttling per (source, username) instead of per username; a security log; server-side web sessions.

The old per-username counters are dropped, not converted: they only held the last 15 minutes of failures, and
a per-username lock is what let anyone lock a magistrate out.

Revision ID: web_0002
Revises: web_0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "web_0002"
down_revision = "web_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("web_login_failures")
    op.create_table(
        "web_login_failures",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_started_at", UtcDateTime, nullable=False),
        sa.Column("locked_until", UtcDateTime, nullable=True),
    )
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False, index=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("credential", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False, index=True),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
    )


def downgrade() -> None:
    raise RuntimeError("never downgraded")
