"""Requisitions to EVERY active ISP: issued per order (all or none), delivered, acknowledged, overdue."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from email.utils import make_msgid

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.errors import InvalidInput, NotFound
from blocklist.models import Isp, Order, Submission, User, utcnow
from blocklist.settings import Settings
from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument
from requisitions.errors import RenderError
from requisitions.models import OrderIssue, Requisition
from requisitions.render import render

LIST_STATUSES = ("pending", "sent", "acknowledged", "failed", "overdue")


def _authority(settings: Settings) -> Authority:
    return Authority(name=settings.authority_name, address=settings.authority_address,
                     contact_email=settings.authority_email, contact_phone=settings.authority_phone)


def _reference(order_id: int | None, isp: Isp, kind: str, when: dt.datetime) -> str:
    prefix = {"blocking": "REQ", "lifting": "LIFT", "catch_up": "CATCH"}[kind]
    number = f"{order_id:06d}" if order_id is not None else when.strftime("%m%d%H%M%S")
    return f"{prefix}-{when.year}-{number}-ISP{isp.id}"


def _cases(subs: Sequence[Submission]) -> tuple[CaseRef, ...]:
    seen: dict[tuple[str, str, str | None], CaseRef] = {}
    for s in subs:
        key = (s.case_number, s.legal_basis, s.court_reference)
        seen.setdefault(key, CaseRef(case_number=s.case_number, legal_basis=s.legal_basis, court=s.court,
                                     court_date=s.court_date, court_reference=s.court_reference))
    return tuple(seen.values())


def _names(subs: Sequence[Submission]) -> tuple[NamedDomain, ...]:
    return tuple(NamedDomain(a_label=s.domain, unicode=s.unicode, scope=s.scope)
                 for s in sorted(subs, key=lambda x: x.domain))


def _build(
    session: Session, *, kind: str, order: Order | None, subs: Sequence[Submission], isps: Sequence[Isp],
    magistrate: str, settings: Settings, reason: str | None, feed_serial: int | None,
) -> list[Requisition]:
    """Render one document per ISP in memory; any failure raises before anything is written."""
    now = utcnow()
    deadline = now + dt.timedelta(hours=settings.requisition_deadline_hours)
    built = []
    for isp in isps:
        reference = _reference(order.id if order else None, isp, kind, now)
        doc = RequisitionDocument(
            kind=kind, reference=reference, language=isp.language, issued_at=now, deadline=deadline,  # type: ignore[arg-type]
            authority=_authority(settings), magistrate=magistrate,
            isp=Addressee(name=isp.name, operator_id=isp.operator_id, email=isp.email),
            names=_names(subs), cases=_cases(subs), feed_serial=feed_serial,
            stop_page_name=settings.stop_page_host, reason=reason,
        )
        rendered = render(doc)
        built.append(Requisition(
            reference=reference, kind=kind, order_id=order.id if order else None, isp_id=isp.id,
            language=isp.language,
            names=audit.canonical_json([{"a_label": n.a_label, "unicode": n.unicode, "scope": n.scope}
                                        for n in doc.names]),
            feed_serial=feed_serial, subject=rendered.subject, body_text=rendered.text, pdf=rendered.pdf,
            pdf_sha256=rendered.sha256, message_id=make_msgid(idstring=reference, domain="requisitions.invalid"),
            created_at=now, deadline=deadline, status="pending", attempts=0, next_attempt_at=now,
        ))
    return built


def _store(session: Session, requisitions: Sequence[Requisition], actor: str) -> None:
    for req in requisitions:
        session.add(req)
    session.flush()
    for req in requisitions:
        audit.record(session, actor=actor, action="requisition.created", object_type="requisition",
                     object_id=req.id, order_id=req.order_id,
                     details={"reference": req.reference, "kind": req.kind, "isp_id": req.isp_id,
                              "language": req.language, "pdf_sha256": req.pdf_sha256,
                              "feed_serial": req.feed_serial, "deadline": req.deadline.isoformat()})


def orders_awaiting_requisitions(session: Session, *, settings: Settings) -> list[Order]:
    """Orders not yet issued (nor failed); with the feed wait on, only those whose feed serial is known."""
    query = select(Order).where(~exists().where(OrderIssue.order_id == Order.id)).order_by(Order.id)
    if settings.requisitions_wait_for_feed:
        query = query.where(Order.feed_serial.is_not(None))
    return list(session.execute(query).scalars())


def issue_for_order(session: Session, *, order: Order, settings: Settings, actor: str = "system") -> list[Requisition]:
    """Create one requisition per active ISP for a blocking or lifting order; all or none."""
    column = Submission.order_id if order.kind == "block" else Submission.lift_order_id
    subs = list(session.execute(select(Submission).where(column == order.id)).scalars())
    isps = list(session.execute(select(Isp).where(Isp.active.is_(True)).order_by(Isp.id)).scalars())
    magistrate = session.get(User, order.magistrate_id)
    kind = "blocking" if order.kind == "block" else "lifting"
    try:
        built = _build(session, kind=kind, order=order, subs=subs, isps=isps,
                       magistrate=magistrate.display_name if magistrate else "", settings=settings,
                       reason=order.reason or None, feed_serial=order.feed_serial)
    except RenderError as exc:
        # No partial set: no ISP gets a requisition, and the order shows why.
        session.add(OrderIssue(order_id=order.id, status="failed", error=str(exc), isp_count=0, at=utcnow()))
        session.flush()
        audit.record(session, actor=actor, action="requisition.order_failed", object_type="order",
                     object_id=order.id, order_id=order.id, details={"error": str(exc)})
        return []
    _store(session, built, actor)
    session.add(OrderIssue(order_id=order.id, status="issued", isp_count=len(built), at=utcnow()))
    session.flush()
    return built


def issue_catch_up(session: Session, *, isp: Isp, settings: Settings, actor: str = "system") -> Requisition | None:
    """A catch-up requisition for an ISP registered after names were blocked: everything blocked before it."""
    subs = list(session.execute(
        select(Submission).join(Order, Order.id == Submission.order_id)
        .where(Submission.status == "approved", Order.created_at < isp.created_at)
    ).scalars())
    if not subs:
        return None
    built = _build(session, kind="catch_up", order=None, subs=subs, isps=[isp], magistrate=settings.authority_name,
                   settings=settings, reason=None, feed_serial=None)
    _store(session, built, actor)
    return built[0]


def isps_needing_catch_up(session: Session) -> list[Isp]:
    """Active ISPs registered after a still-blocked name's order, with no catch-up requisition yet."""
    has_catch_up = exists().where(and_(Requisition.isp_id == Isp.id, Requisition.kind == "catch_up"))
    blocked_before = exists().where(and_(Submission.status == "approved", Submission.order_id == Order.id,
                                         Order.created_at < Isp.created_at))
    return list(session.execute(
        select(Isp).where(Isp.active.is_(True), ~has_catch_up, blocked_before).order_by(Isp.id)
    ).scalars())


