"""The officers' triage queue (/triage): open reports grouped by host; dismiss with a reason, or open a submission."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import runtime, session
from api.runtime import Runtime
from api.web.common import attempt, back, check_csrf, needs, page, refused, say
from blocklist import permissions, reports
from blocklist.i18n import N_
from blocklist.models import User

router = APIRouter(include_in_schema=False)
officer = needs(permissions.TRIAGE)
PER_PAGE = 25


@router.get("/triage", response_class=HTMLResponse)
def queue(request: Request, sort: str = Query("count", pattern="^(count|age)$"),
          page_number: int = Query(1, alias="page", ge=1, le=100_000), db: Session = Depends(session),
          rt: Runtime = Depends(runtime), user: User = Depends(officer)) -> HTMLResponse:
    """One page of groups, most reported or oldest first."""
    groups, total = reports.triage_queue(db, actor=user, policy=rt.name_policy(db), sort=sort, page=page_number,
                                         per_page=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return page(request, "triage.html", user, groups=groups, total=total, sort=sort, page_number=page_number,
                pages=pages)


@router.post("/triage/dismiss", dependencies=[Depends(check_csrf)])
def dismiss(request: Request, host: str = Form(""), reason: str = Form(""), db: Session = Depends(session),
            user: User = Depends(officer)) -> Response:
    """Dismiss a host's open reports with a written reason; a refusal is shown on the queue."""
    with attempt(db) as outcome:
        dismissed = reports.dismiss(db, actor=user, host=host, reason=reason)
        say(request, user, N_("%(host)s: %(count)s report(s) dismissed", host=dismissed[0].host, count=len(dismissed)))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/triage")
