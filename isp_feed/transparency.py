"""Transparency figures of the DNS verification: per ISP, the share blocked and the median time to block.

Read from the append-only verification results, so a past period's figures stay what they were. Per ISP
name only: never a listed name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from blocklist.models import Isp, Submission
from blocklist.transparency import Period, median_seconds, within
from isp_feed.compliance import round_figures
from isp_feed.models import VerificationResult, VerificationRound


@dataclass(frozen=True)
class IspShare:
    """One ISP at its latest verification round of the period: names checked and names blocked there."""

    isp: str
    checked: int
    blocked: int
    round_at: dt.datetime | None  # None: no round checked this ISP in the period

    @property
    def share_blocked(self) -> float | None:
        """Blocked / checked (None when nothing was checked)."""
        return self.blocked / self.checked if self.checked else None


def _isps(session: Session, ids: set[int]) -> list[tuple[int, str]]:
    """The ISPs active now, and those the period's results name (since disabled), by name."""
    return list(session.execute(select(Isp.id, Isp.name).where(or_(Isp.active.is_(True), Isp.id.in_(ids)))
                                .order_by(Isp.name)))


def compliance(session: Session, span: Period) -> list[IspShare]:
    """Per ISP, the share of names blocked at the latest round of the period that checked it (every resolver of
    the ISP must block a name for it to count as blocked, as in isp_feed/compliance.py)."""
    latest = dict(session.execute(select(VerificationResult.isp_id, func.max(VerificationResult.round_id)).where(
        within(VerificationResult.at, span)).group_by(VerificationResult.isp_id)).all())
    figures = {(f.round_id, f.isp_id): f for f in round_figures(session, sorted(set(latest.values())))}
    started = dict(session.execute(select(VerificationRound.id, VerificationRound.started_at).where(
        VerificationRound.id.in_(set(latest.values())))).all()) if latest else {}
    out = []
    for isp_id, name in _isps(session, set(latest)):
        found = figures.get((latest.get(isp_id, -1), isp_id))
        out.append(IspShare(name, found.checked, found.blocked, started.get(found.round_id)) if found
                   else IspShare(name, 0, 0, None))
    return out


@dataclass(frozen=True)
class IspDelay:
    """How fast one ISP blocked the names listed in the period."""

    isp: str
    measured: int  # names listed in the period that this ISP was seen blocking
    median_seconds: float | None  # from approval to the first `blocked` verdict


def time_to_block(session: Session, span: Period) -> list[IspDelay]:
    """Per ISP, the median time from a name's approval (in the period) to its first `blocked` verdict there."""
    firsts = session.execute(select(Submission.id, VerificationResult.isp_id, Submission.decided_at,
                                    func.min(VerificationResult.at)).join(
        VerificationResult, (VerificationResult.domain == Submission.domain)
        & (VerificationResult.verdict == "blocked") & (VerificationResult.at >= Submission.decided_at)
        & or_(Submission.lifted_at.is_(None), VerificationResult.at < Submission.lifted_at)).where(
        Submission.order_id.is_not(None), within(Submission.decided_at, span)).group_by(
        Submission.id, VerificationResult.isp_id, Submission.decided_at))
    delays: dict[int, list[dt.timedelta]] = {}
    for _, isp_id, approved, first in firsts:
        assert approved is not None
        delays.setdefault(isp_id, []).append(_utc(first) - approved)
    return [IspDelay(name, len(delays.get(isp_id, [])), median_seconds(delays.get(isp_id, [])))
            for isp_id, name in _isps(session, set(delays))]


def _utc(value: dt.datetime) -> dt.datetime:
    # An aggregate (MIN) loses the column's type: SQLite then gives a naive UTC datetime or even text.
    found = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
