"""What an insider with database access can do to hide an edit: recompute every hash of the audit chain."""

from __future__ import annotations

from sqlalchemy import Connection, text

from blocklist import audit


def rehash_chain(conn: Connection) -> None:
    """Recompute every event's hash and previous hash, and the head, over the events as they now stand."""
    rows = conn.execute(text("SELECT id, at, actor, action, object_type, object_id, domain, order_id, details "
                             "FROM audit_events ORDER BY id")).mappings().all()
    prev = audit.GENESIS
    for row in rows:
        digest = audit.event_hash(seq=row["id"], **{k: v for k, v in row.items() if k != "id"}, prev_hash=prev)
        conn.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :i"),
                     {"p": prev, "h": digest, "i": row["id"]})
        prev = digest
    conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
