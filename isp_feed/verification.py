"""Verification rounds against every ISP's resolvers, and their evidence (figures are read in `compliance`).

The product only ever sends DNS queries about listed names to configured resolvers; it never connects to a
listed site.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from blocklist import audit, queries
from blocklist.db import Database
from blocklist.errors import InvalidInput, MailError
from blocklist.isps import parse_resolver
from blocklist.models import Isp, Submission, utcnow
from blocklist.settings import Settings
from isp_feed import alerts, evidence
from isp_feed.compliance import round_regressions
from isp_feed.models import VerificationLive, VerificationResult, VerificationRound
from isp_feed.verify import live
from isp_feed.verify.classify import StopPage
from isp_feed.verify.querier import Querier
from isp_feed.verify.round import NameResult, Target, run_round
from isp_feed.versions import latest_version, recent_content_serials

log = logging.getLogger("isp_feed.verification")
ROUND_CHUNK = 10_000  # names asked, judged and stored together (bounds a big round's memory)
# Canaries asked of each resolver: those of the newest content serials (a resolver further behind serves none).
LIVE_SERIALS = 5


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
            queries.blocked_names().order_by(Submission.domain)).scalars())
        latest = latest_version(session)
        serial = latest.serial if latest else None
        canaries = recent_content_serials(session, LIVE_SERIALS) if latest else []
        started = utcnow()
        row = VerificationRound(started_at=started, feed_serial=serial, names=len(listed), resolvers=len(targets),
                                trigger=trigger)
        session.add(row)
        session.flush()
        round_id = row.id
    counts: dict[str, int] = {}

    answers = evidence.AnswerStore()
    lives: list[live.Live] = []
    asked_at = utcnow()

    def store(results: list[NameResult]) -> None:
        # One executemany per few thousand rows, committed per chunk of names: memory stays bounded. The evidence
        # is packed into each result, pointing at answers stored once (isp_feed/evidence.py).
        with database.transaction() as session:
            now = utcnow()
            for start in range(0, len(results), 5000):
                part = results[start:start + 5000]
                blobs = evidence.packed(session, answers, part, now)
                session.execute(insert(VerificationResult), [dict(
                    round_id=round_id, isp_id=r.target.isp_id, resolver=f"{r.target.ip}:{r.target.port}",
                    domain=r.name, verdict=r.verdict.value, reason=r.verdict.reason, evidence="", evidence_z=None,
                    feed_serial=serial, at=now, observations=blob) for r, blob in zip(part, blobs, strict=True)])
        for r in results:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1

    async def ask_all() -> None:
        nonlocal asked_at
        control = Target(0, control_address.address, control_address.port)
        stop = StopPage(settings.stop_page_host, settings.stop_page_ipv4, settings.stop_page_ipv6 or None)
        endpoints = sorted({(t.ip, t.port) for t in targets} | {(control.ip, control.port)})
        # One querier for the whole round (its rate limits and backoff carry over from chunk to chunk); each
        # chunk is stored while nothing is in flight.
        async with Querier(endpoints, timeout=settings.verify_timeout,
                           rate_qps=settings.verify_rate_qps or None) as querier:
            asked_at = utcnow()  # before asking: an acknowledgement after this moment is not contradicted by it
            lives.extend(await live.live_serials(querier, targets, canaries, stop,
                                                 backoff=min(0.5, settings.verify_timeout)))
            for start in range(0, len(listed), ROUND_CHUNK):
                store(await run_round(targets, listed[start:start + ROUND_CHUNK], control, stop, querier=querier,
                                      backoff=min(0.5, settings.verify_timeout)))

    if targets and (listed or canaries):
        asyncio.run(ask_all())
    with database.transaction() as session:
        now = utcnow()
        refresh_latest(session, round_id)
        served = record_live(session, round_id, lives, asked_at, canaries)
        round_row = session.get(VerificationRound, round_id)
        assert round_row is not None
        round_row.finished_at = now
        audit.record(session, actor="system", action="verification.round", object_type="verification_round",
                     object_id=round_id, details={"trigger": trigger, "feed_serial": serial, "names": len(listed),
                                                  "resolvers": len(targets), "verdicts": counts,
                                                  "live": served})
        regressions = round_regressions(session, round_id)
    if regressions:
        try:
            alerts.send_regression_alert(settings, regressions, round_id)
        except MailError as exc:
            log.error("could not e-mail the regression alert of round %s: %s", round_id, exc)
    return round_id


def record_live(session: Session, round_id: int, lives: list[live.Live], at: dt.datetime,
                asked: list[int]) -> dict[str, int | str]:
    """Keep what each resolver served in this round, with since when: the moment of the first round of the unbroken
    run that found it serving that serial (or serving none of those asked). An inconclusive round breaks no run.
    Returns, per "ISP id/resolver", the serial served or the state (for the round's audit event)."""
    served: dict[str, int | str] = {}
    for found in lives:
        resolver = f"{found.target.ip}:{found.target.port}"
        since = None
        if found.state in ("serving", "none"):
            before = session.execute(select(VerificationLive).where(
                VerificationLive.isp_id == found.target.isp_id, VerificationLive.resolver == resolver,
                VerificationLive.state.in_(("serving", "none"))).order_by(VerificationLive.id.desc()).limit(1)
            ).scalar_one_or_none()
            same = before is not None and (before.state, before.serial) == (found.state, found.serial)
            since = before.since if same and before is not None else at
        session.add(VerificationLive(round_id=round_id, isp_id=found.target.isp_id, resolver=resolver,
                                     state=found.state, serial=found.serial, since=since,
                                     asked=",".join(str(s) for s in asked), detail=found.detail, at=at))
        served[f"{found.target.isp_id}/{resolver}"] = found.serial if found.serial is not None else found.state
    session.flush()
    return served


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


def round_due(session: Session, *, every: dt.timedelta) -> bool:
    """Whether the last round is older than `every` (or there was none)."""
    last = session.execute(select(func.max(VerificationRound.started_at))).scalar_one()
    return last is None or utcnow() - last >= every
