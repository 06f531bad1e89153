"""Periodic jobs of the feed (registered in api/scheduler.py)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from blocklist import queries
from blocklist.db import Database
from blocklist.errors import NotFound
from blocklist.jobs import JobContext, PolicyCache
from blocklist.models import utcnow
from blocklist.settings import Settings
from isp_feed import checkpoints, file_signatures, primary, publish, serving, verification, versions
from isp_feed.keys import KeyStore
from isp_feed.models import VerificationRound

log = logging.getLogger("isp_feed.jobs")


@dataclass(frozen=True)
class FeedJobContext(JobContext):
    """A job's context plus what the feed's jobs share in this process: the signing keys (one KeyStore), what the
    publisher saw last (so that an idle tick costs O(1)) and the fetch log the feed endpoints fill."""

    keys: KeyStore
    memo: publish.Memo = field(default_factory=publish.Memo)
    fetch_log: serving.FetchLog = field(default_factory=serving.FetchLog)
    # One push to the hidden primary at a time: the publish job hands it each new version at once, while the sync
    # job keeps ticking for what that missed (a primary that was down, a registry change).
    primary_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def standalone(cls, database: Database, settings: Settings) -> FeedJobContext:
        """A context for code that has no Runtime (tests, scripts): its own policy cache and key store."""
        return cls(database, settings, PolicyCache(settings), KeyStore(settings.data_dir / "keys"))


def publish_feed(ctx: FeedJobContext, *, force: bool = False, now: dt.datetime | None = None,
                 push: bool = True, sign: bool = True) -> int | None:
    """Publish a version when the list changed (gate permitting) or the last one is due a re-issue; with `push`,
    hand it to the hidden primary at once; with `sign`, sign each new file after (`sign_feed_files`)."""
    row = publish.build(ctx.database, settings=ctx.settings, keys=ctx.keys, policy=ctx.policy, force=force, now=now,
                        memo=ctx.memo)
    if row is None:
        return None
    if row.manifest_sha256 is not None:
        serving.mark_latest(ctx.settings.data_dir, row.serial, row.manifest_sha256)
    # To the hidden primary (NOTIFY/IXFR to the ISPs) at once: waiting for the sync job's next tick added up to a
    # second to every approval's way to the resolvers. Its failure is the sync job's to retry, not this version's.
    if push:
        try:
            sync_primary(ctx)
        except Exception:
            log.exception("feed: serial %s published; pushing it to the dns primary failed (the sync job retries)",
                          row.serial)
    if row.content_serial == row.serial:
        # Published already: nothing waits for these. Each file's own signature (for minisign -V by hand), then
        # the files stored as pieces written whole again when due.
        if sign:
            sign_feed_files(ctx)
        publish.consolidate(ctx.database, ctx.settings.data_dir)
    return row.serial


def publish_feed_tick(ctx: FeedJobContext) -> int | None:
    """The scheduler's publish job: the files' signatures are a job of their own (`sign_feed_files`), so that the
    next version never waits for them (at 1,000,000 names they take 1.4 s, longer than a tick)."""
    return publish_feed(ctx, sign=False)


def sign_feed_files(ctx: FeedJobContext) -> int:
    """Each published file that has no signature of its own yet, signed (isp_feed/file_signatures.py); how many."""
    return file_signatures.sign_pending(ctx.database, ctx.settings.data_dir, ctx.keys)


def reconcile_feed(ctx: FeedJobContext) -> list[str]:
    """Hourly: the published list against a whole rebuild from the tables (see publish.reconcile), and the files
    of older lists pruned (publish.prune_files)."""
    findings = publish.reconcile(ctx.database, ctx.settings.data_dir)
    sign_feed_files(ctx)  # any the signing job has not reached (a crash between publication and signing)
    publish.prune_files(ctx.database, ctx.settings.data_dir, ctx.settings.feed_keep_files)
    return findings


def sync_primary(ctx: FeedJobContext) -> primary.SyncResult | None:
    """Every published version the hidden primary lacks, pushed in order, and its transfer log into the fetch log
    (isp_feed/primary.py); nothing when no primary is configured. A primary that is down is logged, not waited
    for: publication goes on and the versions reach it when it is back."""
    with ctx.primary_lock:
        return primary.sync(ctx.database, ctx.settings, ctx.fetch_log)


def flush_fetch_log(ctx: FeedJobContext) -> int:
    """Write the feed requests logged in memory since the last flush."""
    return ctx.fetch_log.flush(ctx.database)


def verify_when_due(ctx: JobContext) -> int | None:
    """The names a new feed version added, soon after it (after a grace period); every name at least daily."""
    database, settings = ctx.database, ctx.settings
    if not settings.verify_control_resolver:
        return None
    with database.transaction() as session:
        latest = versions.latest_version(session)
        # Rounds of the server's own verifier (a remote probe's round does not mean the server checked a version).
        checked = session.execute(select(func.max(VerificationRound.feed_serial)).where(
            VerificationRound.trigger.in_(("new version", "daily", "manual")))).scalar_one()
        grace_over = latest is not None and utcnow() - latest.generated_at >= dt.timedelta(
            seconds=settings.verify_grace_seconds)
        new_version = latest is not None and latest.added + latest.removed > 0 and (checked or 0) < latest.serial
        due = verification.round_due(session, every=dt.timedelta(days=1))
        names: list[str] | None = None  # None: every blocked name
        if new_version and grace_over and not due and checked is not None and latest is not None:
            try:
                added = {e.name for e in versions.diff(session, from_serial=checked, to_serial=latest.serial).added}
            except NotFound:  # a serial from before deltas: check every name
                added = None
            if added is not None:
                names = sorted(added & set(session.execute(queries.blocked_names()).scalars()))
    if due:
        return verification.verify(database, settings, trigger="daily")
    if new_version and grace_over:
        return verification.verify(database, settings, trigger="new version", names=names)
    return None


def checkpoint_audit(ctx: FeedJobContext, *, now: dt.datetime | None = None) -> Path | None:
    """At least hourly, a signed checkpoint of the audit chain, even when no feed version carried one (a stalled
    publisher); and, hourly, the newest checkpoint as a file under `<data dir>/checkpoints/` for off-site copies."""
    moment = now or utcnow()
    with ctx.database.transaction() as session:
        newest = checkpoints.latest(session)
        if newest is not None and moment - newest.made_at < checkpoints.CHECKPOINT_EVERY:
            made = newest.model()
        else:
            made = checkpoints.make(session, ctx.keys, trigger="hourly", now=moment)
    folder = ctx.settings.data_dir / "checkpoints"
    written = checkpoints.newest_file_time(folder)
    if (folder / checkpoints.file_name(made)).exists() or (
            written is not None and moment - written < checkpoints.CHECKPOINT_EVERY):
        return None
    return checkpoints.write_file(folder, made)
