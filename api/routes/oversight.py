"""Oversight: the audit chain, protected-list overrides, and name checks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import allowed, current_user, runtime, session
from api.params import MAX_ID
from api.routes.responses import write
from api.runtime import Runtime
from api.schemas import (
    ChainStatusOut,
    ComplianceOut,
    EventOut,
    IspComplianceOut,
    NamesIn,
    NameVerdictOut,
    OverrideIn,
    OverrideOut,
    ResolverLiveOut,
)
from blocklist import audit, permissions, workflow
from blocklist.models import AuditEvent, User
from isp_feed import compliance

router = APIRouter(tags=["oversight"])
auditors = allowed(permissions.CHECK_CHAIN)


@router.get("/audit/verify", response_model=ChainStatusOut, summary="Recompute the whole audit chain")
def verify(db: Session = Depends(session), _: User = Depends(auditors)) -> ChainStatusOut:
    """Intact, or the first broken event and why."""
    return ChainStatusOut.of(audit.verify(db))


@router.get("/audit/events", response_model=list[EventOut], summary="Audit events in order")
def events(since: int = Query(default=0, ge=0, le=MAX_ID), limit: int = Query(default=500, ge=1, le=5000),
           db: Session = Depends(session),
           _: User = Depends(allowed(permissions.READ_AUDIT_LOG))) -> list[EventOut]:
    """Events after sequence number `since`."""
    rows = db.execute(select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id).limit(limit))
    return [EventOut.of(e) for e in rows.scalars()]


@router.get("/compliance", response_model=ComplianceOut,
            summary="Per ISP: share of blocked names blocked, and regressions; per resolver: the serial served")
def compliance_figures(db: Session = Depends(session), _: User = Depends(
        allowed(permissions.READ_COMPLIANCE))) -> ComplianceOut:
    """From each name's newest verdict at each ISP; a regression is a name once seen blocked, now not."""
    rows = compliance.compliance(db)
    alerts = [f"{row.isp_name}: {name} was blocked and is no longer" for row in rows for name in row.regressions]
    live = compliance.live_versions(db)
    alerts += [f"{r.isp_name}: resolver {r.resolver} {r.mismatch}" for r in live if r.mismatch]
    return ComplianceOut(isps=[IspComplianceOut.model_validate(row) for row in rows],
                         resolvers=[ResolverLiveOut.model_validate(r) for r in live], alerts=alerts)


@router.post("/overrides", status_code=201, response_model=OverrideOut,
             summary="Allow one protected name, with a written reason", responses=write(201))
def override(body: OverrideIn, db: Session = Depends(session),
             actor: User = Depends(allowed(permissions.OVERRIDE_PROTECTED))) -> OverrideOut:
    """The officer can then submit that exact name; it is flagged and the feed gate holds it once more."""
    return OverrideOut.model_validate(workflow.create_override(db, actor=actor, domain=body.domain,
                                                               reason=body.reason))


@router.post("/names/check", response_model=list[NameVerdictOut], summary="Normalise names and show each verdict",
             responses=write(200))
def check(body: NamesIn, db: Session = Depends(session), rt: Runtime = Depends(runtime),
          _: User = Depends(current_user)) -> list[NameVerdictOut]:
    """What `blocklist name check` prints, as JSON."""
    policy = rt.name_policy(db)
    return [NameVerdictOut.model_validate(policy.verdict(typed, scope=body.scope)) for typed in body.names]
