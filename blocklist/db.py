"""Engines, sessions and migrations for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from blocklist.writer_queue import WriterQueue

CORE_MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "blocklist_read_only"  # an execution option: the transaction only reads (the database enforces it)


DEFAULT_LOCK_TIMEOUT = 10.0  # seconds a writer waits for the write lock before it is refused as busy
# SQLite copies its write-ahead log back into the database (a checkpoint, with an fsync of the database) in the
# commit that finds the log past this many pages: at SQLite's default of 1,000 (4 MB) that fell on whichever commit
# came after a national version's snapshot, and a 20 ms re-issue or an officer's submission took 300 ms. The
# scheduler's `db.checkpoint` job checkpoints every second instead (`Database.checkpoint`), off every request;
# this many pages (about 64 MB) stays only as the backstop for a process that runs no scheduler.
WAL_AUTOCHECKPOINT_PAGES = 16_000


def make_engine(url: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and write transactions that lock at BEGIN.

    Every wait is bounded (`lock_timeout` for SQLite's write lock and PostgreSQL's locks, the same for a pooled
    connection), so that a request that cannot get its turn fails with OperationalError/TimeoutError, which the
    API answers with 503 + Retry-After, instead of hanging or piling up.
    """
    parsed = make_url(url)
    millis = int(lock_timeout * 1000)
    kwargs.setdefault("pool_timeout", lock_timeout)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("pool_size", 16)
        kwargs.setdefault("max_overflow", 16)
        engine = create_engine(url, connect_args={"timeout": lock_timeout, "check_same_thread": False}, **kwargs)
        writers = WriterQueue(engine, lock_timeout)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, emit BEGIN, so that we can make it IMMEDIATE.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={millis}")
            # FULL: a commit is on disk before it returns (WAL's default NORMAL may lose the last commits on
            # power loss), since an answer is only sent once its commit has returned.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                # A reader takes no lock (WAL), and query_only makes any write in it fail at once.
                conn.exec_driver_sql("PRAGMA query_only=ON")
                conn.exec_driver_sql("BEGIN")
                return
            # Two deferred transactions that both read then write deadlock in SQLite; taking the write
            # lock at BEGIN serialises writers cleanly (readers still proceed under WAL).
            writers.take(conn)  # in arrival order, not by SQLite's busy-handler lottery
            conn.exec_driver_sql("PRAGMA query_only=OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 16)
    kwargs.setdefault("max_overflow", 16)
    connect_args = {"options": f"-c lock_timeout={millis}"} if parsed.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "begin")
    def _on_begin_postgresql(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Same pool; transactions that only read, and that never wait for (or hold) SQLite's write lock.
        self.readers = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """The backend name: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end, or rolled back whole on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session: it sees one consistent snapshot, and any write in it is refused."""
        session = self.readers()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def checkpoint(self) -> tuple[int, int] | None:
        """SQLite: copy what the write-ahead log holds back into the database, without waiting for or blocking
        readers and writers (PASSIVE: what a reader still needs stays for the next one); the log's pages and how many
        of them are now in the database. None on PostgreSQL, which checkpoints by itself."""
        if self.dialect != "sqlite":
            return None
        raw = self.engine.raw_connection()
        try:
            # The driver's own connection, in autocommit (no BEGIN is emitted: a checkpoint cannot run inside a
            # transaction).
            cursor = raw.cursor()
            _busy, log_pages, done = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        return int(log_pages), int(done)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config(url: str, version_locations: Sequence[Path] = ()) -> Config:
    """An Alembic configuration over the core migrations plus any other packages' version folders."""
    cfg = Config()
    cfg.set_main_option("script_location", str(CORE_MIGRATIONS))
    locations = [CORE_MIGRATIONS / "versions", *version_locations]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def newest_revisions(cfg: Config) -> set[str]:
    """The head revision of every migration branch the configuration knows."""
    return set(ScriptDirectory.from_config(cfg).get_heads())


def applied_revisions(connection: Connection) -> set[str]:
    """The revisions the database's schema is at (one per branch)."""
    return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(url: str, version_locations: Sequence[Path] = ()) -> None:
    """Bring the schema to the newest revision of every migration branch.

    It first looks, in a read-only transaction, whether anything is to do: every CLI command calls this, and
    taking the write lock for nothing would make a read-only command wait behind (or fail beside) a long write.
    """
    cfg = alembic_config(url, version_locations)
    engine = make_engine(url)
    try:
        wanted = newest_revisions(cfg)
        with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            if applied_revisions(connection) == wanted:
                return
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                _wait_for_migration_lock(connection)
            cfg.attributes["connection"] = connection
            # After another process's upgrade (we waited for its lock), Alembic finds the schema at head: a no-op.
            command.upgrade(cfg, "heads")
    finally:
        engine.dispose()


# "blmigrat": another advisory lock key than the scheduler leader's (api/leader.py).
MIGRATION_LOCK_KEY = int.from_bytes(b"blmigrat", "big")
MIGRATION_LOCK_WAIT = "10min"  # how long a host waits for another host's migration before it gives up


def _wait_for_migration_lock(connection: Connection) -> None:
    """Serialise upgrades across processes and hosts (on SQLite, BEGIN IMMEDIATE already does).

    Two hosts starting at once on an empty database would otherwise both create the same tables, and one fail. The
    transaction-level advisory lock is freed by the upgrade's commit or rollback, or with a dead host's connection.
    Waiting for it may outlast the bounded lock wait of ordinary requests: a migration may take minutes.
    """
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_WAIT}'")
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.exec_driver_sql("RESET lock_timeout")  # the migration's own statements: the bounded wait again
