"""Forms kept across a lost session (api/web/stash.py): typed fields waiting for the person's next login.

Revision ID: web_0003
Revises: web_0002
Create Date: 2026-12-20
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "web_0003"
down_revision = "web_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_kept_forms",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("action", sa.String(2000), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False, index=True),
    )


def downgrade() -> None:
    raise RuntimeError("never downgraded")
