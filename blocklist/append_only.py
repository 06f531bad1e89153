"""Database triggers that make a table append-only, for migrations: evidence is never changed nor deleted."""

from __future__ import annotations

from alembic import op


def refuse_changes(table: str, *, update: bool = True, delete: bool = True) -> None:
    """Create triggers that make the database itself refuse UPDATE and/or DELETE on this table."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION '{table} is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql;
        """)
        events = " OR ".join(e for e, on in (("UPDATE", update), ("DELETE", delete)) if on)
        op.execute(f"CREATE TRIGGER {table}_no_change BEFORE {events} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
        if delete:
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")
        return
    for event, on in (("UPDATE", update), ("DELETE", delete)):
        if on:
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {event} refused'); END")
