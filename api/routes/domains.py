"""Blocked names: lift, renew at review, history, and the list with review dates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from sqlalchemy.orm import Session

from api.deps import allowed, runtime, session
from api.routes.responses import write
from api.runtime import Runtime
from api.schemas import WrittenReasonIn, check_out, event_out, submission_out
from blocklist import permissions, workflow
from blocklist.models import User
from blocklist.names import normalize
from isp_feed import compliance

router = APIRouter(tags=["domains"])
magistrate = allowed(permissions.LIFT_OR_RENEW)
reader = allowed(permissions.READ_CASES)
NAME = Path(min_length=1, max_length=2048)


@router.get("/domains", summary="Blocked names with their review dates")
def blocked(due: bool = False, db: Session = Depends(session), _: User = Depends(reader)) -> list[dict[str, Any]]:
    """`?due=true`: only those whose review date has come."""
    subs = workflow.due_for_review(db) if due else workflow.approved_names(db)
    return [submission_out(s) for s in subs]


@router.post("/domains/{name}/lift", summary="Lift a block, with a written reason", responses=write(200, 404))
def lift(body: WrittenReasonIn, name: str = NAME, db: Session = Depends(session),
         actor: User = Depends(magistrate)) -> dict[str, Any]:
    """A lifting order: the name leaves the next feed version and every ISP gets a lifting requisition."""
    order = workflow.lift(db, actor=actor, domain=name, reason=body.reason)
    return {"domain": name, "status": "lifted", "order_id": order.id}


@router.post("/domains/{name}/renew", summary="Keep a block at review, with a reason", responses=write(200, 404))
def renew(body: WrittenReasonIn, name: str = NAME, db: Session = Depends(session), rt: Runtime = Depends(runtime),
          actor: User = Depends(magistrate)) -> dict[str, Any]:
    """Moves the review date on."""
    sub = workflow.renew(db, actor=actor, domain=name, reason=body.reason, review_days=rt.settings.review_period_days)
    return submission_out(sub)


@router.get("/domains/{name}/history", summary="Every event about a name, in order, and its DNS checks")
def history(name: str = NAME, db: Session = Depends(session), _: User = Depends(reader)) -> dict[str, Any]:
    """Submission, decisions, requisitions, feed versions; then the newest DNS checks with their evidence."""
    events = workflow.history(db, name)
    checks = compliance.checks_for(db, normalize(name).a_label)
    return {"domain": name, "events": [event_out(e) for e in events],
            "checks": [check_out(result, isp) for result, isp in checks]}
