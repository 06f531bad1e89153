"""Scheduler wiring: every periodic job of every package, registered in ONE explicit list below."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler

from api import health
from api.metrics import Metrics
from api.runtime import Runtime
from blocklist import appeals, batches, review_digest
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
    every_seconds: int


def scheduled_jobs() -> list[ScheduledJob]:
    """The one explicit list of periodic jobs (packages expose plain functions; only api knows them all)."""
    return [
        ScheduledJob("feed.publish", feed_jobs.publish_feed, every_seconds=2),
        ScheduledJob("feed.fetch_log", feed_jobs.flush_fetch_log, every_seconds=5),
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
        # That a scheduler runs, for /readyz and /metrics of every process (api/health.py).
        ScheduledJob("scheduler.heartbeat", health.beat, every_seconds=health.HEARTBEAT_SECONDS),
    ]


def _guarded(job: ScheduledJob, rt: Runtime, metrics: Metrics | None = None) -> Callable[[], None]:
    def run() -> None:
        failed = False
        try:
            job.func(rt.job_context)
        except Exception:  # a failing job must not kill the scheduler; it is logged and retried next tick
            failed = True
            log.exception("scheduled job %s failed", job.name)
        if metrics is not None:
            metrics.job_finished(job.name, failed=failed)

    return run


def start(rt: Runtime, jobs: list[ScheduledJob] | None = None, *, metrics: Metrics | None = None
          ) -> BackgroundScheduler:
    """Start a background scheduler running the jobs (each never overlapping itself), counting their runs."""
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in jobs if jobs is not None else scheduled_jobs():
        scheduler.add_job(_guarded(job, rt, metrics), "interval", seconds=job.every_seconds, id=job.name,
                          max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
