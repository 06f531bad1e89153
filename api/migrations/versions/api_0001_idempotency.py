"""Idempotency records of POST requests.

Revision ID: api_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "api_0001"
down_revision = None
branch_labels = ("api",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("method_path", sa.String(300), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("content_type", sa.String(100), nullable=False, server_default="application/json"),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("never downgraded")
