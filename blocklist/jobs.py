"""What every periodic job receives: the database, the settings and the name checks, built once per process.

api/scheduler.py builds one context from the Runtime and hands it to every job on every tick, so a job run every
2 s does not parse the shipped lists again (the Runtime's cache is the one the requests use). Packages extend it
with what only their jobs need (isp_feed.jobs.FeedJobContext adds the signing keys).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist.db import Database
from blocklist.isps import isp_own_domains
from blocklist.names import NamePolicy
from blocklist.settings import Settings
from blocklist.workflow import name_policy

PolicyProvider = Callable[[Session], NamePolicy]
Row = TypeVar("Row")

# Scheduled work yields the CPU to requests: a national list's first version keeps both cores busy for seconds, and
# an officer's submission meanwhile must not wait behind it. Linux keeps a nice value per thread, and a process
# started from a thread (the feed's second renderer) inherits it.
BACKGROUND_NICE = 10


def yield_cpu_to_requests() -> None:
    """Lower the calling thread's CPU priority to BACKGROUND_NICE (a job thread's, for good: raising it again needs
    a privilege the server does not have)."""
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, thread, BACKGROUND_NICE)
    except (AttributeError, OSError):  # not Linux, or refused: the job runs at the process's priority
        pass


def claim(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row of `model` with this id, locked by this transaction until it ends, or None when it is missing or
    another transaction holds it (it is being claimed elsewhere).

    One leader runs the jobs, but for a few seconds around a change of leader (or beside a job started by hand) two
    processes may work the same queue: a job re-reads what it claims through this, then decides. PostgreSQL: SELECT
    ... FOR UPDATE SKIP LOCKED. SQLite takes its one writer lock at BEGIN (blocklist/db.py), which serialises every
    claim already (the clause is not emitted there).
    """
    return session.get(model, row_id, with_for_update={"skip_locked": True})


def claim_all(session: Session, model: type[Row], row_ids: Collection[int]) -> set[int]:
    """`claim` for many rows in one query: the ids of those now locked by this transaction (missing ones and
    those another transaction holds are left out)."""
    if not row_ids:
        return set()
    key = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    return set(session.execute(select(key).where(key.in_(row_ids)).with_for_update(skip_locked=True)).scalars())


@dataclass
class PolicyCache:
    """The name checks with this deployment's extras and the ISPs' own domains, rebuilt only when those change."""

    settings: Settings
    _built: dict[tuple[str, ...], NamePolicy] = field(default_factory=dict, repr=False)

    def __call__(self, session: Session) -> NamePolicy:
        key = tuple(isp_own_domains(session))
        cached = self._built.get(key)
        if cached is None:
            cached = name_policy(session, extra_protected=self.settings.protected_extra_names(),
                                 extra_platforms=self.settings.platform_extra_names())
            self._built = {key: cached}  # one entry: replaced, never mutated (read from several threads)
        return cached


@dataclass(frozen=True)
class JobContext:
    """The database, the settings and the policy provider (a callable taking a session) a job runs with."""

    database: Database
    settings: Settings
    policy: PolicyProvider

    @classmethod
    def standalone(cls, database: Database, settings: Settings) -> JobContext:
        """A context for code that has no Runtime (tests, scripts): its own policy cache."""
        return cls(database, settings, PolicyCache(settings))


def checkpoint_database(ctx: JobContext) -> None:
    """The scheduled SQLite checkpoint (blocklist/db.py: WAL_AUTOCHECKPOINT_PAGES says why it is a job)."""
    ctx.database.checkpoint()
