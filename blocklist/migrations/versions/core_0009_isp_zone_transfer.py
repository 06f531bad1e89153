"""Zone transfer from the hidden primary: each ISP's TSIG key fingerprint, and its secondaries (never deleted).

Revision ID: core_0009
Revises: core_0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "core_0009"
down_revision = "core_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable): SQLite needs no table rebuild, which would drop the table's triggers.
    op.add_column("isps", sa.Column("tsig_fingerprint", sa.String(64), nullable=True))
    op.add_column("isps", sa.Column("tsig_created_at", UtcDateTime, nullable=True))
    op.create_table(
        "isp_secondaries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False, index=True),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("tsig", sa.Boolean, nullable=False),
        sa.Column("added_at", UtcDateTime, nullable=False),
        sa.Column("removed_at", UtcDateTime, nullable=True),
    )
    refuse_changes("isp_secondaries", update=False)  # replaced ones are marked removed, never deleted


def downgrade() -> None:
    raise RuntimeError("the core schema is never downgraded: nothing is deleted")
