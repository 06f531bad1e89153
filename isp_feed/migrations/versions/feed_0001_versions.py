"""Feed versions, entry sets, artifacts, holds, fetch log, applied acknowledgements.

Revision ID: feed_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "feed_0001"
down_revision = None
branch_labels = ("feed",)
depends_on = "core_0002"


def upgrade() -> None:
    op.create_table(
        "feed_entry_sets",
        sa.Column("set_hash", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("entries", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "feed_versions",
        sa.Column("serial", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("set_hash", sa.String(64), sa.ForeignKey("feed_entry_sets.set_hash"), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("generated_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("previous_sha256", sa.String(64)),
        sa.Column("envelope_sha256", sa.String(64), nullable=False),
        sa.Column("stop_page_name", sa.String(253), nullable=False),
        sa.Column("stop_page_ipv4", sa.String(45), nullable=False),
        sa.Column("stop_page_ipv6", sa.String(45)),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("added", sa.Integer, nullable=False, server_default="0"),
        sa.Column("removed", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "feed_artifacts",
        sa.Column("serial", sa.Integer, sa.ForeignKey("feed_versions.serial"), primary_key=True),
        sa.Column("ext", sa.String(20), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )
    op.create_table(
        "feed_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("set_hash", sa.String(64), nullable=False, index=True),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("confirmed_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("confirmed_at", UtcDateTime),
    )
    op.create_table(
        "feed_fetches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False, index=True),
        sa.Column("serial", sa.Integer),
        sa.Column("ext", sa.String(40), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "feed_applied",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False, index=True),
        sa.Column("serial", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(20), nullable=False, server_default=""),
        sa.Column("at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("feed versions are never deleted")
