"""Core schema: users, tokens, ISPs, resolvers, orders, overrides, submissions, audit chain.

Revision ID: core_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from blocklist.models import UtcDateTime

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("language", sa.String(2), nullable=False, server_default="en"),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("role IN ('officer', 'magistrate', 'auditor', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime),
    )
    op.create_table(
        "isps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("operator_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("policy", sa.String(20), nullable=False, server_default="stoppage"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("feed_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("feed_token_prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("language IN ('fr', 'nl', 'de', 'en')", name="ck_isps_language"),
        sa.CheckConstraint("policy IN ('stoppage', 'nxdomain')", name="ck_isps_policy"),
    )
    op.create_table(
        "isp_resolvers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("isp_id", sa.Integer, sa.ForeignKey("isps.id"), nullable=False),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False, server_default="53"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("magistrate_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("kind IN ('block', 'lift')", name="ck_orders_kind"),
    )
    op.create_table(
        "protected_overrides",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("domain", sa.String(253), nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("magistrate_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("domain", sa.String(253), nullable=False, index=True),
        sa.Column("unicode", sa.String(253), nullable=False),
        sa.Column("typed", sa.Text, nullable=False),
        sa.Column("scope", sa.String(30), nullable=False),
        sa.Column("flags", sa.Text, nullable=False, server_default=""),
        sa.Column("legal_basis", sa.String(20), nullable=False),
        sa.Column("case_number", sa.String(100), nullable=False, index=True),
        sa.Column("evidence_ref", sa.String(200), nullable=False),
        sa.Column("verified_on", sa.Date, nullable=False),
        sa.Column("court", sa.String(200)),
        sa.Column("court_date", sa.Date),
        sa.Column("court_reference", sa.String(100)),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("override_id", sa.Integer, sa.ForeignKey("protected_overrides.id")),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("submitted_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submitted_at", UtcDateTime, nullable=False),
        sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("decided_at", UtcDateTime),
        sa.Column("decision_reason", sa.Text),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id")),
        sa.Column("review_due", sa.Date),
        sa.Column("lifted_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("lifted_at", UtcDateTime),
        sa.Column("lift_reason", sa.Text),
        sa.Column("lift_order_id", sa.Integer, sa.ForeignKey("orders.id")),
        sa.CheckConstraint(
            "status IN ('submitted', 'approved', 'rejected', 'withdrawn', 'lifted')", name="ck_sub_status"
        ),
        sa.CheckConstraint("scope IN ('domain_and_subdomains', 'exact')", name="ck_sub_scope"),
        sa.CheckConstraint(
            "legal_basis IN ('ecommerce_law', 'art39bis', 'court_order')", name="ck_sub_legal_basis"
        ),
    )
    op.create_index(
        "uq_submissions_active_domain",
        "submissions",
        ["domain"],
        unique=True,
        sqlite_where=sa.text("status IN ('submitted', 'approved')"),
        postgresql_where=sa.text("status IN ('submitted', 'approved')"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(60), nullable=False, index=True),
        sa.Column("object_type", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(253), nullable=False),
        sa.Column("domain", sa.String(253), index=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.execute("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '" + "0" * 64 + "')")
    if op.get_bind().dialect.name == "postgresql":
        # The log is append-only at the database level too: only a superuser disabling the trigger
        # can rewrite it, and `audit verify` then detects that.
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END"
        )


def downgrade() -> None:
    raise RuntimeError("the core schema is never downgraded: nothing is deleted")
