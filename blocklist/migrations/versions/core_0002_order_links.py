"""Link orders to the feed serial that carries them, and audit events to their order.

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("feed_serial", sa.Integer, nullable=True))
    # SQLite cannot ALTER a table that has triggers through batch mode's copy-and-rename without losing
    # them, so the column is added with a plain ALTER (supported for nullable columns on both backends).
    op.add_column("audit_events", sa.Column("order_id", sa.Integer, nullable=True))
    op.create_index("ix_audit_events_order_id", "audit_events", ["order_id"])


def downgrade() -> None:
    raise RuntimeError("the core schema is never downgraded: nothing is deleted")
