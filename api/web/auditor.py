"""Oversight pages: a name's or a case's full timeline, the audit chain, requisitions and their PDFs."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import runtime, session
from api.params import DbId, OptionalQueryId
from api.runtime import Runtime
from api.web import reviews
from api.web.common import needs, page
from blocklist import audit, permissions, workflow
from blocklist.errors import NameRefused
from blocklist.models import AuditEvent, Submission, User, utcnow
from blocklist.names import normalize
from blocklist.text import clean_text
from isp_feed import compliance, serving
from isp_feed.models import VerificationResult
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


@router.get("/auditor", response_class=HTMLResponse)
def home(request: Request, q: str = "", verify: bool = False, db: Session = Depends(session),
         rt: Runtime = Depends(runtime),
         user: User = Depends(needs(permissions.READ_CASES))) -> HTMLResponse:
    """Search a name or a case number; the chain's status."""
    events: list[AuditEvent] = []
    subs: list[Submission] = []
    checks: list[tuple[VerificationResult, str]] = []
    # PostgreSQL refuses a NUL in a query (a byte that is no UTF-8, like %ff, arrives as U+FFFD: mere text).
    query = clean_text(q.strip()[:200], field="q", max_length=200)
    if query:
        subs = workflow.list_submissions(db, case_number=query)
        domains = sorted({s.domain for s in subs})
        if not domains:
            try:
                domains = [normalize(query).a_label]
            except NameRefused:
                domains = []
        seen: dict[int, AuditEvent] = {}
        for domain in domains:
            for event in workflow.history(db, domain):
                seen[event.id] = event
        events = [seen[i] for i in sorted(seen)]
        for domain in domains[:20]:
            checks.extend(compliance.checks_for(db, domain, limit=100))
        if not subs and domains:
            subs = list(db.execute(select(Submission).where(Submission.domain.in_(domains))
                                   .order_by(Submission.id)).scalars())
    details = {e.id: json.loads(e.details) for e in events}
    chain, checked_at = _chain(db, rt, now=verify)
    return page(request, "auditor.html", user, q=query, events=events, details=details, subs=subs, checks=checks,
                chain=chain, chain_checked=checked_at, feed=serving.feed_states(db),
                overdue=len(requisitions.list_requisitions(db, status="overdue")),
                **reviews.section(request, db, overdue_only=True))


@router.get("/requisitions", response_class=HTMLResponse)
def requisition_list(request: Request, status: str = "", order: OptionalQueryId = None, isp: OptionalQueryId = None,
                     db: Session = Depends(session), user: User = Depends(requisition_readers)) -> HTMLResponse:
    """Requisitions per order and per ISP with their state; overdue ones stand out."""
    chosen = status if status in requisitions.LIST_STATUSES else None
    rows = requisitions.list_requisitions(db, status=chosen, order_id=order, isp_id=isp, limit=500)
    overdue = len(requisitions.list_requisitions(db, status="overdue"))
    return page(request, "requisitions.html", user, rows=rows, status=chosen or "", overdue=overdue,
                is_overdue=requisitions.is_overdue)


@router.get("/requisitions/{requisition_id}.pdf")
def requisition_pdf(requisition_id: DbId, db: Session = Depends(session),
                    user: User = Depends(requisition_readers)) -> Response:
    """Download one requisition's PDF."""
    req = requisitions.get_for_isp(db, requisition_id=requisition_id, isp=None)
    return Response(req.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{req.reference}.pdf"'})
