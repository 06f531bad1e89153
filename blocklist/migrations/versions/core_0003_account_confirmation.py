"""Accounts made or re-credentialed by an administrator wait for a second person's confirmation; enrolments.

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("credentialed_by", sa.String(100), nullable=False, server_default="migration"))
        batch.add_column(sa.Column("confirmed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("confirmed_at", UtcDateTime, nullable=True))
    # Accounts that existed before this rule were made by the operator on the server: confirmed by them.
    op.execute("UPDATE users SET confirmed_by = 'migration', confirmed_at = created_at")
    op.create_table(
        "user_enrolments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime, nullable=True),
    )


def downgrade() -> None:
    raise RuntimeError("the core schema is never downgraded: nothing is deleted")
