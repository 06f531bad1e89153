"""Where a listed site is hosted, as the officer established it (country, provider, abuse address).

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0005"
down_revision = "core_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: the records made before have no country (nobody recorded one); every new submission has one,
    # which blocklist/hosting.py requires. The language only matters for Belgium (its removal notice).
    op.add_column("submissions", sa.Column("hosting_country", sa.String(2), nullable=True))
    op.add_column("submissions", sa.Column("hosting_provider", sa.String(200), nullable=True))
    op.add_column("submissions", sa.Column("hosting_abuse_email", sa.String(254), nullable=True))
    op.add_column("submissions", sa.Column("notice_language", sa.String(2), nullable=True))
    # The removal notices' job asks for Belgian hosting; the transparency figures count by country.
    op.create_index("ix_submissions_hosting_country", "submissions", ["hosting_country"])


def downgrade() -> None:
    raise RuntimeError("the schema is never downgraded: nothing is deleted")
