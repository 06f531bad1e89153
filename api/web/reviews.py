"""Reviews on the staff pages: the magistrate page's due list (renew, lift), the officer page's re-attestations, the
auditors' overdue reviews. The sections are templates of their own (templates/_reviews_*.html), included by each
page with the context `section` builds; the forms post here. Refusals are worded in the user's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import session
from api.web.common import attempt, back, check_csrf, needs, refused, say
from blocklist import permissions, reviews
from blocklist.i18n import N_, Message
from blocklist.models import User, utcnow
from blocklist.text import is_id

router = APIRouter(include_in_schema=False)
officer = needs(permissions.ATTEST)
magistrate = needs(permissions.LIFT_OR_RENEW)
PER_PAGE = 25
PAGE_PARAMETER = "reviews_page"  # the query parameter of the section's page, on whichever page includes it


def section(request: Request, db: Session, *, overdue_only: bool = False) -> dict[str, Any]:
    """The context of a review section: one page of the blocks due (or, `overdue_only`, overdue), and its dates."""
    typed = request.query_params.get(PAGE_PARAMETER, "1")
    number = int(typed) if is_id(typed) and len(typed) <= 6 else 1
    today = utcnow().date()
    items, total = reviews.due_reviews(db, today=today, overdue_only=overdue_only, page=number, per_page=PER_PAGE)
    period = request.app.state.runtime.settings.review_period_days
    return {"reviews": items, "reviews_total": total, "reviews_page": number, "reviews_param": PAGE_PARAMETER,
            "reviews_pages": max(1, -(-total // PER_PAGE)), "review_today": today.isoformat(),
            "review_min": (today + dt.timedelta(days=1)).isoformat(),
            "review_next": (today + dt.timedelta(days=min(period, reviews.MAX_RENEWAL_DAYS))).isoformat(),
            "review_latest": (today + dt.timedelta(days=reviews.MAX_RENEWAL_DAYS)).isoformat()}


def _date(value: str, *, field: str, label: Message) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise reviews.ReviewRefused(f"{field} must be a date (YYYY-MM-DD)", code="bad_date", field=field,
                                    label=label) from None


@router.post("/officer/attest", dependencies=[Depends(check_csrf)])
def attest(request: Request, domain: str = Form(""), checked_on: str = Form(""), evidence_ref: str = Form(""),
           content: str = Form(""), note: str = Form(""), db: Session = Depends(session),
           user: User = Depends(officer)) -> Response:
    """Record a re-attestation; content "gone" proposes the name for lifting."""
    with attempt(db) as outcome:
        if content not in ("present", "gone"):
            raise reviews.ReviewRefused("say whether the content is still there", code="content_missing",
                                        field="content")
        found = reviews.attest(db, actor=user, domain=domain,
                               checked_on=_date(checked_on, field="checked_on", label=N_("Checked on")),
                               evidence_ref=evidence_ref, content_present=content == "present", note=note)
        say(request, user, N_("%(name)s: re-attestation recorded", name=found.submission.unicode)
            if found.content_present else
            N_("%(name)s: re-attestation recorded; the name is proposed for lifting", name=found.submission.unicode))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/officer#reviews")


@router.post("/magistrate/renew", dependencies=[Depends(check_csrf)])
def renew(request: Request, domain: str = Form(""), review_due: str = Form(""), reason: str = Form(""),
          db: Session = Depends(session), user: User = Depends(magistrate)) -> Response:
    """Renew a block on its current re-attestation: the next review date, with a reason."""
    with attempt(db) as outcome:
        renewal = reviews.renew(db, actor=user, domain=domain, reason=reason,
                                review_due=_date(review_due, field="review_due", label=N_("Next review on")))
        say(request, user, N_("%(name)s: block renewed, next review on %(date)s", name=renewal.submission.unicode,
                              date=renewal.review_due.isoformat()))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/magistrate#reviews")
