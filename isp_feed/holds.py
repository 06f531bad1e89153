"""What a publication hold holds, who may confirm it, and which approved names are published yet.

A hold (isp_feed/publish.py records it) stops every order not yet carried by a published version: the orders
made up to the moment it was recorded whose change no version published before it carries. Its second
confirmation must come from a magistrate who made none of those orders (four eyes on the gate as on the
decisions). The names it holds are those orders' names: added by a block order, removed by a lift order of a name
that was published.

Staff pages tell a name "approved, held" (approved, its order in no published version yet) from "blocked" (its
order in a published version), and a lifted name still in the published list ("lifting") from one gone: one
query per question, keyed on the orders (few) rather than on the list (up to a million names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import Select, Subquery, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from blocklist.errors import NotFound
from blocklist.models import AuditEvent, Order, Submission, User
from blocklist.permissions import CONFIRM_HOLD, allows
from isp_feed.models import FeedHold, FeedVersionRow
from isp_feed_client.manifest import Confirmation

# Where an approved (or just lifted) name stands with respect to the published feed.
FeedState = Literal["held", "blocked", "lifting"]
FEED_STATES: tuple[FeedState, ...] = get_args(FeedState)
MAX_PER_PAGE = 500


def get_hold(session: Session, hold_id: int) -> FeedHold:
    """A hold by id, or NotFound."""
    hold = session.get(FeedHold, hold_id)
    if hold is None:
        raise NotFound(f"no feed hold #{hold_id}")
    return hold


def _event_id(session: Session, action: str, object_id: object) -> int | None:
    """The audit event recording `action` on that object (its sequence number orders it among all others)."""
    return session.execute(select(AuditEvent.id).where(AuditEvent.action == action,
                                                       AuditEvent.object_id == str(object_id))
                           .order_by(AuditEvent.id).limit(1)).scalar()


def _published_before(session: Session, hold: FeedHold) -> int:
    """The newest serial published before the hold was recorded (0 before the first), as the audit chain orders
    them (version times are whole seconds; the chain's order is exact)."""
    held_at = _event_id(session, "feed.held", hold.id)
    if held_at is None:  # a hold recorded outside the publisher: its starting content is what it knows
        return hold.from_serial or 0
    serial = session.execute(select(AuditEvent.object_id).where(AuditEvent.action == "feed.published",
                                                                AuditEvent.id < held_at)
                             .order_by(AuditEvent.id.desc()).limit(1)).scalar()
    return int(serial) if serial is not None else 0


def _held_order_ids(session: Session, hold: FeedHold) -> Select[int]:
    """The ids of the orders the hold holds (or held), as a sub-query: made by the time it was recorded, carried
    by no version published before it."""
    before = _published_before(session, hold)
    return select(Order.id).where(Order.created_at <= hold.created_at,
                                  or_(Order.feed_serial.is_(None), Order.feed_serial > before))


def confirmation_of(session: Session, set_hash: str, *, from_serial: int) -> Confirmation | None:
    """The confirmation a version publishing this list carries in its manifest: that of the open, confirmed hold of
    the list (None when the gate did not hold it). From the change's first content serial `from_serial`."""
    found = session.execute(select(FeedHold, User.role).join(User, User.id == FeedHold.confirmed_by).where(
        FeedHold.set_hash == set_hash, FeedHold.confirmed_at.is_not(None), FeedHold.closed_at.is_(None))
        .order_by(FeedHold.id.desc()).limit(1)).first()
    if found is None:
        return None
    hold, role = found
    assert hold.confirmed_by is not None and hold.confirmed_at is not None
    return Confirmation(hold=hold.id, role=role, user_id=hold.confirmed_by,
                        confirmed_at=hold.confirmed_at.replace(microsecond=0), from_serial=from_serial,
                        added=hold.added, removed=hold.removed)


def held_orders(session: Session, hold: FeedHold) -> list[Order]:
    """The orders the hold holds (or held), oldest first."""
    return list(session.execute(select(Order).where(Order.id.in_(_held_order_ids(session, hold)))
                                .order_by(Order.id)).scalars())


def confirm_refusal(session: Session, actor: User, hold: FeedHold) -> str | None:
    """Why `actor` may not give the hold its second confirmation (they made an order it holds), or None.

    The pages ask it too, to offer the confirmation only to a magistrate the rule admits."""
    own = list(session.execute(select(Order.id).where(Order.id.in_(_held_order_ids(session, hold)),
                                                      Order.magistrate_id == actor.id)
                               .order_by(Order.id).limit(11)).scalars())
    if not own:
        return None
    listed = ", ".join(f"#{i}" for i in own[:10]) + (" ..." if len(own) > 10 else "")
    return (f"four eyes: {actor.username!r} made order(s) {listed} that feed hold #{hold.id} holds and cannot also "
            "confirm it; another magistrate must")


def why_not_confirm(session: Session, actor: User, hold: FeedHold) -> str | None:
    """Why `actor` cannot confirm the hold now (role, state or four eyes), or None: what a page or the API shows
    beside the hold, with the same rules as publish.confirm_hold."""
    if not allows(actor, CONFIRM_HOLD):
        return f"only a magistrate may {CONFIRM_HOLD.action}"
    if hold.closed_at is not None:
        return f"feed hold #{hold.id} was closed: {hold.closed_reason}"
    if hold.confirmed_at is not None:
        return f"feed hold #{hold.id} was already confirmed"
    return confirm_refusal(session, actor, hold)


@dataclass(frozen=True)
class HeldName:
    """One name a hold holds: added (a block order) or removed (a lift order), and by whose order."""

    domain: str
    unicode: str
    change: Literal["add", "remove"]
    order_id: int
    magistrate: str


@dataclass(frozen=True)
class HeldNames:
    """One page of a hold's names (by name), with how many it adds and removes."""

    added: int
    removed: int
    page: int
    per_page: int
    names: list[HeldName]

    @property
    def total(self) -> int:
        return self.added + self.removed


def hold_names(session: Session, hold: FeedHold, *, page: int = 1, per_page: int = 100) -> HeldNames:
    """The names the hold holds: those a held block order approved (still approved), and those a held lift order
    lifted after they were published."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    held = _held_order_ids(session, hold).scalar_subquery()
    published = aliased(Order, name="published_order")
    adds = (select(Submission.domain, Submission.unicode, Submission.order_id.label("by"),
                   literal("add").label("change"))
            .where(Submission.order_id.in_(held), Submission.status == "approved"))
    removes = (select(Submission.domain, Submission.unicode, Submission.lift_order_id.label("by"),
                      literal("remove").label("change"))
               .join(published, published.id == Submission.order_id)
               .where(Submission.lift_order_id.in_(held), published.feed_serial.is_not(None)))
    added = int(session.execute(select(func.count()).select_from(adds.subquery())).scalar() or 0)
    removed = int(session.execute(select(func.count()).select_from(removes.subquery())).scalar() or 0)
    both = union_all(adds, removes).subquery()
    rows = session.execute(select(both).order_by(both.c.domain, both.c.change)
                           .limit(per_page).offset((page - 1) * per_page)).all()
    by_order = {i: n for i, n in session.execute(
        select(Order.id, User.username).join(User, User.id == Order.magistrate_id)
        .where(Order.id.in_({int(r.by) for r in rows})))}
    names = [HeldName(r.domain, r.unicode, "add" if r.change == "add" else "remove", int(r.by),
                      by_order.get(int(r.by), "")) for r in rows]
    return HeldNames(added=added, removed=removed, page=page, per_page=per_page, names=names)


def holds_for_orders(session: Session, order_ids: list[int]) -> list[FeedHold]:
    """The holds that held any of these orders (recorded after the order, before the version that carried it),
    by id: a name's or a case's timeline shows them."""
    found: set[int] = set()
    for order in session.execute(select(Order).where(Order.id.in_(order_ids))).scalars() if order_ids else ():
        made = session.execute(select(func.min(AuditEvent.id)).where(AuditEvent.order_id == order.id)).scalar()
        carried = _event_id(session, "feed.published", order.feed_serial) if order.feed_serial else None
        query = select(AuditEvent.object_id).where(AuditEvent.action == "feed.held", AuditEvent.id > (made or 0))
        if carried is not None:
            query = query.where(AuditEvent.id < carried)
        found.update(int(i) for i in session.execute(query).scalars())
    if not found:
        return []
    return list(session.execute(select(FeedHold).where(FeedHold.id.in_(sorted(found))).order_by(FeedHold.id))
                .scalars())


# --- approved, held vs blocked -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateCounts:
    """How many names stand where: approved but in no published version yet (held), in a published version
    (blocked), lifted but still in the published list (lifting); and what the latest published version holds."""

    held: int
    blocked: int
    lifting: int
    published_serial: int | None
    published_count: int


# submission id, name, Unicode form, case number, block order, approval time, lift order
_StateRows = Select[int, str, str, str, int | None, dt.datetime | None, int | None]


def _in_state(state: FeedState) -> _StateRows:
    block, lift = aliased(Order, name="block_order"), aliased(Order, name="lift_order")
    query = (select(Submission.id, Submission.domain, Submission.unicode, Submission.case_number,
                    Submission.order_id, Submission.decided_at, Submission.lift_order_id)
             .join(block, block.id == Submission.order_id))
    if state == "held":
        return query.where(Submission.status == "approved", block.feed_serial.is_(None))
    if state == "blocked":
        return query.where(Submission.status == "approved", block.feed_serial.is_not(None))
    return (query.join(lift, lift.id == Submission.lift_order_id)
            .where(Submission.status == "lifted", block.feed_serial.is_not(None), lift.feed_serial.is_(None)))


def state_counts(session: Session) -> StateCounts:
    """The counts of each state. Held and lifting are read through the orders no version carries yet (few);
    blocked is every approved name less the held ones."""
    def count(query: Subquery) -> int:
        return int(session.execute(select(func.count()).select_from(query)).scalar() or 0)

    held, lifting = count(_in_state("held").subquery()), count(_in_state("lifting").subquery())
    approved = count(select(Submission.id).where(Submission.status == "approved").subquery())
    latest = session.execute(select(FeedVersionRow.serial, FeedVersionRow.count)
                             .order_by(FeedVersionRow.serial.desc()).limit(1)).first()
    return StateCounts(held=held, blocked=approved - held, lifting=lifting,
                       published_serial=int(latest[0]) if latest else None,
                       published_count=int(latest[1]) if latest else 0)


@dataclass(frozen=True)
class StatedName:
    """One name in one state, with its submission, case and order."""

    submission_id: int
    domain: str
    unicode: str
    case_number: str
    order_id: int
    approved_at: dt.datetime | None


def names_in_state(session: Session, state: FeedState, *, page: int = 1, per_page: int = 100) -> list[StatedName]:
    """One page of the names in `state`, by name."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    rows = session.execute(_in_state(state).order_by(Submission.domain)
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return [StatedName(r.id, r.domain, r.unicode, r.case_number, int(r.order_id), r.decided_at) for r in rows]


def state_of(session: Session, submission_ids: list[int]) -> dict[int, FeedState]:
    """The feed state of each of these submissions that has one (approved, or lifted but still published)."""
    found: dict[int, FeedState] = {}
    for state in FEED_STATES if submission_ids else ():
        found.update((int(i), state) for i in session.execute(
            _in_state(state).where(Submission.id.in_(submission_ids))).scalars())
    return found
