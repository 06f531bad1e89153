"""Verification evidence stored zlib-compressed (about a fifth of the JSON, and short enough to stay in the row).

Rows kept before this migration keep their JSON text in `evidence`; new rows leave it empty.

Revision ID: feed_0006
Revises: feed_0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "feed_0006"
down_revision = "feed_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("verification_results", sa.Column("evidence_z", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    raise RuntimeError("evidence is never deleted")
