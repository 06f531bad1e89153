"""Reports: partner hotlines forward them (partner credential); officers triage them, grouped by host."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from api.deps import allowed, current_partner, runtime, session
from api.routes.responses import write
from api.runtime import Runtime
from api.schemas import (
    DismissedOut,
    ReceiptOut,
    ReceiptsOut,
    ReportGroupOut,
    ReportOut,
    ReportsIn,
    TriageOut,
    WrittenReasonIn,
)
from blocklist import permissions, reports
from blocklist.models import Partner, User

router = APIRouter(tags=["reports"])
triage = allowed(permissions.TRIAGE)
HOST = Path(max_length=253, pattern=r"^[a-z0-9.-]+$", description="The normalised host (A-label) of a group")


@router.post("/reports", status_code=201, response_model=ReceiptsOut, summary="Forward reports (partner hotlines)",
             responses=write(201))
def create(body: ReportsIn, db: Session = Depends(session), partner: Partner = Depends(current_partner)) -> ReceiptsOut:
    """1 to 1,000 reports, each with the partner's own reference: all stored (201, a receipt each) or none (422)."""
    stored = reports.receive_from_partner(db, partner=partner, reports=[
        reports.ReportIn(r.address, r.found_at, r.description, r.contact, r.reference) for r in body.reports])
    merged = reports.merged_ids(db, [r.id for r in stored])
    return ReceiptsOut(accepted=len(stored), receipts=[
        ReceiptOut(receipt=r.receipt, reference=r.partner_reference, host=r.host, merged=r.id in merged)
        for r in stored])


@router.get("/reports", response_model=TriageOut, summary="The triage queue: open reports grouped by host")
def queue(sort: Literal["count", "age"] = "count", page: int = Query(default=1, ge=1, le=100_000),
          per_page: int = Query(default=50, ge=1, le=200), db: Session = Depends(session),
          rt: Runtime = Depends(runtime), actor: User = Depends(triage)) -> TriageOut:
    """Most reported first (`count`) or oldest first (`age`); each group says whether its name is pending, blocked
    or lifted, and whether it can be blocked at all."""
    groups, total = reports.triage_queue(db, actor=actor, policy=rt.name_policy(db), sort=sort, page=page,
                                         per_page=per_page)
    return TriageOut(total=total, page=page, per_page=per_page, groups=[ReportGroupOut(
        host=g.host, unicode=g.unicode, count=g.count, first_seen=g.first_seen, last_seen=g.last_seen,
        status=g.status, submission_id=g.submission_id, blockable=g.blockable, refusal=g.refusal,
        reports=[ReportOut(id=r.id, receipt=r.receipt, source=r.source,
                           partner=r.partner.name if r.partner else None, partner_reference=r.partner_reference,
                           address=r.address, found_at=r.found_at, description=r.description, contact=r.contact,
                           received_at=r.received_at) for r in g.reports]) for g in groups])


@router.post("/reports/{host}/dismiss", response_model=DismissedOut, summary="Dismiss a host's open reports",
             responses=write(200, 404))
def dismiss(body: WrittenReasonIn, host: str = HOST, db: Session = Depends(session),
            actor: User = Depends(triage)) -> DismissedOut:
    """With a written reason (422 without); 404 when the host has no open report."""
    dismissed = reports.dismiss(db, actor=actor, host=host, reason=body.reason)
    return DismissedOut(host=dismissed[0].host, dismissed=[r.id for r in dismissed])
