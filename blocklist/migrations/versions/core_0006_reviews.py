"""Periodic reviews of blocks: officers' re-attestations and magistrates' renewals.

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the work on issue 13


def downgrade() -> None:
    raise RuntimeError("the schema is never downgraded: nothing is deleted")
