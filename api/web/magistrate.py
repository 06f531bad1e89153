"""The magistrate's pages: the queue with every legal detail and flag, decisions, blocks, overrides, holds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import runtime, session
from api.params import DbId, form_ids
from api.runtime import Runtime
from api.web import removal, reviews
from api.web.common import attempt, back, check_csrf, needs, page, refused, say
from blocklist import permissions, workflow
from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.models import User, utcnow
from isp_feed import publish
from requisitions import service as requisitions

router = APIRouter(include_in_schema=False)
magistrate = needs(permissions.DECIDE)


@router.get("/magistrate", response_class=HTMLResponse)
def home(request: Request, db: Session = Depends(session), user: User = Depends(magistrate)) -> HTMLResponse:
    """Queue, blocked names, reviews due, held feed changes."""
    names = dict(db.execute(select(User.id, User.display_name)).all())
    blocked, today = workflow.approved_names(db), utcnow().date()
    return page(request, "magistrate.html", user, pending=workflow.list_submissions(db, status="submitted"),
                blocked=blocked, due={s.id for s in blocked if s.review_due and s.review_due <= today},
                holds=publish.pending_holds(db), names=names,
                overdue=len(requisitions.list_requisitions(db, status="overdue")), **reviews.section(request, db),
                **removal.section(db))


@router.post("/magistrate/decide", dependencies=[Depends(check_csrf)])
def decide(request: Request, ids: list[str] = Form(default=[]), decision: str = Form(""), reason: str = Form(""),
           db: Session = Depends(session), rt: Runtime = Depends(runtime),
           user: User = Depends(magistrate)) -> Response:
    """Approve the selected submissions as one order, or reject each with the reason."""
    # A plain (threaded) view: the database work must never block the event loop.
    with attempt(db) as outcome:
        chosen = form_ids(ids, field="ids")
        if not chosen:
            raise InvalidInput(N_("select at least one submission"))
        if decision == "approve":
            order = workflow.approve(db, actor=user, submission_ids=chosen, reason=reason,
                                     review_days=rt.settings.review_period_days)
            say(request, user, N_("approved %(count)s as order #%(order)s", count=len(chosen), order=order.id))
        elif decision == "reject":
            for submission_id in chosen:
                workflow.reject(db, actor=user, submission_id=submission_id, reason=reason)
            say(request, user, N_("rejected %(count)s", count=len(chosen)))
        else:
            raise InvalidInput("choose approve or reject")
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/magistrate")


@router.post("/magistrate/lift", dependencies=[Depends(check_csrf)])
def lift(request: Request, domain: str = Form(""), reason: str = Form(""), action: str = Form("lift"),
         db: Session = Depends(session), user: User = Depends(magistrate)) -> Response:
    """Lift a block, with a reason (a renewal has its own form: api/web/reviews.py)."""
    with attempt(db) as outcome:
        if action != "lift":  # never lift on a button that meant something else (an old page's "renew")
            raise InvalidInput(f"unknown action {action!r}; this form lifts, renewals have their own form",
                               field="action")
        workflow.lift(db, actor=user, domain=domain, reason=reason)
        say(request, user, N_("%(name)s: block lifted", name=domain))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/magistrate")


@router.post("/magistrate/override", dependencies=[Depends(check_csrf)])
def override(request: Request, domain: str = Form(""), reason: str = Form(""), db: Session = Depends(session),
             user: User = Depends(magistrate)) -> Response:
    """Allow one protected name, with a written reason."""
    with attempt(db) as outcome:
        item = workflow.create_override(db, actor=user, domain=domain, reason=reason)
        say(request, user, N_("override #%(id)s recorded for %(name)s", id=item.id, name=item.domain))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/magistrate")


@router.post("/magistrate/holds/{hold_id}", dependencies=[Depends(check_csrf)])
def confirm_hold(request: Request, hold_id: DbId, db: Session = Depends(session),
                 user: User = Depends(magistrate)) -> Response:
    """Confirm a held feed change a second time."""
    with attempt(db) as outcome:
        publish.confirm_hold(db, actor=user, hold_id=hold_id)
        say(request, user, N_("feed change #%(id)s confirmed; it is published with the next build", id=hold_id))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/magistrate")
