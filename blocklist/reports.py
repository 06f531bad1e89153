"""Reports of addresses, from the public (the /report form) and from partner hotlines (the API), and the officers'
triage queue: reports grouped by normalised host, dismissed with a reason, or linked to the submission they led to.

Privacy: a report keeps what the reporter typed and nothing about them: no IP address, user agent or cookie (the
table has no column for them), a contact only when one was left. Its audit event names the report and its host
only, never the reporter's contact or text.

A report is stored whole with its receipt or not at all. Any address with a host name in it is kept, even one
that can never be blocked (a bare TLD, a public suffix, a protected name such as google.com): the report may
still matter to an officer (a notice to a platform), the reporter learns nothing about the lists from the
answer, and triage shows it as "not a blockable name". Text that holds no host name at all (empty, an IP
address, characters no name has) is refused at once, saying why, so the reporter can correct it.

Reports of a name already blocked (itself, or under a name blocked with its subdomains) are merged into that
block at intake, and a block's approval merges the reports still open for its name: nothing reported is lost.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.errors import Conflict, Forbidden, InvalidInput, NameRefused, NotFound
from blocklist.models import Partner, Report, ReportOutcome, Submission, User, utcnow
from blocklist.names import NamePolicy, ancestors, normalize
from blocklist.permissions import TRIAGE, require
from blocklist.queries import page_offset
from blocklist.roles import actor_label
from blocklist.text import FormRefused, clean_text, form_text, parse_id

MAX_ADDRESS = 2048
MAX_FOUND_AT = 2048
MAX_DESCRIPTION = 2000
MAX_CONTACT = 254
MAX_REFERENCE = 100
MAX_BULK = 1000
RECEIPT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32: no 0/O or 1/I to misread
RECEIPT_LENGTH = 10  # 50 random bits: a receipt cannot be guessed
SORTS = ("count", "age")
PUBLIC_ACTOR = "public"
SYSTEM_ACTOR = "system"


# A report refused before anything was written (the public forms' one refusal, blocklist/text.py).
ReportRefused = FormRefused


@dataclass(frozen=True)
class ReportIn:
    """What a reporter sends: the address seen, where it was found, a description, a contact, a reference."""

    address: str
    found_at: str = ""
    description: str = ""
    contact: str = ""
    reference: str = ""


@dataclass(frozen=True)
class _Checked:
    host: str
    unicode: str
    address: str
    found_at: str
    description: str
    contact: str | None
    reference: str | None


def check(data: ReportIn, *, prefix: str = "") -> _Checked:
    """The report as it will be stored, or ReportRefused naming the field (`prefix`: its place in a batch)."""
    address = form_text(data.address, field=f"{prefix}address", max_length=MAX_ADDRESS)
    found_at = form_text(data.found_at, field=f"{prefix}found_at", max_length=MAX_FOUND_AT)
    description = form_text(data.description, field=f"{prefix}description", max_length=MAX_DESCRIPTION, multiline=True)
    contact = form_text(data.contact, field=f"{prefix}contact", max_length=MAX_CONTACT)
    reference = form_text(data.reference, field=f"{prefix}reference", max_length=MAX_REFERENCE)
    if not address:
        raise ReportRefused("the address seen is missing", field=f"{prefix}address", code="address_missing")
    try:
        name = normalize(address)
    except NameRefused as exc:
        raise ReportRefused(f"the address holds no host name: {exc.reason}", field=f"{prefix}address",
                            code="not_a_host") from None
    return _Checked(host=name.a_label, unicode=name.u_label, address=address, found_at=found_at,
                    description=description, contact=contact or None, reference=reference or None)


def new_receipt(prefix: str = "R") -> str:
    """A receipt number: `R-` (a report; `A-` an appeal) and 10 random base32 characters."""
    return f"{prefix}-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def covering_block(session: Session, host: str) -> Submission | None:
    """The approved submission that blocks `host` (the name itself, or a parent blocked with its subdomains)."""
    for sub in session.execute(select(Submission).where(Submission.status == "approved",
                                                        Submission.domain.in_(ancestors(host)))).scalars():
        if sub.domain == host or sub.scope == "domain_and_subdomains":
            return sub
    return None


def _store(session: Session, checked: _Checked, *, partner: Partner | None) -> Report:
    report = Report(receipt=new_receipt(), host=checked.host, unicode=checked.unicode, address=checked.address,
                    found_at=checked.found_at, description=checked.description, contact=checked.contact,
                    source="partner" if partner else "public", partner_id=partner.id if partner else None,
                    partner_reference=checked.reference if partner else None, received_at=utcnow())
    session.add(report)
    session.flush()
    # The report's id and host only: never the reporter's contact or text.
    details: dict[str, object] = {"host": checked.host}
    if partner is not None:
        details["partner_reference"] = checked.reference
    audit.record(session, actor=f"partner:{partner.name}" if partner else PUBLIC_ACTOR, action="report.received",
                 object_type="report", object_id=report.id, domain=checked.host, details=details)
    block = covering_block(session, checked.host)
    if block is not None:
        _close(session, [report], outcome="merged", submission_id=block.id, reason="", actor=SYSTEM_ACTOR)
        audit.record(session, actor=SYSTEM_ACTOR, action="report.merged", object_type="submission",
                     object_id=block.id, domain=block.domain, details={"report_ids": [report.id]})
    return report


def receive_public(session: Session, *, data: ReportIn) -> Report:
    """A report from the public form (no reference: that is a partner's); stored whole, or ReportRefused."""
    return _store(session, check(ReportIn(data.address, data.found_at, data.description, data.contact)),
                  partner=None)


def receive_from_partner(session: Session, *, partner: Partner, reports: Sequence[ReportIn]) -> list[Report]:
    """1 to MAX_BULK reports from a partner: all stored, or (any one refused) none."""
    if not partner.active:
        raise Forbidden(f"partner {partner.name!r} is disabled")
    if not 1 <= len(reports) <= MAX_BULK:
        raise InvalidInput(f"send 1 to {MAX_BULK} reports at a time, not {len(reports)}", field="reports")
    checked = [check(r, prefix=f"reports[{i}].") for i, r in enumerate(reports)]
    return [_store(session, c, partner=partner) for c in checked]


def _open() -> ColumnElement[bool]:
    """A report no triage outcome closed yet."""
    return ~exists().where(ReportOutcome.report_id == Report.id)


def _close(session: Session, reports: Sequence[Report], *, outcome: str, submission_id: int | None, reason: str,
           actor: str) -> None:
    """One outcome per report; a report another request closed meanwhile makes the whole action a Conflict."""
    try:
        with session.begin_nested():
            for report in reports:
                session.add(ReportOutcome(report_id=report.id, outcome=outcome, submission_id=submission_id,
                                          reason=reason, actor=actor, at=utcnow()))
            session.flush()
    except IntegrityError:
        raise Conflict("these reports were just handled by someone else; reload the queue", field="reports") from None


@dataclass
class Group:
    """The open reports of one host, as the triage queue shows them."""

    host: str
    unicode: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    status: str | None = None  # the name's latest submission: submitted, approved, lifted, rejected, withdrawn
    submission_id: int | None = None
    blockable: bool = True
    refusal: str | None = None  # why the name cannot be blocked
    reports: list[Report] = field(default_factory=list)


def triage_queue(session: Session, *, actor: User, policy: NamePolicy, sort: str = "count", page: int = 1,
                 per_page: int = 50) -> tuple[list[Group], int]:
    """One page of groups of open reports (most reported first, or oldest first), and how many groups there are."""
    require(actor, TRIAGE)
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", field="sort")
    offset = page_offset(page, per_page)
    count, first, last = func.count(Report.id), func.min(Report.received_at), func.max(Report.received_at)
    grouped = select(Report.host, count, first, last).where(_open()).group_by(Report.host)
    total = session.execute(select(func.count()).select_from(grouped.subquery())).scalar_one()
    order = [count.desc(), first, Report.host] if sort == "count" else [first, Report.host]
    rows = session.execute(grouped.order_by(*order).limit(per_page).offset(offset)).all()
    groups = {host: Group(host=host, unicode=host, count=n, first_seen=_utc(f), last_seen=_utc(la))
              for host, n, f, la in rows}
    if not groups:
        return [], total
    for report in session.execute(select(Report).where(Report.host.in_(groups), _open())
                                  .order_by(Report.id)).scalars():
        group = groups[report.host]
        group.unicode = report.unicode
        group.reports.append(report)
    for sub in session.execute(select(Submission).where(Submission.domain.in_(groups))
                               .order_by(Submission.id)).scalars():
        groups[sub.domain].status, groups[sub.domain].submission_id = sub.status, sub.id  # the newest wins
    for group in groups.values():
        verdict = policy.verdict(group.host)
        group.blockable, group.refusal = verdict.accepted, verdict.reason
    return list(groups.values()), total


def _utc(value: object) -> dt.datetime:
    # min()/max() over a UtcDateTime column come back without the type's processing on SQLite.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _host(typed: str) -> str:
    try:
        return normalize(clean_text(typed, field="host", max_length=MAX_ADDRESS)).a_label
    except NameRefused as exc:
        raise NotFound(f"no open reports of {typed!r}: {exc.reason}") from None


def open_reports(session: Session, host: str) -> list[Report]:
    """The open reports of a host, oldest first."""
    return list(session.execute(select(Report).where(Report.host == host, _open())
                                .order_by(Report.id)).scalars())


def dismiss(session: Session, *, actor: User, host: str, reason: str) -> list[Report]:
    """Dismiss every open report of a host, with a written reason; returns them."""
    require(actor, TRIAGE)
    name = _host(host)
    text = clean_text(reason or "", field="reason", max_length=4000, multiline=True)
    if len(text) < 3:
        raise InvalidInput("dismissing reports needs a written reason", field="reason")
    reports = open_reports(session, name)
    if not reports:
        raise NotFound(f"no open reports of {name}")
    _close(session, reports, outcome="dismissed", submission_id=None, reason=text, actor=actor_label(actor))
    audit.record(session, actor=actor_label(actor), action="report.dismissed", object_type="report_group",
                 object_id=name, domain=name, details={"report_ids": [r.id for r in reports], "reason": text})
    return reports


def link(session: Session, *, actor: User, submission: Submission, report_ids: Sequence[int]) -> None:
    """Link open reports of the submission's name (or of names under it, when its scope covers them) to it."""
    if not report_ids:
        return
    ids = sorted({parse_id(i, field="report_ids") for i in report_ids})
    reports = list(session.execute(select(Report).where(Report.id.in_(ids))).scalars())
    missing = sorted(set(ids) - {r.id for r in reports})
    if missing:
        raise InvalidInput(f"no report #{missing[0]}", field="report_ids")
    closed = session.execute(select(ReportOutcome.report_id).where(ReportOutcome.report_id.in_(ids))).scalars().first()
    if closed is not None:
        raise Conflict(f"report #{closed} was already dismissed, linked or merged", field="report_ids")
    for report in reports:
        under = submission.scope == "domain_and_subdomains" and report.host.endswith("." + submission.domain)
        if report.host != submission.domain and not under:
            raise InvalidInput(f"report #{report.id} is of {report.host}, not of {submission.domain}",
                               field="report_ids")
    _close(session, reports, outcome="linked", submission_id=submission.id, reason="", actor=actor_label(actor))
    audit.record(session, actor=actor_label(actor), action="report.linked", object_type="submission",
                 object_id=submission.id, domain=submission.domain, details={"report_ids": ids})


def merge_into_blocks(session: Session, *, actor: User, subs: Sequence[Submission]) -> None:
    """At approval: the reports still open of each name now blocked are merged into its block."""
    for start in range(0, len(subs), 200):
        chunk = {s.domain: s for s in subs[start:start + 200]}
        wide = [s.domain for s in chunk.values() if s.scope == "domain_and_subdomains"]
        found = session.execute(select(Report).where(
            _open(), or_(Report.host.in_(chunk), *(Report.host.like(f"%.{d}") for d in wide)))
            .order_by(Report.id)).scalars()
        merged: dict[int, list[Report]] = {}
        for report in found:
            block = chunk.get(report.host) or next(
                (chunk[d] for d in ancestors(report.host)[1:] if d in chunk and d in wide), None)
            if block is not None:
                merged.setdefault(block.id, []).append(report)
        for sub_id, reports in merged.items():
            sub = next(s for s in chunk.values() if s.id == sub_id)
            _close(session, reports, outcome="merged", submission_id=sub_id, reason="", actor=actor_label(actor))
            audit.record(session, actor=actor_label(actor), action="report.merged", object_type="submission",
                         object_id=sub_id, domain=sub.domain, details={"report_ids": [r.id for r in reports]})


def get_by_receipt(session: Session, receipt: str) -> Report:
    """A report by its receipt number (for staff), or NotFound."""
    report = session.execute(select(Report).where(Report.receipt == receipt)).scalar_one_or_none()
    if report is None:
        raise NotFound(f"no report {receipt!r}")
    return report


def merged_ids(session: Session, report_ids: Sequence[int]) -> set[int]:
    """Which of these reports were merged into a block."""
    found: set[int] = set()
    for start in range(0, len(report_ids), 500):
        found.update(session.execute(select(ReportOutcome.report_id).where(
            ReportOutcome.report_id.in_(report_ids[start:start + 500]), ReportOutcome.outcome == "merged")).scalars())
    return found
