"""Reviews of blocks: an officer's re-attestation, a magistrate's renewal (blocklist/reviews.py has the rule).

The list of blocks due is `GET /domains?due=N` (api/routes/domains.py); a lift at review is `POST
/domains/{name}/lift`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.deps import allowed, session
from api.routes.domains import NAME
from api.routes.responses import write
from api.schemas import AttestationIn, AttestationOut, RenewalOut, RenewIn
from blocklist import permissions, reviews
from blocklist.models import User

router = APIRouter(tags=["reviews"])
officer = allowed(permissions.ATTEST)
magistrate = allowed(permissions.LIFT_OR_RENEW)


@router.post("/domains/{name}/attestations", status_code=201, response_model=AttestationOut,
             summary="Re-attest a blocked name at review (officers)", responses=write(201, 404))
def attest(body: AttestationIn, name: str = NAME, db: Session = Depends(session),
           actor: User = Depends(officer)) -> AttestationOut:
    """The day the content was checked, the evidence of the check, and whether the content is still there: when it
    is gone, the name is proposed for lifting. 404 when the name is not blocked."""
    attestation = reviews.attest(db, actor=actor, domain=name, checked_on=body.checked_on,
                                 evidence_ref=body.evidence_ref, content_present=body.content_present, note=body.note)
    return AttestationOut.of(attestation)


@router.post("/domains/{name}/renew", response_model=RenewalOut,
             summary="Keep a block at review: a new review date, with a reason (magistrates)",
             responses=write(200, 404))
def renew(body: RenewIn, name: str = NAME, db: Session = Depends(session),
          actor: User = Depends(magistrate)) -> RenewalOut:
    """Only on a current re-attestation (409 without one, or when it says the content is gone, or is older than
    30 days); the date after today and at most 366 days ahead, the reason written (422)."""
    renewal = reviews.renew(db, actor=actor, domain=name, review_due=body.review_due, reason=body.reason)
    return RenewalOut.of(renewal)

