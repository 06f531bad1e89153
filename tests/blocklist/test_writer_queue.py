"""SQLite's writers get their turn in arrival order (blocklist/writer_queue.py).

The finding: in a storm of 200 concurrent submissions on SQLite, one request waited past the 10 s lock timeout
and was refused with 503 while later ones passed: SQLite's busy handler lets a newcomer, polling every few
milliseconds, take the lock before a writer that has been waiting long and now sleeps 100 ms between attempts.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from blocklist import writer_queue
from blocklist.db import Database, upgrade
from blocklist.models import User
from blocklist.writer_queue import FairLock
from tests.support.cluster import wait_until


def test_the_lock_is_granted_in_the_order_it_was_asked_for() -> None:
    lock = FairLock()
    assert lock.acquire(1)
    order: list[int] = []

    def waiter(n: int) -> None:
        assert lock.acquire(10)
        order.append(n)
        lock.release()  # from another thread than the one that took it first: allowed

    threads = []
    for n in range(8):
        threads.append(threading.Thread(target=waiter, args=(n,)))
        threads[-1].start()
        wait_until(lambda n=n: lock.waiting == n + 1, "queued one after the other")
    lock.release()
    for t in threads:
        t.join(10)
    assert order == list(range(8))


def test_a_waiter_that_gives_up_leaves_the_queue_and_the_turn_passes_on() -> None:
    lock = FairLock()
    assert lock.acquire(1)
    assert not lock.acquire(0.05)  # refused after its timeout
    assert lock.waiting == 0
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(lock.acquire(10)))
    t.start()
    wait_until(lambda: lock.waiting == 1, "queued")
    lock.release()
    t.join(10)
    assert got == [True]
    lock.release()
    assert lock.acquire(0)  # free again


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    upgrade(url)
    return Database(url, lock_timeout=2)


def test_sqlite_writers_commit_in_arrival_order(sqlite_file: Database) -> None:
    database = sqlite_file
    order: list[int] = []
    holder_in, holder_go = threading.Event(), threading.Event()

    def holder() -> None:
        with database.transaction() as session:
            session.execute(select(User)).all()  # BEGIN IMMEDIATE: the write lock is held from here
            holder_in.set()
            holder_go.wait(10)

    def writer(n: int) -> None:
        with database.transaction() as session:
            session.execute(select(User)).all()
            order.append(n)

    first = threading.Thread(target=holder)
    first.start()
    holder_in.wait(10)
    queue = writer_queue.of(database.engine)
    assert queue is not None
    writers = []
    for n in range(6):
        writers.append(threading.Thread(target=writer, args=(n,)))
        writers[-1].start()
        wait_until(lambda n=n: queue.lock.waiting == n + 1, "each has begun waiting before the next arrives")
    holder_go.set()
    for t in [first, *writers]:
        t.join(20)
    assert order == list(range(6))


def test_a_writer_whose_turn_does_not_come_is_refused_as_busy_and_the_queue_recovers(sqlite_file: Database) -> None:
    database = Database(sqlite_file.url, lock_timeout=0.2)
    with database.transaction() as session:
        session.execute(select(User)).all()
        errors: list[BaseException] = []

        def late() -> None:
            try:
                with database.transaction() as other:
                    other.execute(select(User)).all()
            except BaseException as exc:
                errors.append(exc)

        t = threading.Thread(target=late)
        t.start()
        t.join(10)
    assert len(errors) == 1 and isinstance(errors[0], sa_exc.TimeoutError), errors  # the API answers 503
    with database.transaction() as session:  # the turn came back with the commit: the next writer passes
        session.execute(select(User)).all()
    database.dispose()
