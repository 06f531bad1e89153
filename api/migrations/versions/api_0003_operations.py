"""Operations: the scheduler's heartbeat (readiness, metrics), and stop-page hits findable by day (metrics' total).

Revision ID: api_0003
Revises: api_0002
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "api_0003"
down_revision = "api_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("beat_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_stop_page_hits_day", "stop_page_hits", ["day"])


def downgrade() -> None:
    raise RuntimeError("never downgraded")
