"""`/healthz` (the process answers) and `/readyz` (it can serve), for load balancers and orchestrators.

Neither needs a credential, so neither says anything sensitive: which condition failed and what to do, never an
address, a path, a revision's content or an error's text. Neither takes the request's write transaction.

Ready means: the database answers, its schema is at the newest revision of every branch, the feed's signing key
is in the data directory, and a scheduler is known to run: in this process (it holds the leader lock), or in the
leader elsewhere, whose heartbeat (written by the `scheduler.heartbeat` job, api/scheduler.py) is recent.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from functools import cached_property

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from api.models import SchedulerHeartbeat
from api.runtime import Runtime, migration_locations
from api.schemas import HealthOut, ReadinessCheckOut, ReadinessOut
from blocklist import db as core_db
from blocklist.jobs import JobContext
from blocklist.models import utcnow

router = APIRouter(include_in_schema=False)
HEARTBEAT_SECONDS = 5  # how often the scheduler writes its heartbeat
HEARTBEAT_FRESH = dt.timedelta(seconds=30)  # a heartbeat older than this: no scheduler is known to run


def beat(ctx: JobContext) -> None:
    """The scheduler's heartbeat: the leader is this process, now (one row, rewritten by whoever leads)."""
    with ctx.database.transaction() as session:
        session.merge(SchedulerHeartbeat(id=1, holder=f"{socket.gethostname()}:{os.getpid()}"[:200],
                                         beat_at=utcnow()))


@dataclass
class Readiness:
    """The readiness checks of one app (the wanted schema revisions are read once: they do not change)."""

    rt: Runtime

    @cached_property
    def wanted(self) -> set[str]:
        url = self.rt.settings.resolved_database_url()
        return core_db.newest_revisions(core_db.alembic_config(url, migration_locations()))

    def checks(self, *, scheduler_here: bool) -> list[ReadinessCheckOut]:
        """Each condition, in order; when the database does not answer, what is read from it is not checked."""
        has_key = self.rt.keys.has_active_key()
        signing_key = ReadinessCheckOut(name="signing_key", ok=has_key, detail="present" if has_key else (
            "missing from the data directory (the first feed publication makes one; a restore must bring it back)"))
        try:
            with self.rt.database.reading() as session:
                session.execute(select(1))
                applied = core_db.applied_revisions(session.connection())
                beat_at = session.execute(select(SchedulerHeartbeat.beat_at)).scalar_one_or_none()
        except (SQLAlchemyError, OSError) as exc:
            unread = "not checked: the database did not answer"
            return [ReadinessCheckOut(name="database", ok=False, detail=f"unreachable ({type(exc).__name__})"),
                    ReadinessCheckOut(name="migrations", ok=False, detail=unread), signing_key,
                    ReadinessCheckOut(name="scheduler", ok=scheduler_here,
                                      detail="runs in this process" if scheduler_here else unread)]
        missing = ", ".join(sorted(self.wanted - applied))
        return [ReadinessCheckOut(name="database", ok=True, detail="answers"),
                ReadinessCheckOut(name="migrations", ok=not missing, detail=f"behind: {missing} not applied (run "
                                  "`blocklist db upgrade`)" if missing else "at the newest revision"),
                signing_key, self._scheduler(scheduler_here, beat_at)]

    @staticmethod
    def _scheduler(here: bool, beat_at: dt.datetime | None) -> ReadinessCheckOut:
        if here:
            return ReadinessCheckOut(name="scheduler", ok=True, detail="runs in this process")
        age = utcnow() - beat_at if beat_at is not None else None
        if age is not None and age <= HEARTBEAT_FRESH:
            return ReadinessCheckOut(name="scheduler", ok=True, detail=f"heartbeat {int(age.total_seconds())} s ago")
        return ReadinessCheckOut(name="scheduler", ok=False, detail=(
            f"no scheduler heartbeat in the last {int(HEARTBEAT_FRESH.total_seconds())} s (no leader: run "
            "`blocklist serve` or `blocklist scheduler` with BLOCKLIST_SCHEDULER=true)"))


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """The process answers; nothing else is looked at (on the event loop: no thread needs to be free)."""
    return HealthOut()


@router.get("/readyz", response_model=ReadinessOut, responses={503: {"model": ReadinessOut}})
def readyz(request: Request) -> JSONResponse:
    """200 when every condition holds, else 503; each condition with what was found."""
    readiness: Readiness = request.app.state.readiness
    running = request.app.state.scheduler  # api.scheduler.Scheduler: running while this process leads
    checks = readiness.checks(scheduler_here=running is not None and bool(running.running))
    ready = all(check.ok for check in checks)
    body = ReadinessOut(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
