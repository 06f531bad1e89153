"""Verification rounds against every ISP's resolvers, their evidence, and compliance figures.

The product only ever sends DNS queries about listed names to configured resolvers; it never connects to a
listed site.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
from dataclasses import dataclass

from sqlalchemy import case, func, insert, select, text
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.db import Database
from blocklist.errors import InvalidInput
from blocklist.isps import parse_resolver
from blocklist.models import Isp, Order, Submission, utcnow
from blocklist.settings import Settings
from isp_feed import alerts
from isp_feed.models import VerificationLatest, VerificationResult, VerificationRound, pack_evidence
from isp_feed.publish import latest_version
from isp_feed.verify.classify import StopPage
from isp_feed.verify.querier import Querier
from isp_feed.verify.round import NameResult, Target, evidence_json, run_round

log = logging.getLogger("isp_feed.verification")
ROUND_CHUNK = 10_000  # names asked, judged and stored together (bounds a big round's memory)


def verify(database: Database, settings: Settings, *, isp_name: str | None = None, trigger: str = "manual",
           names: list[str] | None = None) -> int:
    """Run one round now (every active ISP, or one) over every blocked name; returns the round's id."""
    if not settings.verify_control_resolver:
        raise InvalidInput("no control resolver configured (BLOCKLIST_VERIFY_CONTROL_RESOLVER=IP[:PORT])")
    control_address = parse_resolver(settings.verify_control_resolver)
    with database.transaction() as session:
        query = select(Isp).where(Isp.active.is_(True)).order_by(Isp.id)
        if isp_name:
            query = query.where(Isp.name == isp_name)
        isps = list(session.execute(query).scalars())
        if isp_name and not isps:
            raise InvalidInput(f"no active ISP named {isp_name!r}")
        targets = [Target(i.id, r.address, r.port, i.policy) for i in isps for r in i.resolvers]
        listed = names if names is not None else list(session.execute(
            select(Submission.domain).where(Submission.status == "approved").order_by(Submission.domain)).scalars())
        latest = latest_version(session)
        serial = latest.serial if latest else None
        started = utcnow()
        row = VerificationRound(started_at=started, feed_serial=serial, names=len(listed), resolvers=len(targets),
                                trigger=trigger)
        session.add(row)
        session.flush()
        round_id = row.id
    counts: dict[str, int] = {}

    def store(results: list[NameResult]) -> None:
        # One executemany per few thousand rows, committed per chunk of names: memory stays bounded.
        with database.transaction() as session:
            now = utcnow()
            for start in range(0, len(results), 5000):
                session.execute(insert(VerificationResult), [dict(
                    round_id=round_id, isp_id=r.target.isp_id, resolver=f"{r.target.ip}:{r.target.port}",
                    domain=r.name, verdict=r.verdict.value, reason=r.verdict.reason, evidence="",
                    evidence_z=pack_evidence(evidence_json(r)),
                    feed_serial=serial, at=now) for r in results[start:start + 5000]])
        for r in results:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1

    async def ask_all() -> None:
        control = Target(0, control_address.address, control_address.port)
        stop = StopPage(settings.stop_page_host, settings.stop_page_ipv4, settings.stop_page_ipv6 or None)
        endpoints = sorted({(t.ip, t.port) for t in targets} | {(control.ip, control.port)})
        # One querier for the whole round (its rate limits and backoff carry over from chunk to chunk); each
        # chunk is stored while nothing is in flight.
        async with Querier(endpoints, timeout=settings.verify_timeout,
                           rate_qps=settings.verify_rate_qps or None) as querier:
            for start in range(0, len(listed), ROUND_CHUNK):
                store(await run_round(targets, listed[start:start + ROUND_CHUNK], control, stop, querier=querier,
                                      backoff=min(0.5, settings.verify_timeout)))

    if targets and listed:
        asyncio.run(ask_all())
    with database.transaction() as session:
        now = utcnow()
        refresh_latest(session, round_id)
        round_row = session.get(VerificationRound, round_id)
        assert round_row is not None
        round_row.finished_at = now
        audit.record(session, actor="system", action="verification.round", object_type="verification_round",
                     object_id=round_id, details={"trigger": trigger, "feed_serial": serial, "names": len(listed),
                                                  "resolvers": len(targets), "verdicts": counts})
        regressions = round_regressions(session, round_id)
    if regressions:
        try:
            alerts.send_regression_alert(settings, regressions, round_id)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("could not e-mail the regression alert of round %s: %s", round_id, exc)
    return round_id


def round_regressions(session: Session, round_id: int) -> dict[str, list[str]]:
    """Per ISP name, the blocked names this round found not blocked where an earlier round saw them blocked."""
    latest = VerificationLatest
    found: dict[str, set[str]] = {}
    for isp_name, domain in session.execute(
            select(Isp.name, latest.domain).join(Isp, Isp.id == latest.isp_id).where(
                latest.round_id == round_id, latest.verdict == "not_blocked", latest.last_blocked_round.is_not(None),
                latest.domain.in_(select(Submission.domain).where(Submission.status == "approved")))):
        found.setdefault(isp_name, set()).add(domain)
    return {isp: sorted(domains) for isp, domains in sorted(found.items())}


@dataclass(frozen=True)
class IspCompliance:
    """Where one ISP stands on the latest round that checked it."""

    isp_id: int
    isp_name: str
    checked: int
    blocked: int
    share_blocked: float | None
    not_blocked: list[str]
    regressions: list[str]


_REFRESH_LATEST = text("""
    INSERT INTO verification_latest (isp_id, resolver, domain, result_id, round_id, verdict, at, last_blocked_round)
    SELECT isp_id, resolver, domain, id, round_id, verdict, at, CASE WHEN verdict = 'blocked' THEN round_id END
    FROM verification_results WHERE round_id = :round_id
    ON CONFLICT (isp_id, resolver, domain) DO UPDATE SET
      result_id = excluded.result_id, round_id = excluded.round_id, verdict = excluded.verdict, at = excluded.at,
      last_blocked_round = COALESCE(excluded.last_blocked_round, verification_latest.last_blocked_round)
""")


def refresh_latest(session: Session, round_id: int) -> None:
    """Make a finished round's results the newest verdicts of their names (SQLite and PostgreSQL both upsert)."""
    session.flush()
    session.execute(_REFRESH_LATEST, {"round_id": round_id})


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def compliance(session: Session) -> list[IspCompliance]:
    """Per ISP: the share of active names `blocked` in the newest verdicts, and regressions (was blocked, now not).

    Each name counts with its newest verdict, whichever round gave it; with several resolvers, a name counts as
    blocked at an ISP only when every resolver blocks it, and as not blocked when any resolver does not block it.
    """
    latest = VerificationLatest
    # IN (subquery) rather than a join: SQLite's planner would walk the status index once per row.
    active = latest.domain.in_(select(Submission.domain).where(Submission.status == "approved"))
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
    for isp in session.execute(select(Isp).where(Isp.active.is_(True)).order_by(Isp.name)).scalars():
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


def time_to_block(session: Session, domain: str) -> dict[str, float | None]:
    """Seconds from approval to the first `blocked` verdict, per ISP (None: never seen blocked yet)."""
    return times_to_block(session, [domain]).get(domain, {})


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


def round_due(session: Session, *, every: dt.timedelta) -> bool:
    """Whether the last round is older than `every` (or there was none)."""
    last = session.execute(select(func.max(VerificationRound.started_at))).scalar_one()
    return last is None or utcnow() - last >= every
