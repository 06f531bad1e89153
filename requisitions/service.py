"""Requisitions to EVERY active ISP: issued per order (all or none), delivered, acknowledged, overdue."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, defer

from blocklist import audit, paging, queries
from blocklist.errors import InvalidInput, NotFound
from blocklist.models import Isp, Order, Submission, User, utcnow
from blocklist.settings import Settings
from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument
from requisitions.errors import RenderError
from requisitions.models import OrderIssue, Requisition
from requisitions.render import RenderedRequisition, render

LIST_STATUSES = ("pending", "sent", "acknowledged", "failed", "overdue")
OPEN_STATUSES = ("pending", "sent")  # not yet acknowledged nor failed: overdue once past the deadline


def authority(settings: Settings) -> Authority:
    """The issuing authority of every document (requisitions and removal notices), as configured."""
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


@dataclass(frozen=True)
class Draft:
    """One requisition ready to render: its document and where it goes."""

    doc: RequisitionDocument
    isp_id: int
    order_id: int | None


def _drafts(
    *, kind: str, order: Order | None, subs: Sequence[Submission], isps: Sequence[Isp], magistrate: str,
    settings: Settings, reason: str | None, feed_serial: int | None,
) -> list[Draft]:
    now = utcnow()
    deadline = now + dt.timedelta(hours=settings.requisition_deadline_hours)
    names, cases = _names(subs), _cases(subs)
    return [Draft(RequisitionDocument(
        kind=kind, reference=_reference(order.id if order else None, isp, kind, now),  # type: ignore[arg-type]
        language=isp.language, issued_at=now, deadline=deadline,  # type: ignore[arg-type]
        authority=authority(settings), magistrate=magistrate,
        isp=Addressee(name=isp.name, operator_id=isp.operator_id, email=isp.email),
        names=names, cases=cases, feed_serial=feed_serial, stop_page_name=settings.stop_page_host, reason=reason,
        policy=isp.policy,  # type: ignore[arg-type]
    ), isp.id, order.id if order else None) for isp in isps]


def draft_orders(session: Session, *, orders: Sequence[Order], settings: Settings,
                 isps: Sequence[Isp] | None = None) -> dict[int, list[Draft]]:
    """Each order's drafts, one per ISP active now (`isps`, when the caller read them already), for blocking and
    lifting orders: their names and magistrates read in one query each, however many orders (an approval storm
    drafts hundreds per pass)."""
    if not orders:
        return {}
    blocks = {o.id for o in orders if o.kind == "block"}
    lifts = {o.id for o in orders} - blocks
    subs: dict[int, list[Submission]] = {o.id: [] for o in orders}
    named = or_(Submission.order_id.in_(blocks), Submission.lift_order_id.in_(lifts))
    for sub in session.execute(select(Submission).where(named).order_by(Submission.id)).scalars():
        if sub.order_id in blocks:
            subs[sub.order_id].append(sub)
        if sub.lift_order_id in lifts:
            subs[sub.lift_order_id].append(sub)
    isps = queries.active_isps(session) if isps is None else isps
    magistrates = {i: name for i, name in session.execute(select(User.id, User.display_name).where(
        User.id.in_({o.magistrate_id for o in orders})))}
    return {o.id: _drafts(kind="blocking" if o.id in blocks else "lifting", order=o, subs=subs[o.id], isps=isps,
                          magistrate=magistrates.get(o.magistrate_id) or "", settings=settings,
                          reason=o.reason or None, feed_serial=o.feed_serial) for o in orders}


def draft_order(session: Session, *, order: Order, settings: Settings) -> list[Draft]:
    """One draft per ISP active now, for a blocking or lifting order."""
    return draft_orders(session, orders=[order], settings=settings)[order.id]


def draft_catch_up(session: Session, *, isp: Isp, settings: Settings) -> list[Draft]:
    """A catch-up draft for an ISP registered after names were blocked: everything blocked before it."""
    subs = list(session.execute(
        select(Submission).join(Order, Order.id == Submission.order_id)
        .where(Submission.status == "approved", Order.created_at < isp.created_at)
    ).scalars())
    if not subs:
        return []
    return _drafts(kind="catch_up", order=None, subs=subs, isps=[isp], magistrate=settings.authority_name,
                   settings=settings, reason=None, feed_serial=None)


def render_drafts(drafts: Sequence[Draft], *, workers: int = 1) -> list[tuple[Draft, RenderedRequisition]]:
    """Render every draft (in parallel processes when asked); the first failure raises RenderError."""
    if workers <= 1 or len(drafts) <= 1:
        return [(d, render(d.doc)) for d in drafts]
    # Spawned, not forked: the server process runs threads (uvicorn, the scheduler).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(zip(drafts, pool.map(render, [d.doc for d in drafts], chunksize=1), strict=True))


def store_rendered(
    session: Session, rendered: Sequence[tuple[Draft, RenderedRequisition]], actor: str = "system"
) -> list[Requisition]:
    """Write the rendered requisitions (pending delivery) and audit each with its PDF's SHA-256."""
    now = utcnow()
    rows = [Requisition(
        reference=d.doc.reference, kind=d.doc.kind, order_id=d.order_id, isp_id=d.isp_id, language=d.doc.language,
        names=audit.canonical_json([{"a_label": n.a_label, "unicode": n.unicode, "scope": n.scope}
                                    for n in d.doc.names]),
        feed_serial=d.doc.feed_serial, subject=r.subject, body_text=r.text, pdf=r.pdf, pdf_sha256=r.sha256,
        message_id=make_msgid(idstring=d.doc.reference, domain="requisitions.invalid"), created_at=now,
        deadline=d.doc.deadline, status="pending", attempts=0, next_attempt_at=now,
    ) for d, r in rendered]
    session.add_all(rows)
    session.flush()
    for req in rows:
        audit.record(session, actor=actor, action="requisition.created", object_type="requisition",
                     object_id=req.id, order_id=req.order_id,
                     details={"reference": req.reference, "kind": req.kind, "isp_id": req.isp_id,
                              "language": req.language, "pdf_sha256": req.pdf_sha256,
                              "feed_serial": req.feed_serial, "deadline": req.deadline.isoformat()})
    return rows


