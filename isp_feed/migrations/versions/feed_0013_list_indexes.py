"""Two indexes that let SQLite read a whole approved list in name order (isp_feed/render_half.py list_sql): the
approved submissions' own columns, and the audit events by action and name, so that the check of each approval in the
chain walks the index in the same order as the list instead of seeking at random.

Revision ID: feed_0013
Revises: feed_0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "feed_0013"
down_revision = "feed_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    approved = sa.text("status = 'approved'")
    # Every column the list reads, `status` included: SQLite reads a partial index alone only if it holds the
    # columns of its own condition too (the row id is in every SQLite index).
    op.create_index("ix_submissions_approved_list", "submissions", ["domain", "scope", "unicode", "order_id", "status"],
                    sqlite_where=approved, postgresql_where=approved)
    op.create_index("ix_audit_events_action_domain_object", "audit_events", ["action", "domain", "object_id"])


def downgrade() -> None:
    raise RuntimeError("feed history is never downgraded: nothing is deleted")
