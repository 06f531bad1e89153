"""SQLite's one writer, handed out first come, first served within a process.

SQLite lets one transaction write at a time; a writer that finds the lock taken is left to SQLite's busy
handler, which sleeps 1, 2, 5 ... then 100 ms between attempts. Under a storm (200 concurrent submissions) a
writer that has waited a while sleeps 100 ms at a time while newcomers, still polling every few milliseconds,
take the lock before it: it can starve past the lock timeout and be refused with 503 while later requests
pass (seen in tests/api/test_crash.py on a loaded CI machine). This queue makes the writers of one process
wait in arrival order, so the wait of each is bounded by the work ahead of it. Writers in other processes (a
separate `blocklist scheduler`) still meet at SQLite's own lock.

The lock is not bound to a thread: a request's transaction begins in one worker thread and commits in another.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy import exc as sa_exc

_HELD = "blocklist.writer_queue.held"  # in a pooled connection's info: this connection holds the turn
_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


class FairLock:
    """A lock granted in the order it was asked for; any thread may release it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds for the turn; False if it did not come."""
        with self._mutex:
            if not self._held and not self._waiting:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait(timeout)
        with self._mutex:
            if turn.is_set():  # handed over, possibly just after the wait ran out: the turn is ours
                return True
            self._waiting.remove(turn)
            return False

    @property
    def waiting(self) -> int:
        """How many are queued for the turn."""
        return len(self._waiting)

    def release(self) -> None:
        """Hand the turn to the longest waiter, or free it."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # stays held, by the one woken
            else:
                self._held = False


class WriterQueue:
    """The turn to write of one engine's write transactions, taken before their BEGIN IMMEDIATE."""

    def __init__(self, engine: Engine, timeout: float) -> None:
        self.timeout = timeout
        self.lock = FairLock()
        _QUEUES[engine] = self
        # The turn is given back when the transaction ends, at the latest when its connection leaves use.
        event.listen(engine, "commit", self._ended)
        event.listen(engine, "rollback", self._ended)
        event.listen(engine, "checkin", self._returned)
        event.listen(engine, "invalidate", self._invalidated)

    def take(self, connection: Connection) -> None:
        """Wait for this write transaction's turn; refused as busy (503 at the API) after `timeout` seconds."""
        info = connection.connection.info
        if info.get(_HELD):
            return  # a second transaction on a connection that still holds its turn
        if not self.lock.acquire(self.timeout):
            raise sa_exc.TimeoutError(f"no turn to write within {self.timeout:g} s: the database is busy")
        info[_HELD] = True

    def _give_back(self, info: dict[Any, Any]) -> None:
        if info.pop(_HELD, False):
            self.lock.release()

    def _ended(self, connection: Connection) -> None:
        self._give_back(connection.connection.info)

    def _returned(self, _dbapi_connection: Any, record: Any) -> None:
        self._give_back(record.info)

    def _invalidated(self, _dbapi_connection: Any, record: Any, _exception: Any) -> None:
        self._give_back(record.info)


def of(engine: Engine) -> WriterQueue | None:
    """The writer queue of an SQLite engine (None for PostgreSQL, whose lock waits are queued by the server)."""
    return _QUEUES.get(engine)
