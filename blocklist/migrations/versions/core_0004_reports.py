"""Reports from the public and partner hotlines, their triage outcomes, and the partners' credentials.

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from blocklist.append_only import refuse_changes
from blocklist.models import UtcDateTime

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("token_prefix", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    # No column for an IP address, a user agent or a cookie: a report never keeps them.
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("receipt", sa.String(16), nullable=False, unique=True),
        sa.Column("host", sa.String(253), nullable=False, index=True),
        sa.Column("unicode", sa.String(253), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("found_at", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("contact", sa.String(254), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=True),
        sa.Column("partner_reference", sa.String(100), nullable=True),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "report_outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id"), nullable=False, unique=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=True, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    # A report as received and what triage made of it are evidence: never changed, never deleted.
    refuse_changes("reports")
    refuse_changes("report_outcomes")


def downgrade() -> None:
    raise RuntimeError("the core schema is never downgraded: nothing is deleted")
