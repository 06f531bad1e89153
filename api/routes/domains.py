"""Blocked names: lift, renew at review, history, and the list with review dates."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from sqlalchemy.orm import Session

from api.deps import allowed, runtime, session
from api.routes.responses import write
from api.runtime import Runtime
from api.schemas import CheckOut, EventOut, HistoryOut, LiftedOut, SubmissionOut, WrittenReasonIn
from blocklist import permissions, workflow
from blocklist.models import User
from blocklist.names import normalize
from isp_feed import compliance

router = APIRouter(tags=["domains"])
magistrate = allowed(permissions.LIFT_OR_RENEW)
reader = allowed(permissions.READ_CASES)
NAME = Path(min_length=1, max_length=2048)


@router.get("/domains", response_model=list[SubmissionOut], summary="Blocked names with their review dates")
def blocked(due: bool = False, db: Session = Depends(session), _: User = Depends(reader)) -> list[SubmissionOut]:
    """`?due=true`: only those whose review date has come."""
    subs = workflow.due_for_review(db) if due else workflow.approved_names(db)
    return [SubmissionOut.of(s) for s in subs]


@router.post("/domains/{name}/lift", response_model=LiftedOut, summary="Lift a block, with a written reason",
             responses=write(200, 404))
def lift(body: WrittenReasonIn, name: str = NAME, db: Session = Depends(session),
         actor: User = Depends(magistrate)) -> LiftedOut:
    """A lifting order: the name leaves the next feed version and every ISP gets a lifting requisition."""
    order = workflow.lift(db, actor=actor, domain=name, reason=body.reason)
    return LiftedOut(domain=name, status="lifted", order_id=order.id)


@router.post("/domains/{name}/renew", response_model=SubmissionOut, summary="Keep a block at review, with a reason",
             responses=write(200, 404))
def renew(body: WrittenReasonIn, name: str = NAME, db: Session = Depends(session), rt: Runtime = Depends(runtime),
          actor: User = Depends(magistrate)) -> SubmissionOut:
    """Moves the review date on."""
    sub = workflow.renew(db, actor=actor, domain=name, reason=body.reason, review_days=rt.settings.review_period_days)
    return SubmissionOut.of(sub)


@router.get("/domains/{name}/history", response_model=HistoryOut,
            summary="Every event about a name, in order, and its DNS checks")
def history(name: str = NAME, db: Session = Depends(session), _: User = Depends(reader)) -> HistoryOut:
    """Submission, decisions, requisitions, feed versions; then the newest DNS checks with their evidence."""
    events = workflow.history(db, name)
    checks = compliance.checks_for(db, normalize(name).a_label)
    return HistoryOut(domain=name, events=[EventOut.of(e) for e in events],
                      checks=[CheckOut.of(result, isp) for result, isp in checks])
