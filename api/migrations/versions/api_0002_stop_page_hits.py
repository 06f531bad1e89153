"""Stop-page hits: a count per listed name per day, nothing about the visitor.

Revision ID: api_0002
Revises: api_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "api_0002"
down_revision = "api_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stop_page_hits",
        sa.Column("domain", sa.String(253), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("never downgraded")