def list_requisitions(
    session: Session, *, isp_id: int | None = None, status: str | None = None, order_id: int | None = None,
    now: dt.datetime | None = None, limit: int = 1000,
) -> list[Requisition]:
    """Requisitions, newest first; `overdue` = not acknowledged (nor failed) after its deadline."""
    if status is not None and status not in LIST_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(LIST_STATUSES)}", field="status")
    query = select(Requisition).order_by(Requisition.id.desc()).limit(limit)
    if isp_id is not None:
        query = query.where(Requisition.isp_id == isp_id)
    if order_id is not None:
        query = query.where(Requisition.order_id == order_id)
    if status == "overdue":
        query = query.where(Requisition.status.in_(("pending", "sent")), Requisition.deadline < (now or utcnow()))
    elif status is not None:
        query = query.where(Requisition.status == status)
    return list(session.execute(query).scalars())


def is_overdue(req: Requisition, now: dt.datetime | None = None) -> bool:
    """Not acknowledged after its deadline."""
    return req.status in ("pending", "sent") and req.deadline < (now or utcnow())


def get_for_isp(session: Session, *, requisition_id: int, isp: Isp | None) -> Requisition:
    """A requisition; an ISP may only see its own (another ISP's is reported as not found)."""
    req = session.get(Requisition, requisition_id)
    if req is None or (isp is not None and req.isp_id != isp.id):
        raise NotFound(f"no requisition #{requisition_id}")
    return req


def acknowledge(session: Session, *, isp: Isp, requisition_id: int) -> Requisition:
    """The ISP confirms it received and applied a requisition (idempotent)."""
    req = get_for_isp(session, requisition_id=requisition_id, isp=isp)
    if req.status == "acknowledged":
        return req
    req.status = "acknowledged"
    req.acknowledged_at = utcnow()
    session.flush()
    audit.record(session, actor=f"isp:{isp.name}", action="requisition.acknowledged", object_type="requisition",
                 object_id=req.id, order_id=req.order_id,
                 details={"reference": req.reference, "late": req.acknowledged_at > req.deadline})
    return req


def order_issue(session: Session, order_id: int) -> OrderIssue | None:
    """Whether an order's requisitions were issued or failed (None: not yet processed)."""
    return session.get(OrderIssue, order_id)


def names_of(req: Requisition) -> list[dict[str, str]]:
    """The names a requisition lists."""
    value: list[dict[str, str]] = json.loads(req.names)
    return value
