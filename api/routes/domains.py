"""Blocked names: the list with review dates (and those due for review), lift, history; re-attestations and
renewals at review are in api/routes/reviews.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from api import history as timelines
from api.deps import allowed, session
from api.routes.responses import write
from api.schemas import (
    AttemptOut,
    CheckOut,
    DueReviewOut,
    DueReviewsOut,
    EventOut,
    HistoryOut,
    LiftedOut,
    SubmissionOut,
    WrittenReasonIn,
)
from blocklist import permissions, reviews, workflow
from blocklist.models import User, utcnow
from isp_feed import evidence

router = APIRouter(tags=["domains"])
magistrate = allowed(permissions.LIFT_OR_RENEW)
reader = allowed(permissions.READ_CASES)
NAME = Path(min_length=1, max_length=2048)


@router.get("/domains", response_model=list[SubmissionOut] | DueReviewsOut,
            summary="Blocked names with their review dates; with `due`, one page of those due for review")
def blocked(due: int | None = Query(None, ge=0, le=reviews.MAX_RENEWAL_DAYS,
                                    description="Only blocks whose review date is at most this many days away "
                                                "(overdue ones included) or that are proposed for lifting: a page "
                                                "of them, oldest review date first, with the total"),
            page: int = Query(1, ge=1, le=100_000), per_page: int = Query(50, ge=1, le=reviews.MAX_PER_PAGE),
            db: Session = Depends(session), _: User = Depends(reader)) -> list[SubmissionOut] | DueReviewsOut:
    """Without `due`: every blocked name, by name."""
    if due is None:
        return [SubmissionOut.of(s) for s in workflow.approved_names(db)]
    today = utcnow().date()
    items, total = reviews.due_reviews(db, today=today, within_days=due, page=page, per_page=per_page)
    return DueReviewsOut(today=today, within_days=due, total=total, page=page, per_page=per_page,
                         reviews=[DueReviewOut.of(r) for r in items])


@router.post("/domains/{name}/lift", response_model=LiftedOut, summary="Lift a block, with a written reason",
             responses=write(200, 404))
def lift(body: WrittenReasonIn, name: str = NAME, db: Session = Depends(session),
         actor: User = Depends(magistrate)) -> LiftedOut:
    """A lifting order: the name leaves the next feed version and every ISP gets a lifting requisition."""
    order = workflow.lift(db, actor=actor, domain=name, reason=body.reason)
    return LiftedOut(domain=name, status="lifted", order_id=order.id)


@router.get("/domains/{name}/history", response_model=HistoryOut,
            summary="Every event about a name, in order, and its DNS checks")
def history(name: str = NAME, db: Session = Depends(session), _: User = Depends(reader)) -> HistoryOut:
    """Submission, decisions, requisitions, feed versions, the feed holds that held its orders, catch-up
    requisitions, reports and appeals; for a subdomain, also the events of the blocks covering it. Then every
    delivery attempt of its requisitions, and the newest DNS checks with their evidence."""
    found = timelines.for_domain(db, name)
    references = {r.id: r.reference for r in found.requisitions}
    return HistoryOut(domain=name, names=found.domains, events=[EventOut.of(e) for e in found.events],
                      attempts=[AttemptOut(requisition_id=a.requisition_id, reference=references[a.requisition_id],
                                           attempt=a.attempt, started_at=a.started_at, outcome=a.outcome,
                                           smtp_response=a.smtp_response) for a in found.attempts],
                      checks=[CheckOut.of(result, isp, evidence.load(db, result)) for result, isp in found.checks])
