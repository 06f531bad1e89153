"""The magistrates' appeal queue (/appeals): appeals from the public, oldest first, each beside the name's record;
uphold (the block is lifted) or dismiss, with a written reason. Auditors read it; only magistrates decide."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import session
from api.params import DbId
from api.web.common import attempt, back, check_csrf, language_of, needs, page, say
from blocklist import appeals, labels, permissions
from blocklist.i18n import N_
from blocklist.models import User

router = APIRouter(include_in_schema=False)
reader = needs(permissions.READ_APPEALS)
magistrate = needs(permissions.DECIDE_APPEALS)
PER_PAGE = 25


def _queue(request: Request, db: Session, user: User, *, state: str, page_number: int, status_code: int = 200,
           error: str | None = None) -> HTMLResponse:
    items, total = appeals.queue(db, actor=user, state=state, page=page_number, per_page=PER_PAGE)
    return page(request, "appeals.html", user, status_code=status_code, items=items, total=total, state=state,
                page_number=page_number, pages=max(1, -(-total // PER_PAGE)), error=error,
                names=dict(db.execute(select(User.id, User.display_name)).all()),
                can_decide=permissions.allows(user, permissions.DECIDE_APPEALS))


@router.get("/appeals", response_class=HTMLResponse)
def queue(request: Request, state: str = Query("open", pattern="^(open|decided|all)$"),
          page_number: int = Query(1, alias="page", ge=1, le=100_000), db: Session = Depends(session),
          user: User = Depends(reader)) -> HTMLResponse:
    """One page of appeals awaiting a decision (or decided, or all), oldest first."""
    return _queue(request, db, user, state=state, page_number=page_number)


@router.post("/appeals/{appeal_id}/decide", dependencies=[Depends(check_csrf)], response_class=HTMLResponse)
def decide(request: Request, appeal_id: DbId, outcome: str = Form(""), reason: str = Form(""),
           db: Session = Depends(session), user: User = Depends(magistrate)) -> Response:
    """Uphold or dismiss, with a reason; a refusal is the queue again, with its 4xx status and the reason."""
    with attempt(db) as result:
        decision = appeals.decide(db, actor=user, appeal_id=appeal_id, outcome=outcome, reason=reason)
        say(request, user, N_("appeal %(receipt)s: %(outcome)s", receipt=appeals.get_appeal(db, appeal_id).receipt,
                              outcome=labels.APPEAL_ANSWER.get(decision.answer, decision.answer)))
    if result.error is not None:
        return _queue(request, db, user, state="open", page_number=1, status_code=result.error.status,
                      error=result.error.translated(language_of(request, user)))
    return back("/appeals")
