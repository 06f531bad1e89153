"""Oversight pages: a name's or a case's full timeline, the audit chain, requisitions and their PDFs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api import history
from api.deps import runtime, session
from api.params import DbId, OptionalQueryId
from api.runtime import Runtime
from api.web import reviews, timeline_rows
from api.web.common import language_of, listing, needs, page
from blocklist import audit, i18n, isps, labels, permissions, timeline, workflow
from blocklist.i18n import N_
from blocklist.models import User, utcnow
from blocklist.text import clean_text
from isp_feed import serving
from requisitions import service as requisitions

router = APIRouter(include_in_schema=False)
requisition_readers = needs(permissions.READ_REQUISITIONS)


CHAIN_CHECK_SECONDS = 300  # the page re-walks the whole chain at most this often, unless asked to


def _chain(db: Session, rt: Runtime, *, now: bool) -> tuple[audit.ChainStatus, dt.datetime]:
    """The whole chain's status, recomputed when older than CHAIN_CHECK_SECONDS or when asked.

    Re-walking a long log takes seconds (200,000 events: about 3 s): not on every page view.
    """
    checked = rt.chain_check
    if now or checked is None or (utcnow() - checked[1]).total_seconds() > CHAIN_CHECK_SECONDS:
        checked = rt.chain_check = (audit.verify(db), utcnow())
    return checked


# How audit.verify words the problems it finds (English, as the CLI prints them): read back into the page's
# language; a problem worded otherwise is shown as stated.
CHAIN_PROBLEMS = (
    N_("its content was changed after it was written"),
    N_("its previous-hash does not match the event before it (inserted, deleted or reordered)"),
    N_("event %(expected)s is missing (next stored event is %(next)s)"),
    N_("the chain head records event %(head)s but the log ends at event %(last)s"),
)


def chain_line(chain: audit.ChainStatus, language: str) -> str:
    """The chain's status in words of the page's language (audit.ChainStatus.describe is the operators' English)."""
    if chain.intact:
        line = i18n.gettext(language, "intact: %(events)s events, head %(head)s; %(submissions)s submissions agree "
                                      "with their events", events=i18n.number(chain.events, language),
                            head=chain.head_hash[:16], submissions=i18n.number(chain.submissions, language))
        if chain.witnessed:
            line += i18n.gettext(language, "; %(witnessed)s witnessed checkpoints match",
                                 witnessed=i18n.number(chain.witnessed, language))
        return line
    problem = labels.reread(chain.problem or "", CHAIN_PROBLEMS, language)
    if chain.broken_at is None:
        return i18n.gettext(language, "BROKEN: %(problem)s", problem=problem)
    return i18n.gettext(language, "BROKEN at event %(event)s: %(problem)s", event=chain.broken_at, problem=problem)


def _found(db: Session, result: timeline.SearchResult) -> history.Timeline | None:
    """The history a search leads to: the name typed (and the blocks covering it), else the one case it names
    (exactly, in any case, or as the only case containing it); None when it leads to several cases or nowhere."""
    if result.host is not None and (result.names or not result.cases):
        return history.for_domain(db, result.query)
    exact = [c for c in result.cases if c.case_number.lower() == result.query.lower()]
    if exact or len(result.cases) == 1:
        return history.for_case(db, (exact or result.cases)[0].case_number)
    return None


@router.get("/auditor", response_class=HTMLResponse)
def home(request: Request, q: str = "", verify: bool = False, db: Session = Depends(session),
         rt: Runtime = Depends(runtime),
         user: User = Depends(needs(permissions.READ_CASES))) -> HTMLResponse:
    """Search a name (a URL, a subdomain a block covers) or a case number (a part of it, in any case): its
    readable history, with the exports for court; the chain's status."""
    # PostgreSQL refuses a NUL in a query (a byte that is no UTF-8, like %ff, arrives as U+FFFD: mere text).
    query = clean_text(q.strip()[:timeline.MAX_QUERY], field="q", max_length=timeline.MAX_QUERY)
    result = timeline.search(db, query) if query else None
    found = _found(db, result) if result is not None else None
    chain, checked_at = _chain(db, rt, now=verify)
    language = language_of(request, user)
    return page(request, "auditor.html", user, q=query, result=result, found=found,
                rows=timeline_rows.rows(found, language) if found else [], chain_line=chain_line(chain, language),
                can_export=user.role in permissions.EXPORT_HISTORY.roles,
                chain=chain, chain_checked=checked_at, feed=serving.feed_states(db),
                overdue=len(requisitions.list_requisitions(db, status="overdue")),
                **reviews.section(request, db, overdue_only=True))


exporter = needs(permissions.EXPORT_HISTORY)


@router.get("/auditor/domains/{name}/export.{kind}")
def domain_export(request: Request, name: Annotated[str, Path(min_length=1, max_length=timeline.MAX_QUERY)],
                  kind: Literal["json", "pdf"], db: Session = Depends(session), rt: Runtime = Depends(runtime),
                  user: User = Depends(exporter)) -> Response:
    """A name's history for court, from the page (the same files as the API's /domains/{name}/export.*)."""
    return history.download(db, history.listed_domain(db, name), keys=rt.keys, exported_by=user, kind=kind,
                            language=language_of(request, user))


@router.get("/auditor/cases/{case:path}/export.{kind}")
def case_export(request: Request, case: Annotated[str, Path(min_length=1, max_length=100)],
                kind: Literal["json", "pdf"],
                db: Session = Depends(session), rt: Runtime = Depends(runtime),
                user: User = Depends(exporter)) -> Response:
    """A case's history for court, from the page (the same files as the API's /cases/{case}/export.*)."""
    return history.download(db, history.for_case(db, case), keys=rt.keys, exported_by=user, kind=kind,
                            language=language_of(request, user))


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission_detail(request: Request, submission_id: DbId, db: Session = Depends(session),
                      user: User = Depends(needs(permissions.READ_CASES))) -> HTMLResponse:
    """One submission: every field, its decision, and its readable history (its own events, those of its orders,
    their holds, requisitions and delivery attempts)."""
    sub = workflow.get_submission(db, submission_id)
    found = history.for_submission(db, sub)
    return page(request, "submission.html", user, s=sub, rows=timeline_rows.rows(found, language_of(request, user)),
                people={i: found.people.get(u, u) for i, u in found.users.items()})


@router.get("/requisitions", response_class=HTMLResponse)
def requisition_list(request: Request, status: str = "", order_id: OptionalQueryId = None, isp: OptionalQueryId = None,
                     db: Session = Depends(session), user: User = Depends(requisition_readers)) -> HTMLResponse:
    """Requisitions per order and per ISP with their state, one page at a time with the true total; overdue ones
    stand out."""
    chosen = status if status in requisitions.LIST_STATUSES else None
    paged = listing(request)
    sort, direction = paged.sort or "created", paged.order or "desc"
    rows = requisitions.requisition_page(db, status=chosen, order_id=order_id, isp_id=isp, sort=sort, order=direction,
                                         page=paged.page, per_page=paged.per_page)
    overdue = len(requisitions.list_requisitions(db, status="overdue"))
    return page(request, "requisitions.html", user, rows=rows, status=chosen or "", overdue=overdue,
                is_overdue=requisitions.is_overdue, isps=isps.list_isps(db), isp=isp, order_id=order_id, sort=sort,
                order=direction, statuses=requisitions.LIST_STATUSES)


@router.get("/requisitions/{requisition_id}.pdf")
def requisition_pdf(requisition_id: DbId, db: Session = Depends(session),
                    user: User = Depends(requisition_readers)) -> Response:
    """Download one requisition's PDF."""
    req = requisitions.get_for_isp(db, requisition_id=requisition_id, isp=None)
    return Response(req.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{req.reference}.pdf"'})
