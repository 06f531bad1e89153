"""Verification evidence packed into each result: a round's observations are a few bytes in their result's row
(isp_feed/evidence.py `pack`) instead of rows and index entries of their own. Older rounds keep their rows.

Revision ID: feed_0010
Revises: feed_0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "feed_0010"
down_revision = "feed_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("verification_results", sa.Column("observations", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    raise RuntimeError("evidence is never downgraded: nothing is deleted")
