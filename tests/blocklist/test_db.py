"""Transactions: read-only ones refuse writes at the database and never wait for the write lock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from blocklist.db import Database
from blocklist.models import AuditEvent, User
from blocklist.settings import Settings


def test_a_reading_session_sees_the_data_and_refuses_writes(database: Database, people: dict[str, User]) -> None:
    with database.reading() as s:
        assert s.execute(select(func.count()).select_from(User)).scalar_one() == len(people)
        with pytest.raises(DBAPIError, match=r"read-only|readonly"):
            s.execute(User.__table__.update().values(display_name="changed"))
    with database.transaction() as s:
        assert {u.display_name for u in s.execute(select(User)).scalars()} != {"changed"}


def test_readers_proceed_while_a_writer_holds_its_transaction(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as writer:
        writer.get(User, people["officer"].id).display_name = "being changed"  # type: ignore[union-attr]
        writer.flush()  # SQLite's write lock (or PostgreSQL's row lock) is held from here
        with database.reading() as reader:
            # Not blocked, and it sees the last committed state, not the writer's pending change.
            assert reader.get(User, people["officer"].id).display_name != "being changed"  # type: ignore[union-attr]
            assert reader.execute(select(func.count()).select_from(AuditEvent)).scalar_one() >= 0


def test_the_write_ahead_log_is_checkpointed_by_the_job_not_by_a_commit(database: Database,
                                                                       people: dict[str, User]) -> None:
    """SQLite: a commit checkpoints only past WAL_AUTOCHECKPOINT_PAGES (a backstop); `checkpoint` (the scheduler's
    db.checkpoint job) copies the log back whole while no reader needs it. PostgreSQL: nothing to do."""
    if database.dialect != "sqlite":
        assert database.checkpoint() is None
        return
    from blocklist.db import WAL_AUTOCHECKPOINT_PAGES
    from blocklist.jobs import JobContext, checkpoint_database

    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == WAL_AUTOCHECKPOINT_PAGES
    for i in range(5):
        with database.transaction() as s:
            s.get(User, people["officer"].id).display_name = f"officer {i}"  # type: ignore[union-attr]
    checkpoint_database(JobContext.standalone(database, Settings(DATABASE_URL=database.url)))
    after = database.checkpoint()
    assert after is not None and after[0] > 0 and after[1] == after[0]  # in the log, and all in the database
