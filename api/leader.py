"""The scheduler's leader lock: of all the processes on all the hosts that serve one database, only the holder runs
the periodic jobs (api/scheduler.py).

On PostgreSQL it is a session advisory lock taken on a connection of its own, held for as long as the process
leads. When the process dies, by kill -9 or with its host, its connection closes (TCP keepalives bound how long a
vanished host keeps it: about 10 s), PostgreSQL frees the lock, and the next process that asks gets it. Nothing is
written for it and nothing needs cleaning up after a crash. On SQLite (one host by nature) it is an exclusive
`flock` on a file beside the database, which the kernel releases with the process.
"""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import suppress
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger("scheduler.leader")

# The advisory lock's key: "blocklst" as a 64-bit integer (advisory locks are per database, so every install on a
# shared cluster has its own).
LOCK_KEY = int.from_bytes(b"blocklst", "big")
# How the lock's connection notices a dead peer: keepalive probes after 5 s idle, every 2 s, 3 unanswered = gone;
# the same on the server's side, so that a vanished leader host frees the lock within about 11 s.
_KEEPALIVE = {"idle": 5, "interval": 2, "count": 3}


class LeaderLock(Protocol):
    """A lock at most one process holds; asking again while holding it checks that it is still held."""

    def try_acquire(self) -> bool:
        """True when this process holds the lock (it just took it, or still has it); never blocks for long."""

    def release(self) -> None:
        """Give the lock up (another process may take it at once)."""


class PostgresLeaderLock:
    """`pg_try_advisory_lock` on one dedicated connection, outside any transaction."""

    def __init__(self, url: str) -> None:
        server_side = " ".join(f"-c tcp_keepalives_{k}={v}" for k, v in _KEEPALIVE.items())
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args={
            "application_name": "blocklist scheduler lock", "connect_timeout": 5, "keepalives": 1,
            **{f"keepalives_{k}": v for k, v in _KEEPALIVE.items()}, "tcp_user_timeout": 10_000,
            "options": f"{server_side} -c statement_timeout=5000"})
        self._connection: Connection | None = None
        self._held = False

    def try_acquire(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            if self._held:
                # A live session still holds its lock: the round trip proves the session lives.
                self._connection.execute(text("SELECT 1"))
            else:
                self._held = bool(self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                                           {"key": LOCK_KEY}).scalar_one())
        except SQLAlchemyError as exc:
            if self._held:
                log.warning("scheduler: the leader lock's connection failed (%s): no longer the leader",
                            type(exc).__name__)
            self._drop()
        return self._held

    def release(self) -> None:
        if self._connection is not None and self._held:
            with suppress(SQLAlchemyError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        self._held = False
        if self._connection is not None:
            with suppress(SQLAlchemyError):
                self._connection.close()  # closing the session frees its lock, if the server still had it
        self._connection = None


class FileLeaderLock:
    """An exclusive, non-blocking `flock` on a file (one open file per lock: two in one process exclude each
    other too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None


def leader_lock(database_url: str) -> LeaderLock:
    """The leader lock of the database at `database_url`."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresLeaderLock(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLeaderLock(Path(f"{url.database}.scheduler-lock"))
    raise ValueError(f"no leader lock for a {url.get_backend_name()} database")