def record_order_outcome(
    session: Session, *, order_id: int, requisitions: Sequence[Requisition] = (), error: str | None = None,
    actor: str = "system",
) -> None:
    """Mark an order issued (to every active ISP) or failed as a whole, with the error shown on the order."""
    status = "failed" if error is not None else "issued"
    # Flushed with the rest (the next query or the commit): a pass stores hundreds in one statement.
    session.add(OrderIssue(order_id=order_id, status=status, error=error, isp_count=len(requisitions), at=utcnow()))
    if error is not None:
        audit.record(session, actor=actor, action="requisition.order_failed", object_type="order",
                     object_id=order_id, order_id=order_id, details={"error": error})


def orders_awaiting_requisitions(session: Session, *, settings: Settings, limit: int | None = None) -> list[Order]:
    """Orders not yet issued (nor failed), oldest first; with the feed wait on, only those whose feed serial is
    known."""
    query = select(Order).where(~exists().where(OrderIssue.order_id == Order.id)).order_by(Order.id).limit(limit)
    if settings.requisitions_wait_for_feed:
        query = query.where(Order.feed_serial.is_not(None))
    return list(session.execute(query).scalars())


def issue_for_order(session: Session, *, order: Order, settings: Settings, actor: str = "system") -> list[Requisition]:
    """Create one requisition per active ISP for an order in this transaction; all or none."""
    try:
        rendered = render_drafts(draft_order(session, order=order, settings=settings))
    except RenderError as exc:
        record_order_outcome(session, order_id=order.id, error=str(exc), actor=actor)
        return []
    rows = store_rendered(session, rendered, actor)
    record_order_outcome(session, order_id=order.id, requisitions=rows, actor=actor)
    return rows


def issue_catch_up(session: Session, *, isp: Isp, settings: Settings, actor: str = "system") -> Requisition | None:
    """Issue the catch-up requisition for an ISP in this transaction (None when nothing is blocked)."""
    rendered = render_drafts(draft_catch_up(session, isp=isp, settings=settings))
    rows = store_rendered(session, rendered, actor)
    return rows[0] if rows else None


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
    query = _filtered(isp_id=isp_id, status=status, order_id=order_id, now=now)
    return list(session.execute(query.order_by(Requisition.id.desc()).limit(limit)).scalars())


# The columns the requisitions page sorts by (`sort=`).
REQUISITION_SORTS: dict[str, paging.Column] = {
    "created": Requisition.created_at, "deadline": Requisition.deadline, "status": Requisition.status,
    "isp": Requisition.isp_id, "order": Requisition.order_id,
}


def requisition_page(
    session: Session, *, isp_id: int | None = None, status: str | None = None, order_id: int | None = None,
    sort: str = "created", order: str = "desc", page: int = 1, per_page: int = paging.PER_PAGE,
) -> paging.Page[Requisition]:
    """One page of requisitions (filtered as `list_requisitions`) and their true total; the PDFs stay unread."""
    query = _filtered(isp_id=isp_id, status=status, order_id=order_id, now=None).options(defer(Requisition.pdf))
    query = paging.order_by(query, sort=sort, order=order, columns=REQUISITION_SORTS, tie=Requisition.id)
    return paging.fetch(session, query, page=page, per_page=per_page)


def _filtered(*, isp_id: int | None, status: str | None, order_id: int | None,
              now: dt.datetime | None) -> Select[Any]:
    if status is not None and status not in LIST_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(LIST_STATUSES)}", field="status")
    query = select(Requisition)
    if isp_id is not None:
        query = query.where(Requisition.isp_id == isp_id)
    if order_id is not None:
        query = query.where(Requisition.order_id == order_id)
    if status == "overdue":
        query = query.where(_overdue(now or utcnow()))
    elif status is not None:
        query = query.where(Requisition.status == status)
    return query


def _overdue(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Requisition.status.in_(OPEN_STATUSES), Requisition.deadline < now)


def status_counts(session: Session, *, now: dt.datetime | None = None) -> dict[str, int]:
    """How many requisitions are in each status, and how many of the open ones are `overdue` (one query)."""
    counts = dict.fromkeys(LIST_STATUSES, 0)
    for status, count, overdue in session.execute(select(
            Requisition.status, func.count(), func.count(case((_overdue(now or utcnow()), 1), else_=None)))
            .group_by(Requisition.status)):
        counts[status] = count
        counts["overdue"] += overdue
    return counts


def is_overdue(req: Requisition, now: dt.datetime | None = None) -> bool:
    """Not acknowledged after its deadline."""
    return req.status in OPEN_STATUSES and req.deadline < (now or utcnow())


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


def processed_orders(session: Session, order_ids: Sequence[int]) -> set[int]:
    """Those of these orders whose requisitions were issued or failed (one query)."""
    return set(session.execute(select(OrderIssue.order_id).where(OrderIssue.order_id.in_(order_ids))).scalars())


def names_of(req: Requisition) -> list[dict[str, str]]:
    """The names a requisition lists."""
    value: list[dict[str, str]] = json.loads(req.names)
    return value
