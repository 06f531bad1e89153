"""Removal notices to Belgian hosting providers: read by officers, magistrates and auditors; officers record the
provider's acknowledgement and the site's removal (which proposes the name for lifting)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from api.deps import allowed, session
from api.params import DbId
from api.routes.responses import PDF, errors, write
from api.schemas import AcknowledgedIn, RemovalNoticeOut, RemovedIn
from blocklist import permissions
from blocklist.models import User
from requisitions import removal
from requisitions.models import NoticeStatus

router = APIRouter(tags=["removal notices"])
reader = allowed(permissions.READ_REMOVALS)
recorder = allowed(permissions.RECORD_REMOVALS)


@router.get("/removal-notices", response_model=list[RemovalNoticeOut], summary="Removal notices, newest first")
def list_notices(status: NoticeStatus | None = Query(default=None, description="Only the notices of this status "
                                                                               "(no_address: deliver by hand)"),
                 limit: int = Query(default=500, ge=1, le=5000), db: Session = Depends(session),
                 _: User = Depends(reader)) -> list[RemovalNoticeOut]:
    """Every notice issued for a site hosted in Belgium, with its delivery and what became of it."""
    return [RemovalNoticeOut.of(n) for n in removal.list_notices(db, status=status, limit=limit)]


@router.get("/removal-notices/{notice_id}", response_model=RemovalNoticeOut, summary="One removal notice",
            responses=errors(404))
def get_notice(notice_id: DbId, db: Session = Depends(session), _: User = Depends(reader)) -> RemovalNoticeOut:
    """Its delivery evidence and outcomes."""
    return RemovalNoticeOut.of(removal.get_notice(db, notice_id))


@router.get("/removal-notices/{notice_id}/document.pdf", summary="The removal notice's PDF",
            response_class=Response, responses=PDF)
def document(notice_id: DbId, db: Session = Depends(session), _: User = Depends(reader)) -> Response:
    """The PDF exactly as issued (its SHA-256 is in the audit chain), to deliver by hand when there is no address."""
    notice = removal.get_notice(db, notice_id)
    return Response(notice.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{notice.reference}.pdf"', "X-Content-SHA256": notice.pdf_sha256})


@router.post("/removal-notices/{notice_id}/acknowledge", response_model=RemovalNoticeOut,
             summary="Record that the provider acknowledged the notice", responses=write(200, 404))
def acknowledge(notice_id: DbId, body: AcknowledgedIn | None = None, db: Session = Depends(session),
                actor: User = Depends(recorder)) -> RemovalNoticeOut:
    """Once per notice (409 after); the date defaults to today and cannot be in the future."""
    given = body or AcknowledgedIn()
    return RemovalNoticeOut.of(removal.acknowledge(db, actor=actor, notice_id=notice_id, on=given.acknowledged_on,
                                                   reference=given.reference))


@router.post("/removal-notices/{notice_id}/removed", response_model=RemovalNoticeOut,
             summary="Record that the site is gone", responses=write(200, 404))
def removed(notice_id: DbId, body: RemovedIn, db: Session = Depends(session),
            actor: User = Depends(recorder)) -> RemovalNoticeOut:
    """Once per notice (409 after). The name is proposed to the magistrates for lifting; it stays blocked until one
    lifts it (POST /domains/{name}/lift)."""
    return RemovalNoticeOut.of(removal.record_removed(db, actor=actor, notice_id=notice_id, on=body.removed_on,
                                                      evidence_ref=body.evidence_ref))
