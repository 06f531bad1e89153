"""The removal notices page (/removal-notices): every notice to a Belgian hosting provider with its status; officers
record the provider's acknowledgement and the site's removal. The same rules as the JSON API's."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import session
from api.params import DbId
from api.web.common import attempt, back, check_csrf, needs, page, refused, say
from blocklist import permissions
from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.models import User
from requisitions import removal

router = APIRouter(include_in_schema=False)
readers = needs(permissions.READ_REMOVALS)
recorders = needs(permissions.RECORD_REMOVALS)
HOME = "/removal-notices"


def _day(text: str, *, field: str) -> dt.date | None:
    """A form's date (YYYY-MM-DD, as a date input sends it), None when empty; else InvalidInput."""
    value = text.strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise InvalidInput(f"{field}: a date is written YYYY-MM-DD", field=field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date", field=field) from None


def section(db: Session) -> dict[str, Any]:
    """The context of the magistrate page's "removal confirmed — proposed for lifting" (_removal_magistrate.html)."""
    return {"removal_proposed": removal.proposed_for_lifting(db)}


@router.get(HOME, response_class=HTMLResponse)
def notices(request: Request, status: str = Query("", max_length=20), db: Session = Depends(session),
            user: User = Depends(readers)) -> HTMLResponse:
    """The notices, newest first, optionally of one status."""
    chosen = status if status in removal.LIST_STATUSES else None
    return page(request, "removal_notices.html", user, rows=removal.list_notices(db, status=chosen, limit=500),
                status=chosen or "", statuses=("", *removal.LIST_STATUSES), today=dt.date.today().isoformat(),
                can_record=permissions.allows(user, permissions.RECORD_REMOVALS))


@router.get(HOME + "/{notice_id}.pdf")
def pdf(notice_id: DbId, db: Session = Depends(session), _: User = Depends(readers)) -> Response:
    """The notice's PDF as issued, to deliver by hand."""
    notice = removal.get_notice(db, notice_id)
    return Response(notice.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{notice.reference}.pdf"'})


@router.post(HOME + "/{notice_id}/acknowledge", dependencies=[Depends(check_csrf)])
def acknowledge(request: Request, notice_id: DbId, on: str = Form(""), reference: str = Form(""),
                db: Session = Depends(session), user: User = Depends(recorders)) -> Response:
    """The provider acknowledged the notice."""
    with attempt(db) as outcome:
        notice = removal.acknowledge(db, actor=user, notice_id=notice_id, on=_day(on, field="acknowledged_on"),
                                     reference=reference)
        say(request, user, N_("%(reference)s: acknowledgement recorded", reference=notice.reference))
    if outcome.error:
        refused(request, user, outcome.error)
    return back(HOME)


@router.post(HOME + "/{notice_id}/removed", dependencies=[Depends(check_csrf)])
def removed(request: Request, notice_id: DbId, on: str = Form(""), evidence_ref: str = Form(""),
            db: Session = Depends(session), user: User = Depends(recorders)) -> Response:
    """The site is gone: proposed to the magistrates for lifting."""
    with attempt(db) as outcome:
        notice = removal.record_removed(db, actor=user, notice_id=notice_id, on=_day(on, field="removed_on"),
                                        evidence_ref=evidence_ref)
        say(request, user, N_("%(reference)s: removal of %(name)s recorded; proposed to the magistrates for lifting",
                              reference=notice.reference, name=notice.unicode))
    if outcome.error:
        refused(request, user, outcome.error)
    return back(HOME)
