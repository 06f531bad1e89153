"""The audit chain detects an edited, deleted, inserted or reordered event, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from blocklist import audit, workflow
from blocklist.db import Database
from blocklist.models import User
from blocklist.names import NamePolicy
from tests.blocklist.helpers import submission

POLICY = NamePolicy.build()


@pytest.fixture
def history(database: Database, people: dict[str, User]) -> Database:
    """A database with a few decisions on record."""
    with database.transaction() as s:
        a = workflow.submit(s, actor=people["officer"], data=submission("one.test"), policy=POLICY).id
        b = workflow.submit(s, actor=people["officer"], data=submission("two.test"), policy=POLICY).id
    with database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[a])
        workflow.reject(s, actor=people["magistrate"], submission_id=b, reason="not enough evidence")
    with database.transaction() as s:
        assert audit.verify(s).intact
    return database


@contextmanager
def attacker(database: Database) -> Iterator[Connection]:
    """A connection that bypasses the append-only triggers, as someone with full database access could."""
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))  # superuser: triggers off
            yield conn
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
            yield conn


def _verify(database: Database) -> audit.ChainStatus:
    with database.transaction() as s:
        return audit.verify(s)


def _count(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one())


def test_intact_chain_verifies(history: Database) -> None:
    status = _verify(history)
    assert status.intact and status.events == _count(history)
    assert "intact" in status.describe()


def test_update_and_delete_are_refused_by_the_database(history: Database) -> None:
    for statement in ("UPDATE audit_events SET actor = 'x' WHERE id = 3", "DELETE FROM audit_events WHERE id = 3"):
        with pytest.raises(DBAPIError, match="append-only"), history.engine.begin() as conn:
            conn.execute(text(statement))
    assert _verify(history).intact


def test_edited_event_detected(history: Database) -> None:
    with attacker(history) as conn:
        conn.execute(text("UPDATE audit_events SET details = '{\"reason\":\"other\"}' WHERE id = 5"))
    status = _verify(history)
    assert not status.intact and status.broken_at == 5 and "changed" in (status.problem or "")


def test_edited_and_rehashed_event_detected_at_the_next(history: Database) -> None:
    with attacker(history) as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'user:someone', hash = :h WHERE id = 4"),
                     {"h": "f" * 64})
    status = _verify(history)
    assert not status.intact and status.broken_at == 4


def test_deleted_event_detected(history: Database) -> None:
    with attacker(history) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 6"))
    status = _verify(history)
    assert not status.intact and status.broken_at == 6 and "missing" in (status.problem or "")


def test_deleted_tail_detected(history: Database) -> None:
    last = _count(history)
    with attacker(history) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": last})
    status = _verify(history)
    assert not status.intact and status.broken_at == last


def test_inserted_event_detected(history: Database) -> None:
    # Shift the tail up by one and slip a forged event into the gap: ids stay contiguous, hashes do not.
    last = _count(history)
    with attacker(history) as conn:
        for i in range(last, 4, -1):
            conn.execute(text("UPDATE audit_events SET id = :n WHERE id = :i"), {"n": i + 1, "i": i})
        conn.execute(text(
            "INSERT INTO audit_events "
            "(id, at, actor, action, object_type, object_id, domain, details, prev_hash, hash) "
            "SELECT 5, at, 'user:forger', 'submission.approved', object_type, object_id, domain, '{}', hash, :h "
            "FROM audit_events WHERE id = 4"), {"h": "a" * 64})
        conn.execute(text("UPDATE audit_head SET last_id = :n"), {"n": last + 1})
    status = _verify(history)
    assert not status.intact and status.broken_at == 5


def test_reordered_events_detected(history: Database) -> None:
    with attacker(history) as conn:
        conn.execute(text("UPDATE audit_events SET id = -1 WHERE id = 3"))
        conn.execute(text("UPDATE audit_events SET id = 3 WHERE id = 4"))
        conn.execute(text("UPDATE audit_events SET id = 4 WHERE id = -1"))
    status = _verify(history)
    assert not status.intact and status.broken_at == 3


def test_failed_operation_leaves_chain_unchanged(history: Database, people: dict[str, User]) -> None:
    before = _verify(history)
    with pytest.raises(Exception), history.transaction() as s:  # noqa: B017 - any refusal will do
        workflow.submit(s, actor=people["officer"], data=submission("three.test"), policy=POLICY)
        raise RuntimeError("crash after the audit event was written, before commit")
    after = _verify(history)
    assert (after.events, after.head_hash) == (before.events, before.head_hash)


def test_deleted_tail_and_head_detected(history: Database) -> None:
    # Cut the last events and the head row with them: what is left is a shorter, internally consistent chain.
    last = _count(history)
    with attacker(history) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id > :i"), {"i": last - 2})
        conn.execute(text("DELETE FROM audit_head"))
    status = _verify(history)
    assert not status.intact and status.broken_at == last - 1
    assert "audit_head" in (status.problem or "") and "missing" in status.describe()


def test_everything_deleted_detected(history: Database) -> None:
    with attacker(history) as conn:
        conn.execute(text("DELETE FROM audit_events"))
        conn.execute(text("DELETE FROM audit_head"))
    status = _verify(history)
    assert not status.intact and status.events == 0 and "wiped" in (status.problem or "")


def test_no_event_can_be_recorded_without_the_head(history: Database, people: dict[str, User]) -> None:
    with attacker(history) as conn:
        conn.execute(text("DELETE FROM audit_head"))
    with pytest.raises(Exception), history.transaction() as s:  # noqa: B017 - NoResultFound: no head to chain onto
        workflow.submit(s, actor=people["officer"], data=submission("three.test"), policy=POLICY)
    assert not _verify(history).intact


def test_a_fresh_database_has_its_head(database: Database) -> None:
    # The initial migration writes the head row: the chain is never legitimately headless, not even empty.
    with database.transaction() as s:
        assert audit.current_head(s) == (0, audit.GENESIS)
        assert audit.verify(s).intact


def _witness(database: Database, events: int, label: str = "a test checkpoint") -> audit.Witness:
    with database.transaction() as s:
        found = audit.hash_at(s, events)
    assert found is not None
    return audit.Witness(events, found, label)


def test_witnessed_points_match_an_intact_chain(history: Database) -> None:
    last = _count(history)
    witnesses = [_witness(history, 0), _witness(history, 3), _witness(history, last)]
    with history.transaction() as s:
        status = audit.verify(s, witnesses=witnesses)
    assert status.intact and status.witnessed == 3 and "3 witnessed checkpoint(s) match" in status.describe()


def test_rewritten_and_fully_rehashed_chain_fails_only_against_a_witness(history: Database) -> None:
    last = _count(history)
    before = [_witness(history, 2, "checkpoint A"), _witness(history, last, "checkpoint B")]
    _rewrite_from(history, 4, actor="user:someone-else")
    assert _verify(history).intact  # every hash and the head were recomputed: the chain alone cannot tell
    with history.transaction() as s:
        status = audit.verify(s, witnesses=before)
    assert not status.intact and status.broken_at == last
    assert "checkpoint B" in (status.problem or "") and "after event 2" in (status.problem or "")


def test_cut_chain_fails_against_a_witness_of_its_length(history: Database) -> None:
    last = _count(history)
    witness = _witness(history, last, "checkpoint C")
    with attacker(history) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id > 3"))
        row = conn.execute(text("SELECT hash FROM audit_events WHERE id = 3")).scalar_one()
        conn.execute(text("UPDATE audit_head SET last_id = 3, last_hash = :h"), {"h": row})
    assert _verify(history).intact is False  # the replay: decided submissions lost their events
    with history.transaction() as s:
        status = audit.verify(s, witnesses=[witness])
    assert not status.intact and f"witnessed {last} events" in (status.problem or "")


def _rewrite_from(database: Database, first: int, **changes: str) -> None:
    """What an insider with the database can do: change event `first` and recompute every later hash and the head."""
    with attacker(database) as conn:
        rows = conn.execute(text(
            "SELECT id, at, actor, action, object_type, object_id, domain, order_id, details, prev_hash "
            "FROM audit_events WHERE id >= :i ORDER BY id"), {"i": first}).mappings().all()
        prev = conn.execute(text("SELECT hash FROM audit_events WHERE id = :i"), {"i": first - 1}).scalar_one()
        for row in rows:
            fields = {**row, **(changes if row["id"] == first else {}), "prev_hash": prev}
            digest = audit.event_hash(seq=fields.pop("id"), **fields)
            conn.execute(text("UPDATE audit_events SET actor = :actor, prev_hash = :p, hash = :h WHERE id = :i"),
                         {"actor": fields["actor"], "p": prev, "h": digest, "i": row["id"]})
            prev = digest
        conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
