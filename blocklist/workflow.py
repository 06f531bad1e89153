"""The four-eyes workflow: submitted -> approved | rejected | withdrawn; approved -> lifted.

Services flush and audit inside the caller's transaction; the caller commits once, so a refused
operation leaves the database and the audit chain exactly as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from blocklist import audit, hosting, labels, paging, queries, reports
from blocklist.errors import BlocklistError, Conflict, Duplicate, Forbidden, InvalidInput, NameRefused, NotFound
from blocklist.i18n import N_, Message
from blocklist.isps import isp_own_domains
from blocklist.models import AuditEvent, Order, ProtectedOverride, Submission, User, utcnow
from blocklist.names import NamePolicy, normalize
from blocklist.roles import actor_label, require_role
from blocklist.schemas import CaseDetails, SubmissionCreate
from blocklist.text import clean_text
from blocklist.vocab import ACTIVE_STATUSES, LEGAL_BASES, STATUSES

DEFAULT_REVIEW_DAYS = 182


def name_policy(
    session: Session, *, extra_protected: Sequence[str] = (), extra_platforms: Sequence[str] = ()
) -> NamePolicy:
    """The name checks in force: shipped lists, configured extras and the ISPs' own domains."""
    return NamePolicy.build([*extra_protected, *isp_own_domains(session)], extra_platforms)


def _overrides_for(session: Session, a_label: str) -> list[str]:
    found = session.execute(select(ProtectedOverride.domain).where(ProtectedOverride.domain == a_label)).first()
    return [a_label] if found else []


def _duplicate(a_label: str, existing: Submission) -> Duplicate:
    values = {"name": a_label, "id": existing.id, "case": existing.case_number}
    return Duplicate(N_("%(name)s is already pending as submission #%(id)s (case %(case)s)", **values)
                     if existing.status == "submitted" else
                     N_("%(name)s is already blocked as submission #%(id)s (case %(case)s)", **values),
                     existing_id=existing.id)


def _reason(reason: str | None, missing: Message | None = None) -> str:
    """The reason as stored; `missing`: the refusal when it is required and none was written."""
    text = clean_text(reason or "", field="reason", max_length=4000, multiline=True)
    if missing is not None and len(text) < 3:
        raise InvalidInput(missing, field="reason")
    return text


def _checked_case(data: SubmissionCreate) -> SubmissionCreate:
    """The case's text fields as they will be stored, or InvalidInput naming the first bad one."""
    court = data.court_order
    return data.model_copy(update={
        "case_number": clean_text(data.case_number, field="case_number", max_length=100),
        "evidence_ref": clean_text(data.evidence_ref, field="evidence_ref", max_length=200),
        "note": clean_text(data.note, field="note", max_length=4000, multiline=True),
        "court_order": None if court is None else court.model_copy(update={
            "court": clean_text(court.court, field="court_order.court", max_length=200),
            "reference": clean_text(court.reference, field="court_order.reference", max_length=100)}),
    })


def submission_details(sub: Submission) -> dict[str, Any]:
    """The legal record of a submission, as written into the audit chain."""
    return {
        "domain": sub.domain, "unicode": sub.unicode, "typed": sub.typed, "scope": sub.scope,
        "flags": sub.flag_list, "legal_basis": sub.legal_basis, "case_number": sub.case_number,
        "evidence_ref": sub.evidence_ref, "verified_on": sub.verified_on.isoformat(),
        "court": sub.court, "court_date": sub.court_date.isoformat() if sub.court_date else None,
        "court_reference": sub.court_reference, "note": sub.note, "override_id": sub.override_id,
        "hosting_country": sub.hosting_country, "hosting_provider": sub.hosting_provider,
        "hosting_abuse_email": sub.hosting_abuse_email, "notice_language": sub.notice_language,
    }


def _hosting(case: CaseDetails, *, actor: User, domain: str | None = None) -> hosting.Hosting:
    return hosting.checked(country=case.hosting_country, provider=case.hosting_provider,
                           abuse_email=case.hosting_abuse_email, notice_language=case.notice_language,
                           domain=domain)


def active_submission(session: Session, a_label: str) -> Submission | None:
    """The pending or approved record for a name, if any."""
    return session.execute(
        select(Submission).where(Submission.domain == a_label, Submission.status.in_(ACTIVE_STATUSES))
    ).scalar_one_or_none()


