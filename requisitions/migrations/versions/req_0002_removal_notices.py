"""Removal notices to Belgian hosting providers (e-commerce law), their delivery attempts and outcomes.

Revision ID: req_0002
Revises: req_0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "req_0002"
down_revision = "req_0001"
branch_labels = None
depends_on = "core_0005"


def upgrade() -> None:
    pass  # filled in by the work on issue 13


def downgrade() -> None:
    raise RuntimeError("the schema is never downgraded: nothing is deleted")
