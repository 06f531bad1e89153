"""Transactions: read-only ones refuse writes at the database and never wait for the write lock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from blocklist.db import Database
from blocklist.models import AuditEvent, User


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
