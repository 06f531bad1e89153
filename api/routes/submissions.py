"""Submissions: officers record verified domains; magistrates approve or reject (never their own)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import allowed, runtime, session
from api.params import MAX_ID, DbId
from api.routes.responses import errors, write
from api.runtime import Runtime
from api.schemas import LINE_PATTERN, BatchApproveIn, ReasonIn, WrittenReasonIn, submission_out
from blocklist import permissions, workflow
from blocklist.models import User
from blocklist.schemas import BulkSubmissionCreate, SubmissionCreate

router = APIRouter(tags=["submissions"])
officer = allowed(permissions.SUBMIT)
magistrate = allowed(permissions.DECIDE)
reader = allowed(permissions.READ_CASES)


def _usernames(db: Session) -> dict[int, str]:
    return {i: n for i, n in db.execute(select(User.id, User.username))}


@router.post("/submissions", status_code=201, summary="Record one verified domain", responses=write(201))
def create(body: SubmissionCreate, db: Session = Depends(session), rt: Runtime = Depends(runtime),
           actor: User = Depends(officer)) -> dict[str, Any]:
    """201 with the new submission; 422 bad input (the field is named); 409 already pending or blocked."""
    sub = workflow.submit(db, actor=actor, data=body, policy=rt.name_policy(db))
    return submission_out(sub, _usernames(db))


@router.post("/submissions/bulk", status_code=201, summary="Record many names under one case",
             responses=write(201))
def bulk(body: BulkSubmissionCreate, db: Session = Depends(session), rt: Runtime = Depends(runtime),
         actor: User = Depends(officer)) -> dict[str, Any]:
    """Per-name results (each name recorded or refused on its own); the case details are checked once (422)."""
    results = workflow.submit_many(db, actor=actor, case=body, domains=body.domains, policy=rt.name_policy(db))
    accepted = sum(1 for r in results if r.accepted)
    return {"accepted": accepted, "refused": len(results) - accepted, "results": [
        {"domain": r.typed, "accepted": True, "id": r.submission.id, "a_label": r.submission.domain,
         "flags": r.submission.flag_list} if r.submission is not None
        else {"domain": r.typed, "accepted": False, "reason": r.reason} for r in results]}


@router.get("/submissions", summary="Submissions, newest first")
def list_all(status: str | None = Query(default=None, pattern="^(submitted|approved|rejected|withdrawn|lifted)$"),
             case_number: str | None = Query(default=None, max_length=100, json_schema_extra={
                 "pattern": LINE_PATTERN}), mine: bool = False,
             limit: int = Query(default=500, ge=1, le=5000), offset: int = Query(default=0, ge=0, le=MAX_ID),
             db: Session = Depends(session), actor: User = Depends(reader)) -> list[dict[str, Any]]:
    """Filter by status, case number, or your own."""
    subs = workflow.list_submissions(db, status=status, case_number=case_number,
                                     submitted_by=actor.id if mine else None, limit=limit, offset=offset)
    names = _usernames(db)
    return [submission_out(s, names) for s in subs]


@router.get("/submissions/{submission_id}", summary="One submission", responses=errors(404))
def get(submission_id: DbId, db: Session = Depends(session), _: User = Depends(reader)) -> dict[str, Any]:
    """Every legal detail and its state."""
    return submission_out(workflow.get_submission(db, submission_id), _usernames(db))


@router.post("/submissions/approve", summary="Approve several submissions as one order", responses=write(200, 404))
def approve_batch(body: BatchApproveIn, db: Session = Depends(session), rt: Runtime = Depends(runtime),
                  actor: User = Depends(magistrate)) -> dict[str, Any]:
    """All or none; 403 if any is your own, 409 if any was already decided."""
    order = workflow.approve(db, actor=actor, submission_ids=body.ids, reason=body.reason,
                             review_days=rt.settings.review_period_days)
    return {"order_id": order.id, "approved": body.ids}


@router.post("/submissions/{submission_id}/approve", summary="Approve (four eyes: never your own)",
             responses=write(200, 404))
def approve(submission_id: DbId, body: ReasonIn | None = None, db: Session = Depends(session),
            rt: Runtime = Depends(runtime), actor: User = Depends(magistrate)) -> dict[str, Any]:
    """The name is blocked in the next feed version; requisitions go to every ISP."""
    order = workflow.approve(db, actor=actor, submission_ids=[submission_id], reason=body.reason if body else None,
                             review_days=rt.settings.review_period_days)
    result = submission_out(workflow.get_submission(db, submission_id), _usernames(db))
    result["order_id"] = order.id
    return result


@router.post("/submissions/{submission_id}/reject", summary="Reject, with a written reason",
             responses=write(200, 404))
def reject(submission_id: DbId, body: WrittenReasonIn, db: Session = Depends(session),
           actor: User = Depends(magistrate)) -> dict[str, Any]:
    """403 own submission; 409 already decided; 422 no reason."""
    return submission_out(workflow.reject(db, actor=actor, submission_id=submission_id, reason=body.reason),
                          _usernames(db))


@router.post("/submissions/{submission_id}/withdraw", summary="The submitting officer withdraws it",
             responses=write(200, 404))
def withdraw(submission_id: DbId, body: ReasonIn | None = None, db: Session = Depends(session),
             actor: User = Depends(officer)) -> dict[str, Any]:
    """Only while pending, only your own."""
    sub = workflow.withdraw(db, actor=actor, submission_id=submission_id, reason=body.reason if body else None)
    return submission_out(sub, _usernames(db))
