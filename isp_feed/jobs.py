"""Periodic jobs of the feed (registered in api/scheduler.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from blocklist import queries
from blocklist.db import Database
from blocklist.jobs import JobContext, PolicyCache
from blocklist.models import utcnow
from blocklist.settings import Settings
from isp_feed import checkpoints, publish, verification, versions
from isp_feed.keys import KeyStore
from isp_feed.models import VerificationRound


@dataclass(frozen=True)
class FeedJobContext(JobContext):
    """A job's context plus the feed's signing keys (the process's one KeyStore)."""

    keys: KeyStore

    @classmethod
    def standalone(cls, database: Database, settings: Settings) -> FeedJobContext:
        """A context for code that has no Runtime (tests, scripts): its own policy cache and key store."""
        return cls(database, settings, PolicyCache(settings), KeyStore(settings.data_dir / "keys"))


def publish_feed(ctx: FeedJobContext, *, force: bool = False) -> int | None:
    """Publish a version when the approved set changed (gate permitting) or the last one is due a re-issue."""
    with ctx.database.transaction() as session:
        row = publish.build(session, settings=ctx.settings, keys=ctx.keys, policy=ctx.policy(session), force=force)
        return row.serial if row is not None else None


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
            added = {a["name"] for a in versions.diff(session, from_serial=checked, to_serial=latest.serial).added}
            names = sorted(added & set(session.execute(
                queries.blocked_names()).scalars()))
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
