"""Oversight: the audit chain, protected-list overrides, and name checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import allowed, current_user, runtime, session
from api.params import MAX_ID
from api.routes.responses import write
from api.runtime import Runtime
from api.schemas import NamesIn, OverrideIn, event_out
from blocklist import audit, permissions, workflow
from blocklist.models import AuditEvent, User
from isp_feed import compliance

router = APIRouter(tags=["oversight"])
auditors = allowed(permissions.CHECK_CHAIN)


@router.get("/audit/verify", summary="Recompute the whole audit chain")
def verify(db: Session = Depends(session), _: User = Depends(auditors)) -> dict[str, Any]:
    """Intact, or the first broken event and why."""
    status = audit.verify(db)
    return {"intact": status.intact, "events": status.events, "head_hash": status.head_hash,
            "broken_at": status.broken_at, "problem": status.problem, "summary": status.describe()}


@router.get("/audit/events", summary="Audit events in order")
def events(since: int = Query(default=0, ge=0, le=MAX_ID), limit: int = Query(default=500, ge=1, le=5000),
           db: Session = Depends(session),
           _: User = Depends(allowed(permissions.READ_AUDIT_LOG))) -> list[dict[str, Any]]:
    """Events after sequence number `since`."""
    rows = db.execute(select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id).limit(limit))
    return [event_out(e) for e in rows.scalars()]


@router.get("/compliance", summary="Per ISP: share of blocked names blocked, and regressions")
def compliance_figures(db: Session = Depends(session), _: User = Depends(
        allowed(permissions.READ_COMPLIANCE))) -> dict[str, Any]:
    """From each name's newest verdict at each ISP; a regression is a name once seen blocked, now not."""
    rows = compliance.compliance(db)
    alerts = [f"{row.isp_name}: {name} was blocked and is no longer" for row in rows for name in row.regressions]
    return {"isps": [row.__dict__ for row in rows], "alerts": alerts}


@router.post("/overrides", status_code=201, summary="Allow one protected name, with a written reason",
             responses=write(201))
def override(body: OverrideIn, db: Session = Depends(session),
             actor: User = Depends(allowed(permissions.OVERRIDE_PROTECTED))) -> dict[str, Any]:
    """The officer can then submit that exact name; it is flagged and the feed gate holds it once more."""
    item = workflow.create_override(db, actor=actor, domain=body.domain, reason=body.reason)
    return {"id": item.id, "domain": item.domain, "reason": item.reason}


@router.post("/names/check", summary="Normalise names and show each verdict", responses=write(200))
def check(body: NamesIn, db: Session = Depends(session), rt: Runtime = Depends(runtime),
          _: User = Depends(current_user)) -> list[dict[str, Any]]:
    """What `blocklist name check` prints, as JSON."""
    policy = rt.name_policy(db)
    return [policy.verdict(typed, scope=body.scope).__dict__ for typed in body.names]
