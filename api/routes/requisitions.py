"""Requisitions: lists and PDFs for magistrates and auditors; an ISP sees, downloads and acknowledges its own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from api.deps import bearer_token, current_isp, session
from api.params import DbId, OptionalQueryId
from api.routes.responses import PDF, errors, write
from api.schemas import ISP_ID_OR_NAME, RequisitionOut
from blocklist import isps, permissions, users
from blocklist.errors import Unauthenticated
from blocklist.models import Isp, User
from requisitions import service

router = APIRouter(tags=["requisitions"])


def user_or_isp(request: Request, db: Session = Depends(session)) -> User | Isp:
    """A magistrate or auditor (user token), or an ISP (feed credential)."""
    token = bearer_token(request)
    try:
        user = users.user_by_token(db, token)
    except Unauthenticated:
        isp = isps.isp_by_token(db, token)
        if not isp.active:
            raise Unauthenticated(f"ISP {isp.name!r} is disabled") from None
        return isp
    permissions.require(user, permissions.READ_REQUISITIONS)
    return user


@router.get("/requisitions", response_model=list[RequisitionOut], summary="Requisitions (an ISP sees only its own)",
            responses=errors(404))
def list_requisitions(
    isp: str | None = Query(default=None, description="ISP id or name", json_schema_extra=ISP_ID_OR_NAME),
    status: str | None = Query(default=None, description="pending|sent|acknowledged|failed|overdue",
                               json_schema_extra={"enum": list(service.LIST_STATUSES)}),
    order: OptionalQueryId = None,
    db: Session = Depends(session), caller: User | Isp = Depends(user_or_isp),
) -> list[RequisitionOut]:
    """Filter by ISP, status (incl. overdue) and order."""
    isp_id = caller.id if isinstance(caller, Isp) else (isps.get_isp(db, isp).id if isp else None)
    return [RequisitionOut.of(r) for r in service.list_requisitions(db, isp_id=isp_id, status=status, order_id=order)]


@router.get("/requisitions/{requisition_id}", response_model=RequisitionOut, summary="One requisition",
            responses=errors(404))
def get_requisition(requisition_id: DbId, db: Session = Depends(session),
                    caller: User | Isp = Depends(user_or_isp)) -> RequisitionOut:
    """Its state and evidence."""
    own = caller if isinstance(caller, Isp) else None
    return RequisitionOut.of(service.get_for_isp(db, requisition_id=requisition_id, isp=own))


@router.get("/requisitions/{requisition_id}/document.pdf", summary="The requisition's PDF",
            response_class=Response, responses=PDF)
def document(requisition_id: DbId, db: Session = Depends(session),
             caller: User | Isp = Depends(user_or_isp)) -> Response:
    """The signed-off PDF exactly as sent (its SHA-256 is in the audit chain)."""
    own = caller if isinstance(caller, Isp) else None
    req = service.get_for_isp(db, requisition_id=requisition_id, isp=own)
    return Response(req.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{req.reference}.pdf"', "X-Content-SHA256": req.pdf_sha256})


@router.post("/requisitions/{requisition_id}/acknowledge", response_model=RequisitionOut,
             summary="The ISP acknowledges a requisition", responses=write(200, 404, body=False))
def acknowledge(requisition_id: DbId, db: Session = Depends(session),
                isp: Isp = Depends(current_isp)) -> RequisitionOut:
    """ISP credential only; idempotent."""
    return RequisitionOut.of(service.acknowledge(db, isp=isp, requisition_id=requisition_id))
