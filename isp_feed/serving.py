"""What the feed endpoints need beside the versions themselves (isp_feed/versions.py): fetch logging and the ISPs'
acknowledgements of applied serials, and where each ISP stands."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blocklist import audit, queries
from blocklist.db import Database
from blocklist.errors import InvalidInput
from blocklist.models import Isp, utcnow
from isp_feed.models import FeedApplied, FeedFetch
from isp_feed.versions import artifacts_of, get_version, latest_version
from isp_feed_client import splice

log = logging.getLogger("isp_feed.serving")


@dataclass
class FetchLog:
    """Feed requests, kept in memory and written in batches (every few seconds, by a job): a feed GET never waits
    for, nor holds, the database's write lock. A failed write keeps the batch for the next attempt."""

    max_pending: int = 100_000  # beyond this (a database down for long), the oldest are dropped and counted
    _pending: list[FeedFetch] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    dropped: int = 0

    def add(self, *, isp_id: int, serial: int | None, ext: str, status: int, at: dt.datetime | None = None) -> None:
        """Log one feed request (ISP, serial, format, time, status) for the next batch."""
        row = FeedFetch(isp_id=isp_id, serial=serial, ext=ext[:40], status=status, at=at or utcnow())
        with self._lock:
            self._pending.append(row)
            if len(self._pending) > self.max_pending:
                del self._pending[0]
                self.dropped += 1

    def flush(self, database: Database) -> int:
        """Write what is pending in one transaction; how many rows were written."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            with database.transaction() as session:
                session.add_all(batch)
        except Exception:
            with self._lock:
                self._pending[:0] = [FeedFetch(isp_id=r.isp_id, serial=r.serial, ext=r.ext, status=r.status, at=r.at)
                                     for r in batch]
            log.exception("feed: could not write %d fetch log rows; kept for the next attempt", len(batch))
            raise
        return len(batch)


def record_applied(session: Session, *, isp: Isp, serial: int, sha256: str, fmt: str = "") -> FeedApplied:
    """An ISP client reports the serial it applied; the hash must be that of a format file of that serial."""
    version = get_version(session, serial)  # NotFound for a serial never published
    known = {a.sha256 for a in artifacts_of(session, version)}
    if sha256 not in known:
        raise InvalidInput(f"sha256 does not match any format of feed version {serial}", field="sha256")
    row = FeedApplied(isp_id=isp.id, serial=serial, sha256=sha256, format=fmt[:20], at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor=f"isp:{isp.name}", action="feed.applied", object_type="isp", object_id=isp.id,
                 details={"serial": serial, "sha256": sha256, "format": fmt})
    return row


def record_apply_failure(session: Session, *, isp: Isp, serial: int, sha256: str, fmt: str,
                         error: str) -> dt.datetime:
    """An ISP client reports that its resolver did not take a serial (it restored the previous list): an audit event
    the compliance page and the auditor see; nothing is marked applied."""
    get_version(session, serial)  # NotFound for a serial never published
    at = utcnow()
    audit.record(session, actor=f"isp:{isp.name}", action="feed.apply_failed", object_type="isp", object_id=isp.id,
                 details={"serial": serial, "sha256": sha256, "format": fmt, "error": error})
    return at


@dataclass(frozen=True)
class IspFeedState:
    """Where one ISP stands: the last serial it applied and fetched, and how far behind it is."""

    isp_id: int
    isp_name: str
    applied_serial: int | None
    applied_at: dt.datetime | None
    last_fetch_at: dt.datetime | None
    behind: int | None


def feed_states(session: Session) -> list[IspFeedState]:
    """Every active ISP's applied serial against the latest (who is behind)."""
    latest = latest_version(session)
    states = []
    for isp in queries.active_isps(session, order_by_name=True):
        applied = session.execute(
            select(FeedApplied).where(FeedApplied.isp_id == isp.id).order_by(FeedApplied.id.desc()).limit(1)
        ).scalar_one_or_none()
        fetched = session.execute(select(func.max(FeedFetch.at)).where(FeedFetch.isp_id == isp.id)).scalar_one()
        behind = (latest.serial - applied.serial) if latest and applied else None
        states.append(IspFeedState(isp.id, isp.name, applied.serial if applied else None,
                                   applied.at if applied else None, fetched, behind))
    return states


# --- the latest manifest, for answers from memory ---------------------------------------------------------------

LATEST_MARKER = "latest-manifest"  # under <data dir>/feed: "<serial> <manifest sha256>", written after each commit


def latest_marker(data_dir: Path) -> Path:
    return data_dir / "feed" / LATEST_MARKER


def mark_latest(data_dir: Path, serial: int, manifest_sha256: str) -> None:
    """Say on this host, at once, which manifest is the latest (after its commit): a process that answers
    conditional requests from memory (api/feed_not_modified.py) answers 304 only to the ETag this file and the
    database both give, so a version published here is offered by the very next request."""
    splice.write_chunks(latest_marker(data_dir), [f"{serial} {manifest_sha256}\n".encode()], durable=False)


def read_marker(path: Path) -> tuple[int, str] | None:
    """What `mark_latest` wrote, or None (no such file, or not its form)."""
    try:
        serial, digest = path.read_text().split()
        return int(serial), digest
    except (OSError, ValueError):
        return None
