"""Appeals from the public against a block, and the magistrates' decisions on them.

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the work on issue 13


def downgrade() -> None:
    raise RuntimeError("the schema is never downgraded: nothing is deleted")
