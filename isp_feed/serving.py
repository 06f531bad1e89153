"""What the feed endpoints need beside the versions themselves (isp_feed/versions.py): fetch logging and the ISPs'
acknowledgements of applied serials, and where each ISP stands."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blocklist import audit, queries
from blocklist.errors import InvalidInput
from blocklist.models import Isp, utcnow
from isp_feed.models import FeedApplied, FeedArtifact, FeedFetch
from isp_feed.versions import get_version, latest_version


def record_fetch(session: Session, *, isp: Isp, serial: int | None, ext: str, status: int) -> None:
    """Log one feed request (ISP, serial, format, time, status)."""
    session.add(FeedFetch(isp_id=isp.id, serial=serial, ext=ext[:40], status=status, at=utcnow()))
    session.flush()


def record_applied(session: Session, *, isp: Isp, serial: int, sha256: str, fmt: str = "") -> FeedApplied:
    """An ISP client reports the serial it applied; the hash must be that of a format of that serial."""
    get_version(session, serial)  # NotFound for a serial never published
    known = set(session.execute(select(FeedArtifact.sha256).where(FeedArtifact.serial == serial)).scalars())
    if sha256 not in known:
        raise InvalidInput(f"sha256 does not match any format of feed version {serial}", field="sha256")
    row = FeedApplied(isp_id=isp.id, serial=serial, sha256=sha256, format=fmt[:20], at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor=f"isp:{isp.name}", action="feed.applied", object_type="isp", object_id=isp.id,
                 details={"serial": serial, "sha256": sha256, "format": fmt})
    return row


@dataclass(frozen=True)
class IspFeedState:
    """Where one ISP stands: the last serial it applied and fetched, and how far behind it is."""

    isp_id: int
    isp_name: str
    applied_serial: int | None
    applied_at: object
    last_fetch_at: object
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
