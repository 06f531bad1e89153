"""Compliance read from the kept evidence: per ISP the share blocked and regressions, per round, per name, and per
resolver the serial it really serves beside the one its client acknowledged (`live_versions`).

Everything here only reads; `verification` writes the rounds and keeps `verification_latest` up to date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from blocklist import queries
from blocklist.models import Isp, Order, Submission
from isp_feed.models import FeedApplied, FeedVersionRow, VerificationLatest, VerificationLive, VerificationResult


def round_regressions(session: Session, round_id: int) -> dict[str, list[str]]:
    """Per ISP name, the blocked names this round found not blocked where an earlier round saw them blocked."""
    latest = VerificationLatest
    found: dict[str, set[str]] = {}
    for isp_name, domain in session.execute(
            select(Isp.name, latest.domain).join(Isp, Isp.id == latest.isp_id).where(
                latest.round_id == round_id, latest.verdict == "not_blocked", latest.last_blocked_round.is_not(None),
                latest.domain.in_(queries.blocked_names()))):
        found.setdefault(isp_name, set()).add(domain)
    return {isp: sorted(domains) for isp, domains in sorted(found.items())}


@dataclass(frozen=True)
class IspCompliance:
    """Where one ISP stands on the newest verdicts of its names."""

    isp_id: int
    isp_name: str
    checked: int
    blocked: int
    share_blocked: float | None
    not_blocked: list[str]
    regressions: list[str]


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def compliance(session: Session) -> list[IspCompliance]:
    """Per ISP: the share of active names `blocked` in the newest verdicts, and regressions (was blocked, now not).

    Each name counts with its newest verdict, whichever round gave it; with several resolvers, a name counts as
    blocked at an ISP only when every resolver blocks it, and as not blocked when any resolver does not block it.
    """
    latest = VerificationLatest
    # IN (subquery) rather than a join: SQLite's planner would walk the status index once per row.
    active = latest.domain.in_(queries.blocked_names())
    counts = {isp_id: (checked, checked - unblocked) for isp_id, checked, unblocked in session.execute(
        select(latest.isp_id, func.count(latest.domain.distinct()),
               func.count(case((latest.verdict != "blocked", latest.domain), else_=None).distinct()))
        .where(active).group_by(latest.isp_id))}
    not_blocked: dict[int, set[str]] = {}
    regressed: dict[int, set[str]] = {}
    for isp_id, domain, last_blocked in session.execute(
            select(latest.isp_id, latest.domain, latest.last_blocked_round)
            .where(active, latest.verdict == "not_blocked")):
        not_blocked.setdefault(isp_id, set()).add(domain)
        if last_blocked is not None:
            regressed.setdefault(isp_id, set()).add(domain)
    figures = []
    for isp in queries.active_isps(session, order_by_name=True):
        checked, blocked = counts.get(isp.id, (0, 0))
        figures.append(IspCompliance(isp.id, isp.name, checked, blocked, blocked / checked if checked else None,
                                     sorted(not_blocked.get(isp.id, ())), sorted(regressed.get(isp.id, ()))))
    return figures


def latest_results(session: Session, domains: list[str]) -> dict[tuple[str, int], VerificationResult]:
    """For these names, the newest result at each ISP (the weakest verdict when it has several resolvers)."""
    order = {"not_blocked": 0, "inconclusive": 1, "blocked_other_way": 2, "domain_dead": 3, "blocked": 4}
    out: dict[tuple[str, int], VerificationResult] = {}
    for chunk in _chunks(domains):
        for row in session.execute(select(VerificationResult).join(
                VerificationLatest, VerificationLatest.result_id == VerificationResult.id).where(
                VerificationLatest.domain.in_(chunk))).scalars():
            key = (row.domain, row.isp_id)
            if key not in out or order.get(row.verdict, 0) < order.get(out[key].verdict, 0):
                out[key] = row
    return out


@dataclass(frozen=True)
class RoundFigure:
    """One ISP in one round: names checked and names blocked there."""

    round_id: int
    isp_id: int
    checked: int
    blocked: int

    @property
    def share_blocked(self) -> float | None:
        """Blocked / checked (None when nothing was checked)."""
        return self.blocked / self.checked if self.checked else None


def round_figures(session: Session, round_ids: list[int]) -> list[RoundFigure]:
    """Per round and ISP, names checked and names blocked at every resolver of that ISP (one grouped query)."""
    if not round_ids:
        return []
    domain = VerificationResult.domain
    rows = session.execute(select(
        VerificationResult.round_id, VerificationResult.isp_id, func.count(domain.distinct()),
        # Names some resolver of the ISP did not block (COUNT DISTINCT skips the NULLs of the others).
        func.count(case((VerificationResult.verdict != "blocked", domain), else_=None).distinct()),
    ).where(VerificationResult.round_id.in_(round_ids)).group_by(
        VerificationResult.round_id, VerificationResult.isp_id).order_by(
        VerificationResult.round_id, VerificationResult.isp_id))
    return [RoundFigure(round_id, isp_id, checked, checked - unblocked)
            for round_id, isp_id, checked, unblocked in rows]


def checks_for(session: Session, domain: str, *, limit: int = 500) -> list[tuple[VerificationResult, str]]:
    """The most recent verdicts about one name, with the ISP's name: newest first."""
    return [(row, name) for row, name in session.execute(
        select(VerificationResult, Isp.name).join(Isp, Isp.id == VerificationResult.isp_id)
        .where(VerificationResult.domain == domain)
        .order_by(VerificationResult.id.desc()).limit(limit))]


