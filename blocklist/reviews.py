"""Reviews of blocks: the list of blocks due, officers' re-attestations, magistrates' renewals.

Every block has a review date (set at approval: workflow.DEFAULT_REVIEW_DAYS, or the deployment's
`review_period_days`). A block due within DUE_WITHIN_DAYS, or overdue, is surfaced: on the magistrates' page, in
their weekly digest (blocklist/review_digest.py) and, once overdue, to the auditors. Nothing here runs on a timer
and nothing is decided by one: a block stays blocked until a magistrate renews or lifts it, and stays on those
lists, visibly overdue, until then.

A review is:
- an officer's RE-ATTESTATION (`attest`): the day the content was checked, a reference to the evidence of that check
  (never the content), and whether the content is still there. One saying it is gone makes the name PROPOSED FOR
  LIFTING;
- then a magistrate's RENEWAL (`renew`: a new review date, after today and at most MAX_RENEWAL_DAYS ahead, with a
  written reason) or LIFT (workflow.lift, with a reason: the lifting order, its requisitions and the name's removal
  from the next feed version follow).

The renewal rule: a block is renewed only on a CURRENT re-attestation, that is its newest re-attestation, which
  1. says the content is still there (one saying it is gone must be answered by a lift, or by a newer
     re-attestation that finds the content again),
  2. was checked at most ATTESTATION_VALID_DAYS (30) days before the renewal, and
  3. no earlier renewal rests on (each renewal consumes its re-attestation, so that every renewal period starts
     from a fresh check; the database holds it with a unique key, so two magistrates cannot renew on one).

Each action is an audit event about the name, inside the caller's transaction: `review.attested` and
`submission.renewed` (the replay of the submissions table knows the latter; blocklist/replay.py). A refusal raises
before anything is written, with a `code` that the pages word in the user's language (api/web/reviews.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from blocklist import audit, queries, workflow
from blocklist.errors import Conflict, InvalidInput
from blocklist.i18n import N_, Message
from blocklist.models import Attestation, Renewal, Submission, User, utcnow
from blocklist.permissions import ATTEST, LIFT_OR_RENEW, require
from blocklist.roles import actor_label
from blocklist.text import clean_text

DUE_WITHIN_DAYS = 14  # the due list's horizon: blocks whose review date is this close, and those overdue
ATTESTATION_VALID_DAYS = 30  # a re-attestation older than this no longer carries a renewal
MAX_RENEWAL_DAYS = 366  # a renewal sets the next review at most a year ahead: nothing stays silently for longer
DATE_SLACK_DAYS = 1  # a date checked "tomorrow" in UTC is today in Brussels (as CaseDetails.verified_on allows)
MAX_PER_PAGE = 200
MAX_EVIDENCE_REF = 200
MAX_NOTE = 4000
MAX_REASON = 4000


# The words of each refusal (by code), filled with the refusal's values where people read it.
REFUSALS: dict[str, Message] = {
    "bad_date": N_("“%(label)s” must be a date (YYYY-MM-DD)."),
    "content_missing": N_("Say whether the content is still there."),
    "evidence_missing": N_("A re-attestation needs the reference of the evidence of the check."),
    "checked_future": N_("The date checked (%(date)s) cannot be in the future."),
    "checked_before_block": N_("The date checked (%(date)s) is before the block (%(approved_on)s): a re-attestation "
                               "is a new check."),
    "reason_missing": N_("Renewing a block needs a written reason."),
    "date_not_future": N_("The next review date (%(date)s) must be after today (%(today)s)."),
    "date_too_far": N_("The next review date (%(date)s) may be at most %(days)s days ahead (%(latest)s)."),
    "no_attestation": N_("%(name)s cannot be renewed yet: an officer must first re-attest that the content is still "
                         "there."),
    "attestation_stale": N_("The latest re-attestation was checked on %(checked_on)s, more than %(days)s days ago: "
                            "an officer must re-attest first."),
    "content_gone": N_("The latest re-attestation found the content gone: the name is proposed for lifting. Lift "
                       "it, or an officer re-attests that the content is there."),
    "raced": N_("%(name)s was changed by someone else at the same time; reload the page."),
}


class ReviewRefused(InvalidInput):
    """A review input refused before anything was written (422). `code` names the rule (REFUSALS words it in the
    reader's language with `values`); `message` is the service's own English, for logs."""

    def __init__(self, message: str, *, code: str, field: str | None = None, **values: object) -> None:
        super().__init__(message, field=field)
        self.code = code
        self.values = values
        if code in REFUSALS:
            self.text = REFUSALS[code].fill(**values)


class ReviewConflict(Conflict):
    """A review action that the block's state refuses (409): no current re-attestation, content gone, a race."""

    def __init__(self, message: str, *, code: str, **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values
        if code in REFUSALS:
            self.text = REFUSALS[code].fill(**values)


@dataclass(frozen=True)
class DueReview:
    """One block on the due list, as seen on `today`."""

    submission: Submission
    days_left: int  # until the review date; negative when overdue by that many days, 0 on the day itself
    attestation: Attestation | None  # its newest re-attestation since the last renewal (None: none yet)
    today: dt.date

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def proposed_for_lifting(self) -> bool:
        """The newest re-attestation says the content is gone."""
        return self.attestation is not None and not self.attestation.content_present

    @property
    def renewable(self) -> bool:
        """A renewal would be accepted today (the block has a current re-attestation)."""
        return self.attestation is not None and _stale_or_gone(self.attestation, self.today) is None


def _today(today: dt.date | None) -> dt.date:
    return today if today is not None else utcnow().date()


def _proposed_for_lifting() -> ColumnElement[bool]:
    """A submission whose newest re-attestation says the content is gone."""
    newer = aliased(Attestation)
    return exists().where(Attestation.submission_id == Submission.id, Attestation.content_present.is_(False),
                          ~exists().where(newer.submission_id == Attestation.submission_id,
                                          newer.id > Attestation.id))


def due_reviews(
    session: Session, *, today: dt.date | None = None, within_days: int = DUE_WITHIN_DAYS, overdue_only: bool = False,
    page: int = 1, per_page: int = 50,
) -> tuple[list[DueReview], int]:
    """One page of blocks due for review, oldest review date first, and how many there are in all.

    Due: the review date is at most `within_days` after `today` (overdue ones included), or the name is proposed
    for lifting whatever its date. `overdue_only`: only those whose review date has passed (the auditors' list).
    """
    day = _today(today)
    if not 0 <= within_days <= MAX_RENEWAL_DAYS:
        raise InvalidInput(f"due must be a number of days from 0 to {MAX_RENEWAL_DAYS}", field="due")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"page starts at 1 and per_page is 1 to {MAX_PER_PAGE}", field="page")
    if overdue_only:
        condition = and_(queries.is_blocked(), Submission.review_due < day)
    else:
        horizon = day + dt.timedelta(days=within_days)
        condition = and_(queries.is_blocked(), or_(Submission.review_due <= horizon, _proposed_for_lifting()))
    total = session.execute(select(func.count(Submission.id)).where(condition)).scalar_one()
    subs = list(session.execute(select(Submission).where(condition).order_by(Submission.review_due, Submission.id)
                                .limit(per_page).offset((page - 1) * per_page)).scalars())
    current = current_attestations(session, [s.id for s in subs])
    return [DueReview(submission=s, days_left=(s.review_due - day).days if s.review_due else 0,
                      attestation=current.get(s.id), today=day) for s in subs], total


def current_attestations(session: Session, submission_ids: Sequence[int]) -> dict[int, Attestation]:
    """Submission id -> its newest re-attestation, for those with one that no renewal has used yet."""
    found: dict[int, Attestation] = {}
    for start in range(0, len(submission_ids), 500):
        chunk = list(submission_ids[start:start + 500])
        newest = (select(func.max(Attestation.id)).where(Attestation.submission_id.in_(chunk))
                  .group_by(Attestation.submission_id))
        used = select(Renewal.attestation_id)
        for attestation in session.execute(select(Attestation).where(
                Attestation.id.in_(newest), Attestation.id.not_in(used))).scalars():
            found[attestation.submission_id] = attestation
    return found


def attestations(session: Session, submission_id: int) -> list[Attestation]:
    """Every re-attestation of a block, oldest first."""
    return list(session.execute(select(Attestation).where(Attestation.submission_id == submission_id)
                                .order_by(Attestation.id)).scalars())


def attest(
    session: Session, *, actor: User, domain: str, checked_on: dt.date, evidence_ref: str, content_present: bool,
    note: str = "", today: dt.date | None = None,
) -> Attestation:
    """An officer re-attests a blocked name: checked on `checked_on` (not in the future, not before the block),
    the evidence of the check at `evidence_ref`, the content still there or gone (then: proposed for lifting)."""
    require(actor, ATTEST)
    day = _today(today)
    reference = clean_text(evidence_ref, field="evidence_ref", max_length=MAX_EVIDENCE_REF)
    if not reference:
        raise ReviewRefused("a re-attestation needs the reference of the evidence of the check",
                            code="evidence_missing", field="evidence_ref")
    text = clean_text(note, field="note", max_length=MAX_NOTE, multiline=True)
    if not isinstance(content_present, bool):
        raise InvalidInput("content_present must be true or false", field="content_present")
    if checked_on > day + dt.timedelta(days=DATE_SLACK_DAYS):
        raise ReviewRefused(f"the date checked ({checked_on}) cannot be in the future", code="checked_future",
                            field="checked_on", date=checked_on.isoformat())
    sub = workflow.approved_submission(session, domain)
    approved_on = sub.decided_at.date() if sub.decided_at else day
    if checked_on < approved_on:
        raise ReviewRefused(f"the date checked ({checked_on}) is before {sub.domain} was blocked ({approved_on}): "
                            "a re-attestation is a new check", code="checked_before_block", field="checked_on",
                            date=checked_on.isoformat(), approved_on=approved_on.isoformat())
    attestation = Attestation(submission_id=sub.id, checked_on=checked_on, evidence_ref=reference,
                              content_present=content_present, note=text, officer_id=actor.id, at=utcnow())
    session.add(attestation)
    session.flush()
    audit.record(session, actor=actor_label(actor), action="review.attested", object_type="attestation",
                 object_id=attestation.id, domain=sub.domain,
                 details={"submission_id": sub.id, "checked_on": checked_on.isoformat(), "evidence_ref": reference,
                          "content_present": content_present, "note": text,
                          "review_due": sub.review_due.isoformat() if sub.review_due else None})
    return attestation


def _stale_or_gone(attestation: Attestation, today: dt.date) -> ReviewConflict | None:
    """Why this (unused, newest) re-attestation cannot carry a renewal today, or None."""
    if not attestation.content_present:
        return ReviewConflict("the newest re-attestation says the content is gone: the name is proposed for "
                              "lifting; lift it, or an officer re-attests that the content is there",
                              code="content_gone", checked_on=attestation.checked_on.isoformat())
    if (today - attestation.checked_on).days > ATTESTATION_VALID_DAYS:
        return ReviewConflict(f"the newest re-attestation was checked on {attestation.checked_on}, more than "
                              f"{ATTESTATION_VALID_DAYS} days ago: an officer must re-attest first",
                              code="attestation_stale", checked_on=attestation.checked_on.isoformat(),
                              days=ATTESTATION_VALID_DAYS)
    return None


def renew(
    session: Session, *, actor: User, domain: str, review_due: dt.date, reason: str, today: dt.date | None = None,
) -> Renewal:
    """A magistrate keeps a block: its next review on `review_due`, with a written reason, on a current
    re-attestation (the rule in the module's docstring)."""
    require(actor, LIFT_OR_RENEW)
    day = _today(today)
    text = clean_text(reason or "", field="reason", max_length=MAX_REASON, multiline=True)
    if len(text) < 3:
        raise ReviewRefused("renewing a block needs a written reason", code="reason_missing", field="reason")
    if review_due <= day:
        raise ReviewRefused(f"the new review date ({review_due}) must be after today ({day})",
                            code="date_not_future", field="review_due", date=review_due.isoformat(),
                            today=day.isoformat())
    latest = day + dt.timedelta(days=MAX_RENEWAL_DAYS)
    if review_due > latest:
        raise ReviewRefused(f"the new review date ({review_due}) may be at most {MAX_RENEWAL_DAYS} days ahead "
                            f"({latest})", code="date_too_far", field="review_due", date=review_due.isoformat(),
                            latest=latest.isoformat(), days=MAX_RENEWAL_DAYS)
    sub = workflow.approved_submission(session, domain)
    attestation = current_attestations(session, [sub.id]).get(sub.id)
    if attestation is None:
        raise ReviewConflict(f"renewing {sub.domain} needs a re-attestation by an officer since its "
                             f"{'last renewal' if _renewed_before(session, sub.id) else 'approval'}",
                             code="no_attestation", name=sub.domain)
    refusal = _stale_or_gone(attestation, day)
    if refusal is not None:
        raise refusal
    renewal = Renewal(submission_id=sub.id, attestation_id=attestation.id, previous_due=sub.review_due,
                      review_due=review_due, reason=text, magistrate_id=actor.id, at=utcnow())
    try:
        with session.begin_nested():
            session.add(renewal)
            session.flush()
    except IntegrityError:  # another magistrate renewed on the same re-attestation meanwhile
        raise ReviewConflict(f"{sub.domain} was just renewed by someone else", code="raced",
                             name=sub.domain) from None
    moved = session.execute(
        update(Submission).where(Submission.id == sub.id, Submission.status == "approved",
                                 Submission.version == sub.version)
        .values(review_due=review_due, version=Submission.version + 1).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ReviewConflict(f"{sub.domain} was changed by someone else at the same time; try again", code="raced",
                             name=sub.domain)
    session.refresh(sub)
    audit.record(session, actor=actor_label(actor), action="submission.renewed", object_type="submission",
                 object_id=sub.id, domain=sub.domain,
                 details={"reason": text, "review_due": review_due.isoformat(),
                          "previous_review_due": renewal.previous_due.isoformat() if renewal.previous_due else None,
                          "attestation_id": attestation.id, "renewal_id": renewal.id})
    return renewal


def _renewed_before(session: Session, submission_id: int) -> bool:
    found = session.execute(select(Renewal.id).where(Renewal.submission_id == submission_id).limit(1)).first()
    return found is not None
