"""Scheduler wiring: every periodic job of every package, registered in ONE explicit list below.

Every `blocklist serve` worker (and `blocklist scheduler`) starts a Scheduler; they all compete for one leader lock
(api/leader.py) and only the holder runs the jobs, so each runs exactly once across processes and hosts. The
others ask for the lock every LEAD_SECONDS: when the leader dies, its lock is free at once and one of them takes
over within that time. A job the dead leader left half-done is resumed by the next one: every job works from what
is committed (a batch's pending names, a document still pending) in short transactions. The few jobs marked
`everywhere` concern what one process holds in memory (its feed fetch log) and run in every process.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler

from api import health
from api.leader import LeaderLock, leader_lock
from api.metrics import Metrics
from api.runtime import Runtime
from blocklist import appeals, batches, review_digest
from blocklist.jobs import checkpoint_database, yield_cpu_to_requests
from isp_feed import jobs as feed_jobs
from requisitions import jobs as requisitions_jobs

log = logging.getLogger("scheduler")

# Every job takes the one context the Runtime built (database, settings, keys, cached name checks); a job that
# needs less takes a base class of it (requisitions' jobs: blocklist.jobs.JobContext).
JobFunc = Callable[[feed_jobs.FeedJobContext], object]


@dataclass(frozen=True)
class ScheduledJob:
    """A job: what it does, how often (seconds)."""

    name: str
    func: JobFunc
    every_seconds: float
    everywhere: bool = False  # runs in every process (its own memory), not only in the leader


def scheduled_jobs() -> list[ScheduledJob]:
    """The one explicit list of periodic jobs (packages expose plain functions; only api knows them all)."""
    return [
        # An idle tick costs about a millisecond (publish.Memo): at most a quarter of a second between an approval and
        # the start of its version (a client's held poll is answered as soon as it is published).
        ScheduledJob("feed.publish", feed_jobs.publish_feed_tick, every_seconds=0.25),
        # Each new file's own signature, beside the publish job (which never waits for it).
        ScheduledJob("feed.sign_files", feed_jobs.sign_feed_files, every_seconds=1),
        # Each process writes the feed requests it answered and holds in memory.
        ScheduledJob("feed.fetch_log", feed_jobs.flush_fetch_log, every_seconds=5, everywhere=True),
        # Each published version to the hidden primary (NOTIFY/IXFR to the ISPs' secondaries; feed.publish hands it
        # each new one at once), its transfer log read.
        ScheduledJob("feed.primary_sync", feed_jobs.sync_primary, every_seconds=1),
        ScheduledJob("feed.reconcile", feed_jobs.reconcile_feed, every_seconds=3600),
        ScheduledJob("feed.verify", feed_jobs.verify_when_due, every_seconds=60),
        ScheduledJob("audit.checkpoint", feed_jobs.checkpoint_audit, every_seconds=60),
        ScheduledJob("requisitions.issue", requisitions_jobs.issue_pending, every_seconds=5),
        ScheduledJob("requisitions.catch_up", requisitions_jobs.catch_up, every_seconds=60),
        ScheduledJob("requisitions.deliver", requisitions_jobs.deliver, every_seconds=15),
        ScheduledJob("removal.issue", requisitions_jobs.issue_removal_notices, every_seconds=5),
        ScheduledJob("removal.deliver", requisitions_jobs.deliver_removal_notices, every_seconds=15),
        # Hourly: the magistrates' weekly digest of reviews due goes out once it is due (blocklist/review_digest.py).
        ScheduledJob("reviews.digest", review_digest.send_weekly, every_seconds=3600),
        # The answers to appeals whose appellant left an e-mail address (blocklist/appeals.py).
        ScheduledJob("appeals.answer", appeals.send_answers, every_seconds=15),
        # Bulk submissions stored by the API and the officers' page, recorded chunk by chunk (blocklist/batches.py).
        ScheduledJob("submissions.batches", batches.process_batches, every_seconds=2),
        # SQLite's write-ahead log copied back into the database here, not in whichever commit finds it long (a
        # request's); in every process, since each may hold the log's readers (nothing on PostgreSQL).
        ScheduledJob("db.checkpoint", checkpoint_database, every_seconds=1, everywhere=True),
        # That a scheduler runs and which process leads, for /readyz and /metrics of every process (api/health.py).
        ScheduledJob("scheduler.heartbeat", health.beat, every_seconds=health.HEARTBEAT_SECONDS),
    ]


def _guarded(job: ScheduledJob, rt: Runtime, metrics: Metrics | None = None) -> Callable[[], None]:
    def run() -> None:
        failed = False
        yield_cpu_to_requests()
        try:
            job.func(rt.job_context)
        except Exception:  # a failing job must not kill the scheduler; it is logged and retried next tick
            failed = True
            log.exception("scheduled job %s failed", job.name)
        if metrics is not None:
            metrics.job_finished(job.name, failed=failed)

    return run


LEAD_SECONDS = 3  # how often the leader checks its lock and every other process asks for it


class Scheduler:
    """The periodic jobs of one process: the `everywhere` ones always, the others while this process leads."""

    def __init__(self, rt: Runtime, jobs: list[ScheduledJob], *, lock: LeaderLock | None,
                 metrics: Metrics | None = None) -> None:
        self._rt, self._lock, self._leading = rt, lock, False
        self._jobs = jobs
        self._background = BackgroundScheduler(timezone="UTC")
        self._heartbeat = next((j for j in jobs if j.name == "scheduler.heartbeat"), None)
        self._metrics = metrics
        self.identity = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def leading(self) -> bool:
        """Whether this process holds the leader lock, so runs the jobs."""
        return self._leading

    @property
    def running(self) -> bool:
        """Whether this process runs the scheduled jobs now (it leads and has not been shut down)."""
        return self._leading and bool(self._background.running)

    def start(self) -> Scheduler:
        """Ask for the lead once now (a lone process leads from its first moment), then keep asking."""
        self._campaign()
        for job in self._jobs:
            run = _guarded(job, self._rt, self._metrics)
            self._background.add_job(run if job.everywhere else self._if_leading(run), "interval",
                                     seconds=job.every_seconds, id=job.name, max_instances=1, coalesce=True)
        if self._lock is not None:
            self._background.add_job(self._campaign, "interval", seconds=LEAD_SECONDS, id="scheduler.lead",
                                     max_instances=1, coalesce=True)
        self._background.start()
        return self

    def shutdown(self, wait: bool = True) -> None:
        """Stop starting jobs, let the running ones finish (`wait`), then hand the lead on."""
        if self._background.running:
            self._background.shutdown(wait=wait)
        if self._leading:
            log.info("scheduler: %s stopped; the running jobs finished, the lead is free", self.identity)
        self._leading = False
        if self._lock is not None:
            self._lock.release()

    def _if_leading(self, run: Callable[[], None]) -> Callable[[], None]:
        def leader_only() -> None:
            if self._leading:
                run()

        return leader_only

    def _campaign(self) -> None:
        if self._lock is None:
            return
        was = self._leading
        try:
            self._leading = self._lock.try_acquire()
        except Exception:  # the lock's database unreachable: not the leader until it answers again
            log.exception("scheduler: cannot ask for the leader lock")
            self._leading = False
        if self._leading and not was:
            log.info("scheduler: %s is the leader and runs the jobs", self.identity)
            if self._heartbeat is not None:  # known at once to /readyz everywhere, not at the next beat
                _guarded(self._heartbeat, self._rt, self._metrics)()
        elif was and not self._leading:
            log.warning("scheduler: %s lost the lead and stops running the jobs", self.identity)


def start(rt: Runtime, jobs: list[ScheduledJob] | None = None, *, metrics: Metrics | None = None,
          lead: bool = True) -> Scheduler:
    """Start this process's scheduler (each job never overlapping itself), counting the jobs' runs. With `lead`,
    it competes for the leader lock and runs every job while it holds it; without, only the `everywhere` jobs."""
    lock = leader_lock(rt.settings.resolved_database_url()) if lead else None
    return Scheduler(rt, jobs if jobs is not None else scheduled_jobs(), lock=lock, metrics=metrics).start()
