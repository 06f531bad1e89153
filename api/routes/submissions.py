"""Submissions: officers record verified domains; magistrates approve or reject (never their own)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.deps import allowed, runtime, session
from api.params import MAX_ID, DbId
from api.routes.responses import errors, write
from api.runtime import Runtime
from api.schemas import (
    LINE_PATTERN,
    BatchApprovedOut,
    BatchApproveIn,
    BulkOut,
    ReasonIn,
    SubmissionOut,
    WrittenReasonIn,
)
from blocklist import permissions, queries, workflow
from blocklist.models import Submission, User
from blocklist.schemas import BulkSubmissionCreate, SubmissionCreate

router = APIRouter(tags=["submissions"])
officer = allowed(permissions.SUBMIT)
magistrate = allowed(permissions.DECIDE)
reader = allowed(permissions.READ_CASES)


def _usernames(db: Session, subs: Iterable[Submission], actor: User | None = None) -> dict[int, str]:
    """Who submitted and decided these; the caller's own name is known without asking the database."""
    wanted = {i for s in subs for i in (s.submitted_by, s.decided_by) if i is not None}
    known = {actor.id: actor.username} if actor is not None and actor.id in wanted else {}
    return {**known, **queries.usernames(db, wanted - known.keys())}


@router.post("/submissions", status_code=201, response_model=SubmissionOut, summary="Record one verified domain",
             responses=write(201))
def create(body: SubmissionCreate, db: Session = Depends(session), rt: Runtime = Depends(runtime),
           actor: User = Depends(officer)) -> SubmissionOut:
    """201 with the new submission; 422 bad input (the field is named); 409 already pending or blocked."""
    sub = workflow.submit(db, actor=actor, data=body, policy=rt.name_policy(db))
    return SubmissionOut.of(sub, _usernames(db, [sub], actor))


@router.post("/submissions/bulk", status_code=201, response_model=BulkOut, summary="Record many names under one case",
             responses=write(201))
def bulk(body: BulkSubmissionCreate, db: Session = Depends(session), rt: Runtime = Depends(runtime),
         actor: User = Depends(officer)) -> BulkOut:
    """Per-name results (each name recorded or refused on its own); the case details are checked once (422)."""
    return BulkOut.of(workflow.submit_many(db, actor=actor, case=body, domains=body.domains,
                                           policy=rt.name_policy(db)))


@router.get("/submissions", response_model=list[SubmissionOut], summary="Submissions, newest first")
def list_all(status: str | None = Query(default=None, pattern="^(submitted|approved|rejected|withdrawn|lifted)$"),
             case_number: str | None = Query(default=None, max_length=100, json_schema_extra={
                 "pattern": LINE_PATTERN}), mine: bool = False,
             limit: int = Query(default=500, ge=1, le=5000), offset: int = Query(default=0, ge=0, le=MAX_ID),
             db: Session = Depends(session), actor: User = Depends(reader)) -> list[SubmissionOut]:
    """Filter by status, case number, or your own."""
    subs = workflow.list_submissions(db, status=status, case_number=case_number,
                                     submitted_by=actor.id if mine else None, limit=limit, offset=offset)
    names = _usernames(db, subs)
    return [SubmissionOut.of(s, names) for s in subs]


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, summary="One submission",
            responses=errors(404))
def get(submission_id: DbId, db: Session = Depends(session), _: User = Depends(reader)) -> SubmissionOut:
    """Every legal detail and its state."""
    sub = workflow.get_submission(db, submission_id)
    return SubmissionOut.of(sub, _usernames(db, [sub]))


@router.post("/submissions/approve", response_model=BatchApprovedOut,
             summary="Approve several submissions as one order", responses=write(200, 404))
def approve_batch(body: BatchApproveIn, db: Session = Depends(session), rt: Runtime = Depends(runtime),
                  actor: User = Depends(magistrate)) -> BatchApprovedOut:
    """All or none; 403 if any is your own, 409 if any was already decided."""
    order = workflow.approve(db, actor=actor, submission_ids=body.ids, reason=body.reason,
                             review_days=rt.settings.review_period_days)
    return BatchApprovedOut(order_id=order.id, approved=body.ids)


@router.post("/submissions/{submission_id}/approve", response_model=SubmissionOut,
             summary="Approve (four eyes: never your own)", responses=write(200, 404))
def approve(submission_id: DbId, body: ReasonIn | None = None, db: Session = Depends(session),
            rt: Runtime = Depends(runtime), actor: User = Depends(magistrate)) -> SubmissionOut:
    """The name is blocked in the next feed version; requisitions go to every ISP."""
    sub = workflow.get_submission(db, submission_id)  # held here: the approval updates this very object
    order = workflow.approve(db, actor=actor, submission_ids=[submission_id], reason=body.reason if body else None,
                             review_days=rt.settings.review_period_days)
    result = SubmissionOut.of(sub, _usernames(db, [sub], actor))
    return result.model_copy(update={"order_id": order.id})


@router.post("/submissions/{submission_id}/reject", response_model=SubmissionOut,
             summary="Reject, with a written reason", responses=write(200, 404))
def reject(submission_id: DbId, body: WrittenReasonIn, db: Session = Depends(session),
           actor: User = Depends(magistrate)) -> SubmissionOut:
    """403 own submission; 409 already decided; 422 no reason."""
    sub = workflow.reject(db, actor=actor, submission_id=submission_id, reason=body.reason)
    return SubmissionOut.of(sub, _usernames(db, [sub], actor))


@router.post("/submissions/{submission_id}/withdraw", response_model=SubmissionOut,
             summary="The submitting officer withdraws it", responses=write(200, 404))
def withdraw(submission_id: DbId, body: ReasonIn | None = None, db: Session = Depends(session),
             actor: User = Depends(officer)) -> SubmissionOut:
    """Only while pending, only your own."""
    sub = workflow.withdraw(db, actor=actor, submission_id=submission_id, reason=body.reason if body else None)
    return SubmissionOut.of(sub, _usernames(db, [sub], actor))
