"""Requisitions: lists and PDFs for magistrates and auditors; an ISP sees, downloads and acknowledges its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from api.deps import bearer_token, current_isp, session
from api.params import DbId, OptionalQueryId
from api.routes.responses import PDF, errors, write
from api.schemas import ISP_ID_OR_NAME
from blocklist import isps, permissions, users
from blocklist.errors import Unauthenticated
from blocklist.models import Isp, User
from requisitions import service
from requisitions.models import Requisition

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


def _out(req: Requisition) -> dict[str, Any]:
    return {
        "id": req.id, "reference": req.reference, "kind": req.kind, "order_id": req.order_id,
        "isp": {"id": req.isp_id, "name": req.isp.name}, "language": req.language,
        "names": service.names_of(req), "feed_serial": req.feed_serial, "status": req.status,
        "overdue": service.is_overdue(req), "created_at": req.created_at, "deadline": req.deadline,
        "attempts": req.attempts, "sent_at": req.sent_at, "message_id": req.message_id,
        "smtp_response": req.smtp_response, "acknowledged_at": req.acknowledged_at,
        "failed_at": req.failed_at, "last_error": req.last_error, "pdf_sha256": req.pdf_sha256,
        "document": f"/api/v1/requisitions/{req.id}/document.pdf",
    }


@router.get("/requisitions", summary="Requisitions (an ISP sees only its own)", responses=errors(404))
def list_requisitions(
    isp: str | None = Query(default=None, description="ISP id or name", json_schema_extra=ISP_ID_OR_NAME),
    status: str | None = Query(default=None, description="pending|sent|acknowledged|failed|overdue",
                               json_schema_extra={"enum": list(service.LIST_STATUSES)}),
    order: OptionalQueryId = None,
    db: Session = Depends(session), caller: User | Isp = Depends(user_or_isp),
) -> list[dict[str, Any]]:
    """Filter by ISP, status (incl. overdue) and order."""
    isp_id = caller.id if isinstance(caller, Isp) else (isps.get_isp(db, isp).id if isp else None)
    return [_out(r) for r in service.list_requisitions(db, isp_id=isp_id, status=status, order_id=order)]


@router.get("/requisitions/{requisition_id}", summary="One requisition", responses=errors(404))
def get_requisition(requisition_id: DbId, db: Session = Depends(session),
                    caller: User | Isp = Depends(user_or_isp)) -> dict[str, Any]:
    """Its state and evidence."""
    own = caller if isinstance(caller, Isp) else None
    return _out(service.get_for_isp(db, requisition_id=requisition_id, isp=own))


@router.get("/requisitions/{requisition_id}/document.pdf", summary="The requisition's PDF",
            response_class=Response, responses=PDF)
def document(requisition_id: DbId, db: Session = Depends(session),
             caller: User | Isp = Depends(user_or_isp)) -> Response:
    """The signed-off PDF exactly as sent (its SHA-256 is in the audit chain)."""
    own = caller if isinstance(caller, Isp) else None
    req = service.get_for_isp(db, requisition_id=requisition_id, isp=own)
    return Response(req.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{req.reference}.pdf"', "X-Content-SHA256": req.pdf_sha256})


@router.post("/requisitions/{requisition_id}/acknowledge", summary="The ISP acknowledges a requisition",
             responses=write(200, 404, body=False))
def acknowledge(requisition_id: DbId, db: Session = Depends(session),
                isp: Isp = Depends(current_isp)) -> dict[str, Any]:
    """ISP credential only; idempotent."""
    return _out(service.acknowledge(db, isp=isp, requisition_id=requisition_id))
