"""Events are chained at commit (blocklist/audit.py): the chain's lock is held only while committing, a transaction
reads its own events, and a rollback — of the transaction or of a savepoint — drops exactly what it recorded."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from blocklist import audit
from blocklist.db import Database
from blocklist.models import AuditEvent


def _note(session: object, label: str) -> None:
    audit.record(session, actor="test", action="test.note", object_type="note", object_id=label)  # type: ignore[arg-type]


def _labels(database: Database) -> list[str]:
    with database.reading() as s:
        return list(s.execute(select(AuditEvent.object_id).where(AuditEvent.action == "test.note")
                              .order_by(AuditEvent.id)).scalars())


def _intact(database: Database) -> None:
    with database.transaction() as s:
        status = audit.verify(s)
    assert status.intact, status.describe()


def test_a_transaction_reads_its_own_events(database: Database) -> None:
    with database.transaction() as s:
        before = audit.current_head(s)[0]
        _note(s, "a")
        assert audit.current_head(s)[0] == before + 1  # the head already loaded: chained all the same
        _note(s, "b")
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == before + 2
    assert _labels(database) == ["a", "b"]
    _intact(database)


def test_a_rolled_back_transaction_leaves_no_event(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as s:
        _note(s, "lost")
        raise RuntimeError("the request failed")
    with database.transaction() as s:
        _note(s, "kept")
    assert _labels(database) == ["kept"]
    _intact(database)


def test_a_rolled_back_savepoint_drops_only_what_was_recorded_inside_it(database: Database) -> None:
    with database.transaction() as s:
        _note(s, "before")
        savepoint = s.begin_nested()
        _note(s, "inside")
        savepoint.rollback()
        with s.begin_nested():
            _note(s, "released")
        _note(s, "after")
    assert _labels(database) == ["before", "released", "after"]
    _intact(database)


def test_events_chained_inside_a_rolled_back_savepoint_are_chained_again(database: Database) -> None:
    with database.transaction() as s:
        _note(s, "before")
        savepoint = s.begin_nested()
        _note(s, "inside")
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() >= 2  # chains both, inside
        savepoint.rollback()  # ... and the savepoint takes both rows with it
        _note(s, "after")
    assert _labels(database) == ["before", "after"]
    _intact(database)


def test_a_nested_savepoint_released_into_one_rolled_back(database: Database) -> None:
    with database.transaction() as s:
        _note(s, "outer")
        rolled = s.begin_nested()
        with s.begin_nested():
            _note(s, "inner")
            s.execute(select(AuditEvent.id).limit(1)).all()  # chained inside the inner savepoint
        rolled.rollback()
    assert _labels(database) == ["outer"]
    _intact(database)


def test_writers_do_not_queue_behind_an_uncommitted_recorder(database: Database) -> None:
    """On PostgreSQL each writer has its own connection: one that recorded an event and has not committed yet
    holds no lock that another writer's commit waits for (the lock is taken at commit). SQLite has one writer at a
    time by design (the lock is taken at BEGIN): the other goes on once the first commits, chained after it."""
    slow = database.sessions()
    slow.connection()  # its transaction begun (on SQLite: holding the write lock)
    _note(slow, "slow")
    done = threading.Event()

    def other() -> None:
        with database.transaction() as s:
            _note(s, "quick")
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        if database.dialect == "postgresql":
            assert done.wait(30), "a writer waited for another's uncommitted event"
    finally:
        slow.commit()
        slow.close()
        thread.join(60)
    assert done.is_set()
    assert _labels(database) == (["quick", "slow"] if database.dialect == "postgresql" else ["slow", "quick"])
    _intact(database)