def times_to_block(session: Session, domains: list[str]) -> dict[str, dict[str, float | None]]:
    """For each currently blocked name: seconds from its approval to the first `blocked` verdict, per active ISP."""
    isps = dict(session.execute(select(Isp.id, Isp.name).where(Isp.active.is_(True))).all())
    out: dict[str, dict[str, float | None]] = {}
    for chunk in _chunks(domains):
        approved = dict(session.execute(select(Submission.domain, Order.created_at).join(
            Order, Order.id == Submission.order_id).where(Submission.status == "approved",
                                                          Submission.domain.in_(chunk))).all())
        for domain in approved:
            out[domain] = dict.fromkeys(isps.values())
        firsts = session.execute(select(VerificationResult.domain, VerificationResult.isp_id,
                                        func.min(VerificationResult.at)).join(
            Submission, (Submission.domain == VerificationResult.domain) & (Submission.status == "approved")).join(
            Order, Order.id == Submission.order_id).where(
            VerificationResult.domain.in_(chunk), VerificationResult.verdict == "blocked",
            VerificationResult.at >= Order.created_at).group_by(
            VerificationResult.domain, VerificationResult.isp_id))
        for domain, isp_id, first in firsts:
            if isp_id in isps and domain in approved:
                out[domain][isps[isp_id]] = (first - approved[domain]).total_seconds()
    return out


@dataclass(frozen=True)
class ResolverLive:
    """One ISP resolver: the serial it served at the last round (measured by the canaries) and since when, beside
    the serial its ISP's client last acknowledged; `mismatch` says how they disagree (None: they agree, or the last
    measurement is older than the acknowledgement, or could not tell)."""

    isp_id: int
    isp_name: str
    resolver: str
    state: str | None  # blocklist.vocab.LiveState; None: never measured
    serial: int | None
    since: dt.datetime | None
    checked_at: dt.datetime | None
    detail: str
    acknowledged: int | None  # the content serial of the acknowledged serial
    acknowledged_serial: int | None  # the serial as acknowledged (a re-issue carries an older content)
    acknowledged_at: dt.datetime | None
    mismatch: str | None


def _mismatch(row: VerificationLive | None, acknowledged: int | None,
              acknowledged_at: dt.datetime | None) -> str | None:
    if row is None or acknowledged is None or acknowledged_at is None or row.state not in ("serving", "none"):
        return None
    if row.at < acknowledged_at or row.serial == acknowledged:
        return None  # measured before the acknowledgement: it may have been true since
    served = f"serves serial {row.serial}" if row.serial is not None else f"serves none of serials {row.asked}"
    return f"acknowledges serial {acknowledged} but {served}"


def live_versions(session: Session) -> list[ResolverLive]:
    """Per active ISP and resolver, by ISP name: the newest live measurement and the last acknowledgement."""
    newest = select(func.max(VerificationLive.id)).group_by(VerificationLive.isp_id, VerificationLive.resolver)
    rows = {(r.isp_id, r.resolver): r for r in session.execute(
        select(VerificationLive).where(VerificationLive.id.in_(newest))).scalars()}
    out = []
    for isp in queries.active_isps(session, order_by_name=True):
        ack = session.execute(select(FeedApplied.serial, FeedApplied.at, FeedVersionRow.content_serial)
                              .join(FeedVersionRow, FeedVersionRow.serial == FeedApplied.serial, isouter=True)
                              .where(FeedApplied.isp_id == isp.id).order_by(FeedApplied.id.desc()).limit(1)).first()
        acknowledged = (ack.content_serial or ack.serial) if ack is not None else None
        for resolver in sorted(isp.resolvers, key=lambda r: (r.address, r.port)):
            key = f"{resolver.address}:{resolver.port}"
            row = rows.get((isp.id, key))
            out.append(ResolverLive(
                isp.id, isp.name, key, row.state if row else None, row.serial if row else None,
                row.since if row else None, row.at if row else None, row.detail if row else "", acknowledged,
                ack.serial if ack else None, ack.at if ack else None,
                _mismatch(row, acknowledged, ack.at if ack else None)))
    return out
