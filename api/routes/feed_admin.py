"""The feed seen from inside: versions, held changes awaiting confirmation, and where each ISP stands."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.deps import allowed, session
from api.params import DbId
from api.routes.responses import write
from api.schemas import FeedHoldOut, FeedVersionOut, HoldConfirmedOut, IspFeedStateOut
from blocklist import permissions
from blocklist.models import User
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


@router.post("/holds/{hold_id}/confirm", summary="A magistrate confirms a held change a second time",
             response_model=HoldConfirmedOut, responses=write(200, 404, body=False))
def confirm(hold_id: DbId, db: Session = Depends(session),
            actor: User = Depends(allowed(permissions.CONFIRM_HOLD))) -> HoldConfirmedOut:
    """The next tick publishes the confirmed change."""
    return HoldConfirmedOut.model_validate(publish.confirm_hold(db, actor=actor, hold_id=hold_id))


@router.get("/isps", summary="The serial each ISP applied, and how far behind it is",
            response_model=list[IspFeedStateOut])
def isp_states(db: Session = Depends(session), _: User = Depends(readers)) -> list[IspFeedStateOut]:
    """Who is behind."""
    return serving.feed_states(db)
