"""Appeals from the public: the magistrates' queue (auditors read it) and the decision on each."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.deps import allowed, session
from api.params import DbId
from api.routes.responses import write
from api.schemas import AppealDecideIn, AppealOut, AppealsOut
from blocklist import appeals, permissions
from blocklist.models import User

router = APIRouter(tags=["appeals"])
reader = allowed(permissions.READ_APPEALS)
magistrate = allowed(permissions.DECIDE_APPEALS)


@router.get("/appeals", response_model=AppealsOut, summary="The appeal queue, oldest first, beside each name's record")
def queue(state: Literal["open", "decided", "all"] = "open", page: int = Query(default=1, ge=1, le=100_000),
          per_page: int = Query(default=50, ge=1, le=200), db: Session = Depends(session),
          actor: User = Depends(reader)) -> AppealsOut:
    """`open`: awaiting a decision (the default); each appeal with the name's record (legal basis, case number,
    review date, status) and, once decided, the decision and where its answer's e-mail stands."""
    items, total = appeals.queue(db, actor=actor, state=state, page=page, per_page=per_page)
    return AppealsOut(total=total, page=page, per_page=per_page,
                      appeals=[AppealOut.of(item.appeal, item.record) for item in items])


@router.post("/appeals/{appeal_id}/decide", response_model=AppealOut, summary="Uphold or dismiss an appeal",
             responses=write(200, 404))
def decide(body: AppealDecideIn, appeal_id: DbId, db: Session = Depends(session),
           actor: User = Depends(magistrate)) -> AppealOut:
    """With a written reason (422 without). `upheld` lifts the block (a lifting order: lifting requisitions and the
    next feed version); `dismissed` keeps it. 403 for the magistrate who approved the block (four eyes; the reason
    in the magistrate's language), 409 when already decided. The appellant's answer is e-mailed when they left a
    contact."""
    appeals.decide(db, actor=actor, appeal_id=appeal_id, outcome=body.outcome, reason=body.reason)
    appeal = appeals.get_appeal(db, appeal_id)
    return AppealOut.of(appeal, appeals.record_of(db, appeal))
