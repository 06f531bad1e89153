"""Each format file's own minisign signature is added after its version's commit (isp_feed/file_signatures.py):
NULL until then.

Revision ID: feed_0012
Revises: feed_0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "feed_0012"
down_revision = "feed_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_artifacts") as batch:
        batch.alter_column("signature", existing_type=sa.Text, nullable=True)


def downgrade() -> None:
    raise RuntimeError("feed history is never downgraded: nothing is deleted")
