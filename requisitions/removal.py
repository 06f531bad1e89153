"""Removal notices to the hosting provider of a site hosted in Belgium, under the e-commerce law (Law of 11 March
2003, Articles 20 and 21): takedown first, blocking meanwhile.

Once a name hosted in Belgium (blocklist/hosting.py) is approved, the scheduler issues its notice: a document of
kind `removal` (the requisitions' templates, layout and PDF rendering), in the language the officer chose, to the
provider and abuse address recorded on the submission. With an address it is delivered like a requisition
(requisitions/delivery.py NOTICES: retries, evidence); without one it is `no_address` and officers deliver it by
hand. Officers then record that the provider acknowledged it and that the site is gone (each an audit event, each
once). A site recorded gone is proposed to the magistrates for lifting: its block stays until a magistrate lifts it
with the ordinary lift (blocklist/workflow.py); nothing is lifted by itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import make_msgid

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blocklist import audit, queries
from blocklist.errors import Conflict, InvalidInput, NotFound
from blocklist.hosting import BELGIUM, DEFAULT_NOTICE_LANGUAGE
from blocklist.i18n import pgettext
from blocklist.models import Order, Submission, User, utcnow
from blocklist.permissions import RECORD_REMOVALS, require
from blocklist.roles import actor_label
from blocklist.settings import Settings
from blocklist.text import clean_text
from requisitions.document import Addressee, CaseRef, NamedDomain, RequisitionDocument
from requisitions.mail import MESSAGE_ID_DOMAIN
from requisitions.models import NOTICE_STATUSES, RemovalNotice, RemovalOutcome
from requisitions.render import RenderedRequisition, render
from requisitions.service import authority

LIST_STATUSES = NOTICE_STATUSES
LEGAL_BASIS = "ecommerce_law"  # what a notice rests on, whatever the block's own basis
_SLACK = dt.timedelta(days=1)  # dates are Brussels dates; the server counts in UTC


@dataclass(frozen=True)
class NoticeDraft:
    """A notice ready to render, and what it is stored with."""

    doc: RequisitionDocument
    submission_id: int
    order_id: int
    provider: str | None
    email: str | None


def _owed() -> ColumnElement[bool]:
    """A submission owed a notice: blocked, hosted in Belgium, none issued yet."""
    return and_(queries.is_blocked(), Submission.hosting_country == BELGIUM,
                ~exists().where(RemovalNotice.submission_id == Submission.id))


def awaiting_notice(session: Session) -> list[int]:
    """The approved submissions hosted in Belgium that have no removal notice yet, oldest first."""
    return list(session.execute(select(Submission.id).where(_owed()).order_by(Submission.id)).scalars())


def _owed_submission(session: Session, submission_id: int) -> Submission | None:
    return session.execute(select(Submission).where(Submission.id == submission_id, _owed())).scalar_one_or_none()


def reference_for(submission_id: int, when: dt.datetime) -> str:
    """RN-<year>-<submission>: one notice per submission."""
    return f"RN-{when.year}-{submission_id:06d}"


def draft(session: Session, *, submission_id: int, settings: Settings) -> NoticeDraft | None:
    """The notice owed for a submission (None when it is owed none, or already has one)."""
    sub = _owed_submission(session, submission_id)
    if sub is None or sub.order_id is None:
        return None
    order = session.get(Order, sub.order_id)
    magistrate = session.get(User, order.magistrate_id) if order else None
    language = sub.notice_language or DEFAULT_NOTICE_LANGUAGE
    now = utcnow()
    doc = RequisitionDocument(
        kind="removal", reference=reference_for(sub.id, now), language=language,  # type: ignore[arg-type]
        issued_at=now, deadline=now + dt.timedelta(hours=settings.requisition_deadline_hours),
        authority=authority(settings), magistrate=magistrate.display_name if magistrate else settings.authority_name,
        isp=Addressee(name=sub.hosting_provider or pgettext(language, "addressee", "Hosting provider"), operator_id="",
                      email=sub.hosting_abuse_email or ""),
        names=(NamedDomain(a_label=sub.domain, unicode=sub.unicode, scope=sub.scope),),
        cases=(CaseRef(case_number=sub.case_number, legal_basis=LEGAL_BASIS),),
        feed_serial=None, stop_page_name=settings.stop_page_host)
    return NoticeDraft(doc, sub.id, sub.order_id, sub.hosting_provider, sub.hosting_abuse_email)


def store(session: Session, notice_draft: NoticeDraft, rendered: RenderedRequisition,
          actor: str = "system") -> RemovalNotice | None:
    """Write a rendered notice (pending delivery, or to deliver by hand) and audit it with its PDF's SHA-256; None
    when the submission meanwhile got its notice or stopped being owed one."""
    if _owed_submission(session, notice_draft.submission_id) is None:
        return None
    doc, now = notice_draft.doc, utcnow()
    notice = RemovalNotice(
        reference=doc.reference, submission_id=notice_draft.submission_id, order_id=notice_draft.order_id,
        domain=doc.names[0].a_label, unicode=doc.names[0].unicode, language=doc.language,
        provider=notice_draft.provider, email=notice_draft.email, subject=rendered.subject, body_text=rendered.text,
        pdf=rendered.pdf, pdf_sha256=rendered.sha256,
        message_id=make_msgid(idstring=doc.reference, domain=MESSAGE_ID_DOMAIN), created_at=now,
        deadline=doc.deadline, status="pending" if notice_draft.email else "no_address", attempts=0,
        next_attempt_at=now if notice_draft.email else None)
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:  # another worker stored the same submission's notice first
        return None
    audit.record(session, actor=actor, action="removal_notice.created", object_type="removal_notice",
                 object_id=notice.id, domain=notice.domain, order_id=notice.order_id,
                 details={"reference": notice.reference, "submission_id": notice.submission_id,
                          "language": notice.language, "provider": notice.provider, "email": notice.email,
                          "deliver_by_hand": notice.email is None, "pdf_sha256": notice.pdf_sha256,
                          "deadline": notice.deadline.isoformat(), "legal_basis": LEGAL_BASIS})
    return notice


def issue(session: Session, *, submission_id: int, settings: Settings, actor: str = "system") -> RemovalNotice | None:
    """Draft, render and store a submission's notice in this transaction (the scheduler's job renders outside any
    transaction instead: requisitions/jobs.py)."""
    notice_draft = draft(session, submission_id=submission_id, settings=settings)
    return None if notice_draft is None else store(session, notice_draft, render(notice_draft.doc), actor)


def list_notices(session: Session, *, status: str | None = None, limit: int = 1000) -> list[RemovalNotice]:
    """Notices, newest first, optionally of one status."""
    if status is not None and status not in LIST_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(LIST_STATUSES)}", field="status")
    query = select(RemovalNotice).order_by(RemovalNotice.id.desc()).limit(limit)
    if status is not None:
        query = query.where(RemovalNotice.status == status)
    return list(session.execute(query).scalars())


def get_notice(session: Session, notice_id: int) -> RemovalNotice:
    """One notice, or NotFound."""
    notice = session.get(RemovalNotice, notice_id)
    if notice is None:
        raise NotFound(f"no removal notice #{notice_id}")
    return notice


def _day(value: dt.date | None, *, field: str, notice: RemovalNotice, after_issue: bool) -> dt.date:
    today = utcnow().date()
    day = value or today
    if day > today + _SLACK:
        raise InvalidInput(f"{field} cannot be in the future", field=field)
    if after_issue and day < notice.created_at.date() - _SLACK:
        raise InvalidInput(f"{field} is before notice {notice.reference} was issued "
                           f"({notice.created_at.date().isoformat()})", field=field)
    return day


def _record(session: Session, *, actor: User, notice: RemovalNotice, kind: str, day: dt.date,
            reference: str) -> RemovalOutcome:
    done = notice.outcome(kind)
    if done is not None:
        raise Conflict(f"removal notice {notice.reference} ({notice.domain}) was already recorded as {kind} on "
                       f"{done.happened_on.isoformat()} by {done.actor}")
    outcome = RemovalOutcome(notice_id=notice.id, kind=kind, happened_on=day, reference=reference,
                             actor=actor_label(actor), at=utcnow())
    session.add(outcome)
    # Nothing more to send once the provider knows; "removed" is the last word whatever came before.
    if notice.status != "removed":
        notice.status = kind
    notice.next_attempt_at = None
    session.flush()
    session.expire(notice, ["outcomes"])
    return outcome


def acknowledge(session: Session, *, actor: User, notice_id: int, on: dt.date | None = None,
                reference: str = "") -> RemovalNotice:
    """An officer records that the provider acknowledged the notice (on a date, today unless told; with the
    provider's own reference, if any). Once per notice."""
    require(actor, RECORD_REMOVALS)
    notice = get_notice(session, notice_id)
    text = clean_text(reference, field="reference", max_length=200)
    day = _day(on, field="acknowledged_on", notice=notice, after_issue=True)
    _record(session, actor=actor, notice=notice, kind="acknowledged", day=day, reference=text)
    audit.record(session, actor=actor_label(actor), action="removal_notice.acknowledged",
                 object_type="removal_notice", object_id=notice.id, domain=notice.domain, order_id=notice.order_id,
                 details={"reference": notice.reference, "acknowledged_on": day.isoformat(),
                          "provider_reference": text})
    return notice


def record_removed(session: Session, *, actor: User, notice_id: int, on: dt.date | None,
                   evidence_ref: str) -> RemovalNotice:
    """An officer records that the site is gone (the date it was found gone, the evidence reference of that
    finding). Once per notice; the name is then proposed for lifting, and stays blocked until a magistrate lifts it."""
    require(actor, RECORD_REMOVALS)
    notice = get_notice(session, notice_id)
    evidence = clean_text(evidence_ref, field="evidence_ref", max_length=200)
    if not evidence:
        raise InvalidInput("recording a removal needs the evidence reference of the finding", field="evidence_ref")
    if on is None:
        raise InvalidInput("recording a removal needs the date the site was found gone", field="removed_on")
    day = _day(on, field="removed_on", notice=notice, after_issue=False)
    _record(session, actor=actor, notice=notice, kind="removed", day=day, reference=evidence)
    audit.record(session, actor=actor_label(actor), action="removal_notice.removed", object_type="removal_notice",
                 object_id=notice.id, domain=notice.domain, order_id=notice.order_id,
                 details={"reference": notice.reference, "removed_on": day.isoformat(), "evidence_ref": evidence,
                          "proposed_for_lifting": True})
    return notice


def proposed_for_lifting(session: Session) -> list[tuple[Submission, RemovalNotice]]:
    """Blocked names whose site was recorded removed: proposed to the magistrates for lifting, oldest first."""
    rows = session.execute(
        select(Submission, RemovalNotice).join(RemovalNotice, RemovalNotice.submission_id == Submission.id)
        .where(queries.is_blocked(), RemovalNotice.status == "removed").order_by(RemovalNotice.id))
    return [(sub, notice) for sub, notice in rows]
