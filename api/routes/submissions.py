"""Submissions: officers record verified domains; magistrates approve or reject (never their own)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import allowed, runtime, session
from api.params import MAX_ID, DbId
from api.runtime import Runtime
from api.schemas import BatchApproveIn, ReasonIn, submission_out
from blocklist import permissions, workflow
from blocklist.errors import BlocklistError, InvalidInput
from blocklist.models import User
from blocklist.schemas import BulkSubmissionCreate, SubmissionCreate

router = APIRouter(tags=["submissions"])
officer = allowed(permissions.SUBMIT)
magistrate = allowed(permissions.DECIDE)
reader = allowed(permissions.READ_CASES)


def _usernames(db: Session) -> dict[int, str]:
    return {i: n for i, n in db.execute(select(User.id, User.username))}


@router.post("/submissions", status_code=201, summary="Record one verified domain")
def create(body: SubmissionCreate, db: Session = Depends(session), rt: Runtime = Depends(runtime),
           actor: User = Depends(officer)) -> dict[str, Any]:
    """201 with the new submission; 422 bad input (the field is named); 409 already pending or blocked."""
    sub = workflow.submit(db, actor=actor, data=body, policy=rt.name_policy(db))
    return submission_out(sub, _usernames(db))


@router.post("/submissions/bulk", status_code=201, summary="Record many names under one case")
def bulk(body: BulkSubmissionCreate, db: Session = Depends(session), rt: Runtime = Depends(runtime),
         actor: User = Depends(officer)) -> dict[str, Any]:
    """Per-name results; the accepted names are recorded together (all or none of them)."""
    policy = rt.name_policy(db)
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    accepted = 0
    for typed in body.domains:
        try:
            data = SubmissionCreate(domain=typed, **body.model_dump(exclude={"domains"}))
            a_label = policy.check(typed, scope=body.scope).name.a_label
            if a_label in seen:
                raise InvalidInput(f"{a_label} appears twice in this batch", field="domains")
            seen.add(a_label)
            sub = workflow.submit(db, actor=actor, data=data, policy=policy)
        except BlocklistError as exc:
            results.append({"domain": typed, "accepted": False, "reason": exc.message})
            continue
        except ValueError as exc:  # the per-name schema (e.g. an empty line)
            results.append({"domain": typed, "accepted": False, "reason": str(exc).splitlines()[-1]})
            continue
        accepted += 1
        results.append({"domain": typed, "accepted": True, "id": sub.id, "a_label": sub.domain,
                        "flags": sub.flag_list})
    return {"accepted": accepted, "refused": len(results) - accepted, "results": results}


@router.get("/submissions", summary="Submissions, newest first")
def list_all(status: str | None = Query(default=None, pattern="^(submitted|approved|rejected|withdrawn|lifted)$"),
             case_number: str | None = Query(default=None, max_length=100), mine: bool = False,
             limit: int = Query(default=500, ge=1, le=5000), offset: int = Query(default=0, ge=0, le=MAX_ID),
             db: Session = Depends(session), actor: User = Depends(reader)) -> list[dict[str, Any]]:
    """Filter by status, case number, or your own."""
    subs = workflow.list_submissions(db, status=status, case_number=case_number,
                                     submitted_by=actor.id if mine else None, limit=limit, offset=offset)
    names = _usernames(db)
    return [submission_out(s, names) for s in subs]


@router.get("/submissions/{submission_id}", summary="One submission")
def get(submission_id: DbId, db: Session = Depends(session), _: User = Depends(reader)) -> dict[str, Any]:
    """Every legal detail and its state."""
    return submission_out(workflow.get_submission(db, submission_id), _usernames(db))


@router.post("/submissions/approve", summary="Approve several submissions as one order")
def approve_batch(body: BatchApproveIn, db: Session = Depends(session), rt: Runtime = Depends(runtime),
                  actor: User = Depends(magistrate)) -> dict[str, Any]:
    """All or none; 403 if any is your own, 409 if any was already decided."""
    order = workflow.approve(db, actor=actor, submission_ids=body.ids, reason=body.reason,
                             review_days=rt.settings.review_period_days)
    return {"order_id": order.id, "approved": body.ids}


@router.post("/submissions/{submission_id}/approve", summary="Approve (four eyes: never your own)")
def approve(submission_id: DbId, body: ReasonIn | None = None, db: Session = Depends(session),
            rt: Runtime = Depends(runtime), actor: User = Depends(magistrate)) -> dict[str, Any]:
    """The name is blocked in the next feed version; requisitions go to every ISP."""
    order = workflow.approve(db, actor=actor, submission_ids=[submission_id], reason=body.reason if body else None,
                             review_days=rt.settings.review_period_days)
    result = submission_out(workflow.get_submission(db, submission_id), _usernames(db))
    result["order_id"] = order.id
    return result


@router.post("/submissions/{submission_id}/reject", summary="Reject, with a written reason")
def reject(submission_id: DbId, body: ReasonIn, db: Session = Depends(session),
           actor: User = Depends(magistrate)) -> dict[str, Any]:
    """403 own submission; 409 already decided; 422 no reason."""
    return submission_out(workflow.reject(db, actor=actor, submission_id=submission_id, reason=body.reason),
                          _usernames(db))


@router.post("/submissions/{submission_id}/withdraw", summary="The submitting officer withdraws it")
def withdraw(submission_id: DbId, body: ReasonIn | None = None, db: Session = Depends(session),
             actor: User = Depends(officer)) -> dict[str, Any]:
    """Only while pending, only your own."""
    sub = workflow.withdraw(db, actor=actor, submission_id=submission_id, reason=body.reason if body else None)
    return submission_out(sub, _usernames(db))
