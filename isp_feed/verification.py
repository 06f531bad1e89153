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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.db import Database
from blocklist.errors import InvalidInput
from blocklist.isps import parse_resolver
from blocklist.models import Isp, Order, Submission, utcnow
from blocklist.settings import Settings
from isp_feed import alerts
from isp_feed.models import VerificationResult, VerificationRound
from isp_feed.publish import latest_version
from isp_feed.verify.classify import StopPage
from isp_feed.verify.round import Target, evidence_json, run_round

log = logging.getLogger("isp_feed.verification")


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
    results = asyncio.run(run_round(
        targets, listed, Target(0, control_address.address, control_address.port), StopPage(
            settings.stop_page_host, settings.stop_page_ipv4, settings.stop_page_ipv6 or None),
        rate_qps=settings.verify_rate_qps or None, timeout=settings.verify_timeout,
        backoff=min(0.5, settings.verify_timeout))) if targets and listed else []
    with database.transaction() as session:
        now = utcnow()
        session.add_all(VerificationResult(
            round_id=round_id, isp_id=r.target.isp_id, resolver=f"{r.target.ip}:{r.target.port}", domain=r.name,
            verdict=r.verdict.value, reason=r.verdict.reason, evidence=evidence_json(r), feed_serial=serial, at=now,
        ) for r in results)
        round_row = session.get(VerificationRound, round_id)
        assert round_row is not None
        round_row.finished_at = now
        counts: dict[str, int] = {}
        for r in results:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
        audit.record(session, actor="system", action="verification.round", object_type="verification_round",
                     object_id=round_id, details={"trigger": trigger, "feed_serial": serial, "names": len(listed),
                                                  "resolvers": len(targets), "verdicts": counts})
        regressions = {row.isp_name: row.regressions for row in compliance(session) if row.regressions}
    if regressions:
        try:
            alerts.send_regression_alert(settings, regressions, round_id)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("could not e-mail the regression alert of round %s: %s", round_id, exc)
    return round_id


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


def compliance(session: Session) -> list[IspCompliance]:
    """Per ISP: the share of active names `blocked` in its latest round, and regressions (was blocked, now not)."""
    active = set(session.execute(select(Submission.domain).where(Submission.status == "approved")).scalars())
    figures = []
    for isp in session.execute(select(Isp).where(Isp.active.is_(True)).order_by(Isp.name)).scalars():
        last_round = session.execute(select(func.max(VerificationResult.round_id))
                                     .where(VerificationResult.isp_id == isp.id)).scalar_one()
        rows = list(session.execute(select(VerificationResult).where(
            VerificationResult.isp_id == isp.id, VerificationResult.round_id == last_round)).scalars()) \
            if last_round else []
        latest = {r.domain: r.verdict for r in rows if r.domain in active}
        was_blocked = set(session.execute(select(VerificationResult.domain).where(
            VerificationResult.isp_id == isp.id, VerificationResult.verdict == "blocked",
            VerificationResult.round_id != last_round)).scalars()) if last_round else set()
        blocked = sum(1 for v in latest.values() if v == "blocked")
        figures.append(IspCompliance(
            isp.id, isp.name, len(latest), blocked, blocked / len(latest) if latest else None,
            sorted(d for d, v in latest.items() if v == "not_blocked"),
            sorted(d for d, v in latest.items() if v == "not_blocked" and d in was_blocked)))
    return figures


def time_to_block(session: Session, domain: str) -> dict[str, float | None]:
    """Seconds from approval to the first `blocked` verdict, per ISP (None: never seen blocked yet)."""
    sub = session.execute(select(Submission).where(Submission.domain == domain, Submission.status == "approved")
                          ).scalar_one_or_none()
    if sub is None or sub.order_id is None:
        return {}
    approved_at = session.get(Order, sub.order_id).created_at  # type: ignore[union-attr]
    out: dict[str, float | None] = {}
    for isp in session.execute(select(Isp).where(Isp.active.is_(True))).scalars():
        first = session.execute(select(func.min(VerificationResult.at)).where(
            VerificationResult.isp_id == isp.id, VerificationResult.domain == domain,
            VerificationResult.verdict == "blocked", VerificationResult.at >= approved_at)).scalar_one()
        out[isp.name] = (first - approved_at).total_seconds() if first else None
    return out


def round_due(session: Session, *, every: dt.timedelta) -> bool:
    """Whether the last round is older than `every` (or there was none)."""
    last = session.execute(select(func.max(VerificationRound.started_at))).scalar_one()
    return last is None or utcnow() - last >= every
