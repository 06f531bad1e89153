"""The feed seen from inside: versions, held changes awaiting confirmation, and where each ISP stands."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.deps import allowed, session
from api.params import DbId
from api.routes.responses import write
from blocklist import permissions
from blocklist.models import User
from isp_feed import publish, serving
from isp_feed.versions import recent_versions

router = APIRouter(prefix="/feed", tags=["feed administration"])
readers = allowed(permissions.READ_FEED_STATE)


@router.get("/versions", summary="Published versions, newest first")
def versions(limit: int = Query(default=50, ge=1, le=1000), db: Session = Depends(session),
             _: User = Depends(readers)) -> list[dict[str, Any]]:
    """Serial, counts, times and hashes of recent versions."""
    rows = recent_versions(db, limit)
    return [{"serial": r.serial, "count": r.count, "added": r.added, "removed": r.removed,
             "generated_at": r.generated_at, "expires_at": r.expires_at, "sha256": r.envelope_sha256,
             "key_id": r.key_id} for r in rows]


@router.get("/holds", summary="Changes the publication gate holds for a second confirmation")
def holds(db: Session = Depends(session), _: User = Depends(readers)) -> list[dict[str, Any]]:
    """Pending holds with their reasons."""
    return [{"id": h.id, "reasons": h.reasons, "added": h.added, "removed": h.removed, "created_at": h.created_at}
            for h in publish.pending_holds(db)]


@router.post("/holds/{hold_id}/confirm", summary="A magistrate confirms a held change a second time",
             responses=write(200, 404, body=False))
def confirm(hold_id: DbId, db: Session = Depends(session),
            actor: User = Depends(allowed(permissions.CONFIRM_HOLD))) -> dict[str, Any]:
    """The next build publishes the confirmed set."""
    hold = publish.confirm_hold(db, actor=actor, hold_id=hold_id)
    return {"id": hold.id, "confirmed_at": hold.confirmed_at, "reasons": hold.reasons}


@router.get("/isps", summary="The serial each ISP applied, and how far behind it is")
def isp_states(db: Session = Depends(session), _: User = Depends(readers)) -> list[dict[str, Any]]:
    """Who is behind."""
    return [state.__dict__ for state in serving.feed_states(db)]
