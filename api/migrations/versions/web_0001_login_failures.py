"""Failed web logins per username (lock-out); nothing about the visitor.

Revision ID: web_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "web_0001"
down_revision = None
branch_labels = ("web",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "web_login_failures",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_started_at", UtcDateTime, nullable=False),
        sa.Column("locked_until", UtcDateTime, nullable=True),
    )


def downgrade() -> None:
    raise RuntimeError("never downgraded")