def submit(session: Session, *, actor: User, data: SubmissionCreate, policy: NamePolicy) -> Submission:
    """Record an officer's verified domain; refuses bad, protected or already listed names."""
    require_role(actor, "officer", action="submit domains")
    data = _checked_case(data)
    checked = policy.check(data.domain, scope=data.scope, overrides=_overrides_for_any(session, data.domain))
    a_label = checked.name.a_label
    place = _hosting(data, actor=actor, domain=a_label)
    existing = active_submission(session, a_label)
    if existing is not None:
        raise _duplicate(a_label, existing)
    override_id = None
    if checked.override_for is not None:
        override_id = session.execute(
            select(ProtectedOverride.id)
            .where(ProtectedOverride.domain == a_label)
            .order_by(ProtectedOverride.id.desc())
        ).scalars().first()
    court = data.court_order
    sub = Submission(
        domain=a_label, unicode=checked.name.u_label, typed=data.domain, scope=data.scope,
        flags=",".join(checked.flags), legal_basis=data.legal_basis, case_number=data.case_number,
        evidence_ref=data.evidence_ref, verified_on=data.verified_on,
        court=court.court if court else None, court_date=court.date if court else None,
        court_reference=court.reference if court else None, note=data.note, override_id=override_id,
        hosting_country=place.country, hosting_provider=place.provider, hosting_abuse_email=place.abuse_email,
        notice_language=place.notice_language,
        status="submitted", version=1, submitted_by=actor.id, submitted_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(sub)
            session.flush()
    except IntegrityError:
        # Another transaction listed the same name between our check and our insert.
        raced = active_submission(session, a_label)
        raise Duplicate(N_("%(name)s was just submitted by someone else", name=a_label),
                        existing_id=raced.id if raced else 0) from None
    audit.record(session, actor=actor_label(actor), action="submission.created", object_type="submission",
                 object_id=sub.id, domain=a_label, details=submission_details(sub))
    reports.link(session, actor=actor, submission=sub, report_ids=data.report_ids)
    return sub


@dataclass(frozen=True)
class BulkResult:
    """What became of one name of a bulk submission: its submission, or why it was refused (`code`: a name
    check's code, or one of vocab.BULK_REFUSALS)."""

    typed: str
    submission: Submission | None = None
    reason: str | None = None
    code: str | None = None
    a_label: str | None = None  # the name as normalised, when it was one

    @property
    def accepted(self) -> bool:
        return self.submission is not None


def check_case(case: CaseDetails, *, actor: User) -> dict[str, Any]:
    """The case details every name of a bulk submission shares, as each name's submission takes them. A bad one
    (a missing country, a control character...) refuses the whole batch, as it would refuse a single name."""
    require_role(actor, "officer", action="submit domains")
    _hosting(case, actor=actor)
    shared = case.model_dump(include=set(CaseDetails.model_fields))  # a subclass may carry more (the names)
    _checked_case(SubmissionCreate(domain="case.invalid", **shared))
    return shared


def submit_one(session: Session, *, actor: User, shared: dict[str, Any], typed: str, policy: NamePolicy,
               seen: set[str] | None = None) -> BulkResult:
    """One name of a bulk submission under the case details `check_case` gave: recorded, or refused with a code
    (in a savepoint: a refused name leaves nothing behind). `seen` holds the names already met in this batch."""
    try:
        data = SubmissionCreate(domain=typed, **shared)
    except ValidationError as exc:  # the per-name part of the schema (e.g. an empty or overlong line)
        return BulkResult(typed, reason="; ".join(str(e["msg"]) for e in exc.errors()), code="invalid")
    a_label = None
    try:
        a_label = policy.check(typed, scope=data.scope, overrides=_overrides_for_any(session, typed)).name.a_label
        if seen is not None and a_label in seen:
            return BulkResult(typed, reason=f"{a_label} appears twice in this batch", code="repeated",
                              a_label=a_label)
        if seen is not None:
            seen.add(a_label)
        with session.begin_nested():
            return BulkResult(typed, submission=submit(session, actor=actor, data=data, policy=policy),
                              a_label=a_label)
    except NameRefused as exc:
        return BulkResult(typed, reason=exc.message, code=exc.code, a_label=a_label)
    except Duplicate as exc:
        return BulkResult(typed, reason=exc.message, code="duplicate", a_label=a_label)
    except BlocklistError as exc:
        code = "invalid" if isinstance(exc, InvalidInput) else "refused"
        return BulkResult(typed, reason=exc.message, code=code, a_label=a_label)


def submit_many(
    session: Session, *, actor: User, case: CaseDetails, domains: Sequence[str], policy: NamePolicy
) -> list[BulkResult]:
    """Many names under one case (the API's synchronous bulk submission): a result per name, in order.

    Each name is recorded or refused on its own; a name typed twice in one batch is refused the second time. The
    case details are checked once (blocklist/batches.py runs the same steps in the background, chunk by chunk).
    """
    shared = check_case(case, actor=actor)
    seen: set[str] = set()
    return [submit_one(session, actor=actor, shared=shared, typed=typed, policy=policy, seen=seen)
            for typed in domains]


def _overrides_for_any(session: Session, typed: str) -> list[str]:
    try:
        return _overrides_for(session, normalize(typed).a_label)
    except NameRefused:
        return []


def get_submission(session: Session, submission_id: int) -> Submission:
    """One submission, or NotFound."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound(N_("no submission #%(id)s", id=submission_id))
    return sub


def list_submissions(
    session: Session, *, status: str | None = None, case_number: str | None = None,
    submitted_by: int | None = None, limit: int = 500, offset: int = 0,
) -> list[Submission]:
    """Submissions, newest first, optionally filtered."""
    query = select(Submission).order_by(Submission.id.desc()).limit(limit).offset(offset)
    if status:
        query = query.where(Submission.status == status)
    if case_number:  # a search: as long as anything typed, but never a character the database refuses
        query = query.where(Submission.case_number == clean_text(case_number, field="case_number",
                                                                 max_length=2048))
    if submitted_by is not None:
        query = query.where(Submission.submitted_by == submitted_by)
    return list(session.execute(query).scalars())


# The columns a list of submissions sorts by (the pages' `sort=`): a queue waits oldest first.
SUBMISSION_SORTS: dict[str, paging.Column] = {
    "submitted": Submission.submitted_at, "id": Submission.id, "domain": Submission.domain,
    "case": Submission.case_number, "decided": Submission.decided_at, "review": Submission.review_due,
}


def submission_page(
    session: Session, *, status: str | None = None, case: str = "", legal_basis: str = "", flag: str = "",
    submitted_by: int | None = None, sort: str = "submitted", order: str = "asc", page: int = 1,
    per_page: int = paging.PER_PAGE,
) -> paging.Page[Submission]:
    """One page of submissions and their true total (the magistrate's queue, an officer's own, the blocked names):
    `case` matches part of a case number whatever its case; the other filters exactly. A bad filter is InvalidInput."""
    query = select(Submission)
    if status:
        if status not in STATUSES:
            raise InvalidInput(N_("unknown status %(value)s", value=repr(status)), field="status")
        query = query.where(Submission.status == status)
    case = clean_text(case, field="case", max_length=100).strip()
    if case:
        query = query.where(paging.contains(Submission.case_number, case))
    if legal_basis:
        if legal_basis not in LEGAL_BASES:
            raise InvalidInput(N_("unknown legal basis %(value)s", value=repr(legal_basis)), field="legal_basis")
        query = query.where(Submission.legal_basis == legal_basis)
    if flag:
        if flag not in labels.FLAG:
            raise InvalidInput(N_("unknown warning %(value)s", value=repr(flag)), field="flag")
        # The flags are stored comma separated: match a whole one, never a part of another.
        query = query.where(("," + Submission.flags + ",").like(f"%,{flag},%"))
    if submitted_by is not None:
        query = query.where(Submission.submitted_by == submitted_by)
    query = paging.order_by(query, sort=sort, order=order, columns=SUBMISSION_SORTS, tie=Submission.id)
    return paging.fetch(session, query, page=page, per_page=per_page)


def _transition(session: Session, sub: Submission, *, to: str, values: dict[str, Any]) -> None:
    """Move a pending submission to a decided state; exactly one of two racing decisions wins."""
    result = session.execute(
        update(Submission)
        .where(Submission.id == sub.id, Submission.status == "submitted", Submission.version == sub.version)
        .values(status=to, version=Submission.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(sub)
        raise Conflict(N_("submission #%(id)s (%(name)s) was already decided: it is %(status)s", id=sub.id,
                          name=sub.domain, status=labels.STATUS.get(sub.status, sub.status)))
    # The row now holds exactly these values: the loaded object is told so, instead of reading the row again.
    for key, value in {**values, "status": to, "version": sub.version + 1}.items():
        set_committed_value(sub, key, value)


def _check_pending(sub: Submission) -> None:
    if sub.status != "submitted":
        raise Conflict(N_("submission #%(id)s (%(name)s) is %(status)s, not pending", id=sub.id, name=sub.domain,
                          status=labels.STATUS.get(sub.status, sub.status)))


def _check_four_eyes(actor: User, sub: Submission) -> None:
    if sub.submitted_by == actor.id:
        raise Forbidden(N_("four eyes: %(user)s submitted #%(id)s and cannot decide on it", user=repr(actor.username),
                           id=sub.id))


def approvable(session: Session, *, actor: User, submission_ids: Sequence[int]) -> list[Submission]:
    """The submissions `actor` may approve together now, in order; else the refusal `approve` would give (a page
    asks for confirmation only of what can be done)."""
    require_role(actor, "magistrate", action="approve submissions")
    if not submission_ids:
        raise InvalidInput(N_("select at least one submission to approve"), field="ids")
    if len(set(submission_ids)) != len(submission_ids):
        raise InvalidInput(N_("the same submission is listed twice"), field="ids")
    subs = [get_submission(session, i) for i in submission_ids]
    for sub in subs:
        _check_four_eyes(actor, sub)
        _check_pending(sub)
    return subs


def pending_of_case(session: Session, case_number: str, *, most: int = 10_000) -> list[int]:
    """The ids of the pending submissions of one case (its number exactly, whatever its case), oldest first: a
    magistrate decides a whole case at once."""
    text = clean_text(case_number, field="pick_case", max_length=100).strip()
    if not text:
        raise InvalidInput(N_("enter the case number whose submissions to decide"), field="pick_case")
    return list(session.execute(
        select(Submission.id).where(Submission.status == "submitted",
                                    func.lower(Submission.case_number) == text.lower())
        .order_by(Submission.submitted_at, Submission.id).limit(most)).scalars())


def liftable(session: Session, *, actor: User, domain: str, reason: str) -> Submission:
    """The blocked record `actor` may lift with this reason; else the refusal `lift` would give."""
    require_role(actor, "magistrate", action="lift blocks")
    _reason(reason, N_("lifting a block needs a written reason"))
    return approved_submission(session, domain)


def approve(
    session: Session, *, actor: User, submission_ids: Sequence[int], reason: str | None = None,
    review_days: int = DEFAULT_REVIEW_DAYS,
) -> Order:
    """Approve pending submissions together as one blocking order (all or none)."""
    subs = approvable(session, actor=actor, submission_ids=submission_ids)
    now = utcnow()
    order = Order(kind="block", magistrate_id=actor.id, reason=_reason(reason), created_at=now)
    session.add(order)
    session.flush()
    review_due = now.date() + dt.timedelta(days=review_days)
    for sub in subs:
        _transition(session, sub, to="approved", values={
            "decided_by": actor.id, "decided_at": now, "decision_reason": order.reason,
            "order_id": order.id, "review_due": review_due,
        })
        audit.record(session, actor=actor_label(actor), action="submission.approved", object_type="submission",
                     object_id=sub.id, domain=sub.domain, order_id=order.id,
                     details={"order_id": order.id, "reason": order.reason, "review_due": review_due.isoformat()})
    audit.record(session, actor=actor_label(actor), action="order.created", object_type="order", object_id=order.id,
                 order_id=order.id, details={"kind": "block", "submissions": list(submission_ids),
                          "domains": [s.domain for s in subs], "reason": order.reason})
    reports.merge_into_blocks(session, actor=actor, subs=subs)  # nothing reported of these names is lost
    return order


def reject(session: Session, *, actor: User, submission_id: int, reason: str) -> Submission:
    """Reject a pending submission, with a written reason."""
    require_role(actor, "magistrate", action="reject submissions")
    sub = get_submission(session, submission_id)
    _check_four_eyes(actor, sub)
    _check_pending(sub)
    text = _reason(reason, N_("a rejection needs a written reason"))
    _transition(session, sub, to="rejected",
                values={"decided_by": actor.id, "decided_at": utcnow(), "decision_reason": text})
    audit.record(session, actor=actor_label(actor), action="submission.rejected", object_type="submission",
                 object_id=sub.id, domain=sub.domain, details={"reason": text})
    return sub


def withdraw(session: Session, *, actor: User, submission_id: int, reason: str | None = None) -> Submission:
    """The submitting officer withdraws a pending submission."""
    require_role(actor, "officer", action="withdraw submissions")
    sub = get_submission(session, submission_id)
    if sub.submitted_by != actor.id:
        raise Forbidden(N_("only the officer who submitted #%(id)s may withdraw it", id=sub.id))
    _check_pending(sub)
    text = _reason(reason)
    _transition(session, sub, to="withdrawn",
                values={"decided_by": actor.id, "decided_at": utcnow(), "decision_reason": text})
    audit.record(session, actor=actor_label(actor), action="submission.withdrawn", object_type="submission",
                 object_id=sub.id, domain=sub.domain, details={"reason": text})
    return sub


def approved_submission(session: Session, domain: str) -> Submission:
    """The approved (blocked) record for a name, or NotFound."""
    a_label = normalize(domain).a_label
    sub = session.execute(
        select(Submission).where(Submission.domain == a_label, queries.is_blocked())
    ).scalar_one_or_none()
    if sub is None:
        raise NotFound(N_("%(name)s is not currently blocked", name=a_label))
    return sub


def lift(session: Session, *, actor: User, domain: str, reason: str) -> Order:
    """Lift a block (a lifting order); the name may be submitted again afterwards."""
    sub = liftable(session, actor=actor, domain=domain, reason=reason)
    text = _reason(reason)
    now = utcnow()
    order = Order(kind="lift", magistrate_id=actor.id, reason=text, created_at=now)
    session.add(order)
    session.flush()
    result = session.execute(
        update(Submission)
        .where(Submission.id == sub.id, Submission.status == "approved", Submission.version == sub.version)
        .values(status="lifted", version=Submission.version + 1, lifted_by=actor.id, lifted_at=now,
                lift_reason=text, lift_order_id=order.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(N_("%(name)s was changed by someone else at the same time; try again", name=sub.domain))
    session.refresh(sub)
    audit.record(session, actor=actor_label(actor), action="submission.lifted", object_type="submission",
                 object_id=sub.id, domain=sub.domain, order_id=order.id, details={"order_id": order.id, "reason": text})
    audit.record(session, actor=actor_label(actor), action="order.created", object_type="order", object_id=order.id,
                 order_id=order.id,
                 details={"kind": "lift", "submissions": [sub.id], "domains": [sub.domain], "reason": text})
    return order


def create_override(session: Session, *, actor: User, domain: str, reason: str) -> ProtectedOverride:
    """A magistrate's written permission to submit one protected name."""
    require_role(actor, "magistrate", action="override the protected list")
    text = _reason(reason, N_("an override of the protected list needs a written reason"))
    a_label = normalize(domain).a_label
    override = ProtectedOverride(domain=a_label, reason=text, magistrate_id=actor.id, created_at=utcnow())
    session.add(override)
    session.flush()
    audit.record(session, actor=actor_label(actor), action="protected.override", object_type="override",
                 object_id=override.id, domain=a_label, details={"reason": text})
    return override


def history(session: Session, domain: str) -> list[AuditEvent]:
    """Every audit event about a name, in order: submission, decisions, and what its orders caused
    (requisitions, feed versions), linked through the order id."""
    a_label = normalize(domain).a_label
    order_ids: set[int] = set()
    for block_order, lift_order in session.execute(
        select(Submission.order_id, Submission.lift_order_id).where(Submission.domain == a_label)
    ):
        order_ids.update(i for i in (block_order, lift_order) if i is not None)
    return audit.events_for_domain(session, a_label, sorted(order_ids))


def approved_names(session: Session) -> list[Submission]:
    """Every currently blocked name, by name."""
    return list(session.execute(
        select(Submission).where(Submission.status == "approved").order_by(Submission.domain)
    ).scalars())
