"""The magistrate's pages: the queue with every legal detail and flag, decisions, blocks, overrides, holds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import stored_text
from api.deps import runtime, session
from api.params import DbId, form_ids
from api.runtime import Runtime
from api.web import common, removal, reviews
from api.web.common import attempt, back, check_csrf, confirmed, listing, needs, page, refused, say
from blocklist import labels, permissions, queries, workflow
from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.models import User, utcnow
from blocklist.text import parse_id
from isp_feed import holds, publish
from requisitions import service as requisitions

router = APIRouter(include_in_schema=False)
magistrate = needs(permissions.DECIDE)


def _filters(case: str, legal_basis: str, flag: str) -> dict[str, str]:
    return {"case": case, "legal_basis": legal_basis, "flag": flag}


@router.get("/magistrate", response_class=HTMLResponse)
def home(request: Request, case: str = Query("", max_length=100), legal_basis: str = Query("", max_length=30),
         flag: str = Query("", max_length=30),
         submitter: str = Query("", max_length=12), db: Session = Depends(session),
         user: User = Depends(magistrate)) -> HTMLResponse:
    """The queue (one page, oldest first unless sorted otherwise, with the true total), held feed changes,
    reviews due, removal notices."""
    paged = listing(request)
    sort, order = paged.sort or "submitted", paged.order or "asc"
    officer_id = parse_id(submitter, field="submitter") if submitter else None  # the form's "anyone" sends ""
    pending = workflow.submission_page(db, status="submitted", case=case, legal_basis=legal_basis, flag=flag,
                                       submitted_by=officer_id, sort=sort, order=order, page=paged.page,
                                       per_page=paged.per_page)
    officers = db.execute(select(User.id, User.display_name).where(User.role == "officer")
                          .order_by(User.display_name)).all()
    return page(request, "magistrate.html", user, pending=pending, sort=sort, order=order, submitter=officer_id,
                filters=_filters(case, legal_basis, flag), officers=officers, names=_names(db),
                holds=publish.pending_holds(db), overdue=len(requisitions.list_requisitions(db, status="overdue")),
                **reviews.section(request, db), **removal.section(db))


@router.get("/magistrate/blocked", response_class=HTMLResponse)
def blocked(request: Request, case: str = Query("", max_length=100), legal_basis: str = Query("", max_length=30),
         flag: str = Query("", max_length=30),
            db: Session = Depends(session),
            user: User = Depends(magistrate)) -> HTMLResponse:
    """The blocked names, one page at a time with the true total, each with its lift form."""
    paged = listing(request)
    sort, order = paged.sort or "domain", paged.order or "asc"
    names = workflow.submission_page(db, status="approved", case=case, legal_basis=legal_basis, flag=flag,
                                     sort=sort, order=order, page=paged.page, per_page=paged.per_page)
    return page(request, "blocked.html", user, blocked=names, sort=sort, order=order, today=utcnow().date(),
                filters=_filters(case, legal_basis, flag))


def _names(db: Session) -> dict[int, str]:
    return {user_id: name for user_id, name in db.execute(select(User.id, User.display_name))}


def _chosen(db: Session, *, pick: str, ids: list[str], page_ids: list[str], pick_case: str) -> list[int]:
    """The submissions a decision is about: the ticked ones, all those of the page shown, or every pending one of
    a case."""
    if pick == "page":
        return form_ids(page_ids, field="ids")
    if pick == "case":
        return workflow.pending_of_case(db, pick_case)
    return form_ids(ids, field="ids")


@router.post("/magistrate/decide", dependencies=[Depends(check_csrf)])
def decide(request: Request, ids: list[str] = Form(default=[]), page_ids: list[str] = Form(default=[]),
           pick: str = Form("ticked"), pick_case: str = Form(""), decision: str = Form(""), reason: str = Form(""),
           confirm: str = Form(""), db: Session = Depends(session), rt: Runtime = Depends(runtime),
           user: User = Depends(magistrate)) -> Response:
    """Approve the selected submissions as one order (after a confirmation step that shows the names and how many
    ISPs will receive a requisition), or reject each with the reason."""
    # A plain (threaded) view: the database work must never block the event loop.
    with attempt(db) as outcome:
        chosen = _chosen(db, pick=pick, ids=ids, page_ids=page_ids, pick_case=pick_case)
        if not chosen:
            raise InvalidInput(N_("select at least one submission"))
        if decision == "approve" and not confirmed(confirm):
            subs = workflow.approvable(db, actor=user, submission_ids=chosen)
            providers = len(queries.active_isps(db))
            return common.confirm(
                request, user, title=N_("Approve %(count)s submission(s)?", count=len(subs)),
                consequences=[N_("One blocking order for %(count)s name(s).", count=len(subs)),
                              N_("A requisition to each of the %(count)s active access providers.", count=providers),
                              N_("The names go into the next signed feed version."),
                              N_("Reason: %(reason)s", reason=reason or "—")],
                names=[s.unicode if s.unicode == s.domain else f"{s.unicode} ({s.domain})" for s in subs],
                button=N_("Approve and block %(count)s name(s)", count=len(subs)), action="/magistrate/decide",
                fields=[("decision", "approve"), ("reason", reason), *[("ids", s.id) for s in subs]],
                cancel="/magistrate")
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
         confirm: str = Form(""), db: Session = Depends(session), user: User = Depends(magistrate)) -> Response:
    """Lift a block, with a reason, after a confirmation step (a renewal has its own form: api/web/reviews.py)."""
    with attempt(db) as outcome:
        if action != "lift":  # never lift on a button that meant something else (an old page's "renew")
            raise InvalidInput(f"unknown action {action!r}; this form lifts, renewals have their own form",
                               field="action")
        if not confirmed(confirm):
            sub = workflow.liftable(db, actor=user, domain=domain, reason=reason)
            providers = len(queries.active_isps(db))
            return common.confirm(
                request, user, title=N_("Lift the block of %(name)s?", name=sub.unicode),
                consequences=[N_("A lifting order for %(name)s (%(scope)s).", name=sub.domain,
                                 scope=labels.SCOPE.get(sub.scope, sub.scope)),
                              N_("A lifting requisition to each of the %(count)s active access providers.",
                                 count=providers),
                              N_("The name leaves the next signed feed version."),
                              N_("Reason: %(reason)s", reason=reason)],
                names=[sub.unicode], button=N_("Lift the block"), action="/magistrate/lift",
                fields=[("domain", sub.domain), ("reason", reason), ("action", "lift")], cancel="/magistrate/blocked")
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
def confirm_hold(request: Request, hold_id: DbId, confirm: str = Form(""), db: Session = Depends(session),
                 user: User = Depends(magistrate)) -> Response:
    """Confirm a held feed change a second time, after a step that lists what it changes."""
    with attempt(db) as outcome:
        if not confirmed(confirm):
            hold = holds.get_hold(db, hold_id)
            refusal = holds.confirm_refusal(db, user, hold)  # the same rule as the confirmation itself
            if refusal is not None or hold.confirmed_at is not None or hold.closed_at is not None:
                publish.confirm_hold(db, actor=user, hold_id=hold_id)  # raises the refusal, in its words
            return common.confirm(
                request, user, title=N_("Publish held feed change #%(id)s?", id=hold.id),
                consequences=[N_("Held because: %(reasons)s",
                                 reasons=stored_text.hold_reasons(hold.reasons, common.language_of(request, user))),
                              N_("%(added)s name(s) added and %(removed)s removed in the next signed feed version, "
                                 "which every access provider loads.", added=hold.added, removed=hold.removed)],
                names=[f"+ {n}" for n in hold.listed("added")] + [f"− {n}" for n in hold.listed("removed")],
                button=N_("Confirm the feed change"), action=f"/magistrate/holds/{hold.id}", fields=[],
                cancel="/magistrate")
        publish.confirm_hold(db, actor=user, hold_id=hold_id)
        say(request, user, N_("feed change #%(id)s confirmed; it is published with the next build", id=hold_id))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/magistrate")
