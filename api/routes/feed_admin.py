"""The feed seen from inside: versions, held changes awaiting confirmation, and where each ISP stands."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.deps import allowed, session
from api.params import DbId
from api.routes.responses import errors, write
from api.schemas import (
    FeedHoldOut,
    FeedNamesOut,
    FeedVersionOut,
    HeldNamesOut,
    HoldConfirmedOut,
    HoldDetailOut,
    IspFeedStateOut,
)
from blocklist import permissions, queries
from blocklist.models import User
from isp_feed import holds as held
from isp_feed import publish, serving
from isp_feed.versions import recent_versions

router = APIRouter(prefix="/feed", tags=["feed administration"])
readers = allowed(permissions.READ_FEED_STATE)


@router.get("/versions", summary="Published versions, newest first", response_model=list[FeedVersionOut])
def versions(limit: int = Query(default=50, ge=1, le=1000), db: Session = Depends(session),
             _: User = Depends(readers)) -> list[FeedVersionOut]:
    """Serial, counts, times and hashes of recent versions."""
    return [FeedVersionOut.model_validate(r) for r in recent_versions(db, limit)]


@router.get("/holds", summary="Changes the publication gate holds for a second confirmation",
            response_model=list[FeedHoldOut])
def holds(db: Session = Depends(session), _: User = Depends(readers)) -> list[FeedHoldOut]:
    """Pending holds with their reasons."""
    return [FeedHoldOut.model_validate(h) for h in publish.pending_holds(db)]


@router.get("/holds/{hold_id}", summary="One hold: why, the orders it holds, whether you may confirm it",
            response_model=HoldDetailOut, responses=errors(404))
def hold(hold_id: DbId, db: Session = Depends(session), caller: User = Depends(readers)) -> HoldDetailOut:
    """Pending, confirmed or closed; `refusal` says why the caller may not confirm it (only a magistrate who made
    none of its orders may)."""
    found = held.get_hold(db, hold_id)
    orders = held.held_orders(db, found)
    names = queries.usernames(db, [*(o.magistrate_id for o in orders), found.confirmed_by])
    return HoldDetailOut.of(found, orders, names, held.why_not_confirm(db, caller, found))


@router.get("/holds/{hold_id}/names", summary="The names a hold holds, by name", response_model=HeldNamesOut,
            responses=errors(404))
def hold_names(hold_id: DbId, page: int = Query(1, ge=1, le=100_000),
               per_page: int = Query(100, ge=1, le=held.MAX_PER_PAGE), db: Session = Depends(session),
               _: User = Depends(allowed(permissions.READ_CASES))) -> HeldNamesOut:
    """Added by a held block order, removed by a held lift order; one page, with the totals."""
    found = held.hold_names(db, held.get_hold(db, hold_id), page=page, per_page=per_page)
    return HeldNamesOut(hold_id=hold_id, total=found.total, added=found.added, removed=found.removed, page=page,
                        per_page=found.per_page, names=found.names)


@router.get("/names", summary="Approved names: held (in no published version yet), blocked, or lifting",
            response_model=FeedNamesOut)
def names(state: held.FeedState = "held", page: int = Query(1, ge=1, le=100_000),
          per_page: int = Query(100, ge=1, le=held.MAX_PER_PAGE), db: Session = Depends(session),
          _: User = Depends(allowed(permissions.READ_CASES))) -> FeedNamesOut:
    """The counts of each state, and a page of the names in `state`, by name: a name is "blocked" only once a
    published version carries it."""
    counts = held.state_counts(db)
    total = {"held": counts.held, "blocked": counts.blocked, "lifting": counts.lifting}[state]
    return FeedNamesOut(counts=counts, state=state, total=total, page=page, per_page=per_page,
                        names=held.names_in_state(db, state, page=page, per_page=per_page))


@router.post("/holds/{hold_id}/confirm", summary="A magistrate confirms a held change a second time",
             response_model=HoldConfirmedOut, responses=write(200, 404, body=False))
def confirm(hold_id: DbId, db: Session = Depends(session),
            actor: User = Depends(allowed(permissions.CONFIRM_HOLD))) -> HoldConfirmedOut:
    """The next tick publishes the confirmed change. 403 for a magistrate who made an order it holds (four
    eyes), 409 when it was confirmed or closed already."""
    return HoldConfirmedOut.model_validate(publish.confirm_hold(db, actor=actor, hold_id=hold_id))


@router.get("/isps", summary="The serial each ISP applied, and how far behind it is",
            response_model=list[IspFeedStateOut])
def isp_states(db: Session = Depends(session), _: User = Depends(readers)) -> list[IspFeedStateOut]:
    """Who is behind."""
    return serving.feed_states(db)
