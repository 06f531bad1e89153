"""The ISP feed under /feed/v1: signed versions at immutable URLs, `latest` aliases, diffs, keys, acks.

Every request needs the ISP's own credential; every fetch is logged (ISP, serial, format, time, status).
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import current_isp, runtime, session
from api.params import ID_RULE, MAX_ID, OptionalSerial
from api.routes.responses import COMMON, FEED_FILE, errors, write
from api.runtime import Runtime
from blocklist.errors import InvalidInput, NotFound
from blocklist.models import Isp
from blocklist.text import parse_id
from isp_feed import formats, serving, versions
from isp_feed.models import FeedArtifact, FeedVersionRow

router = APIRouter(prefix="/feed/v1", tags=["feed"], responses=COMMON)


def _split(filename: str) -> tuple[str, bool]:
    """`json` / `a.rpz` ... and whether the signature was asked for."""
    signature = filename.endswith(".minisig")
    ext = filename[: -len(".minisig")] if signature else filename
    if ext not in formats.EXTENSIONS:
        raise NotFound(f"unknown feed format {ext!r}; formats: {', '.join(formats.EXTENSIONS)}")
    return ext, signature


def _serve(request: Request, db: Session, rt: Runtime, isp: Isp, row: FeedVersionRow, ext: str, signature: bool,
           immutable: bool) -> Response:
    artifact = db.get(FeedArtifact, (row.serial, ext))
    if artifact is None:
        raise NotFound(f"feed version {row.serial} has no format {ext!r}")
    if signature:
        body = artifact.signature.encode()
        etag = '"' + hashlib.sha256(body).hexdigest() + '"'
        media = "text/plain; charset=utf-8"
    else:
        etag = f'"{artifact.sha256}"'
        media = formats.MEDIA_TYPES[ext]
        body = b""
    headers = {
        "ETag": etag,
        "X-Feed-Serial": str(row.serial),
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache",
    }
    if request.headers.get("if-none-match") == etag:
        serving.record_fetch(db, isp=isp, serial=row.serial, ext=ext + (".minisig" if signature else ""), status=304)
        return Response(status_code=304, headers=headers)
    if not signature:
        body = versions.artifact_body(db, row, ext, rt.settings.data_dir / "feed-cache")
    serving.record_fetch(db, isp=isp, serial=row.serial, ext=ext + (".minisig" if signature else ""), status=200)
    return Response(content=body, media_type=media, headers=headers)


@router.get("/latest.{filename}", summary="The latest version in one format (or its .minisig)",
            response_class=Response, responses=FEED_FILE)
def latest(filename: str, request: Request, db: Session = Depends(session), rt: Runtime = Depends(runtime),
           isp: Isp = Depends(current_isp)) -> Response:
    """Serve `latest.<ext>` or `latest.<ext>.minisig`."""
    ext, signature = _split(filename)
    row = versions.latest_version(db)
    if row is None:
        raise NotFound("no feed version has been published yet")
    return _serve(request, db, rt, isp, row, ext, signature, immutable=False)


@router.get("/versions/{name}", summary="One immutable version in one format (or its .minisig)",
            response_class=Response, responses=FEED_FILE)
def version(name: str, request: Request, db: Session = Depends(session),
            rt: Runtime = Depends(runtime), isp: Isp = Depends(current_isp)) -> Response:
    """Serve `versions/<serial>.<ext>` or its signature."""
    number, _, filename = name.partition(".")
    try:
        serial = parse_id(number, field="serial")
    except InvalidInput:
        raise NotFound(f"{name!r} is not <serial>.<format>") from None
    if not filename:
        raise NotFound(f"{name!r} is not <serial>.<format>")
    ext, signature = _split(filename)
    return _serve(request, db, rt, isp, versions.get_version(db, serial), ext, signature, immutable=True)


@router.get("/diff", summary="Names added and removed since a serial", responses=errors(404))
def diff(from_serial: Annotated[int, Query(alias="from", ge=1, le=MAX_ID), ID_RULE], to: OptionalSerial = None,
         db: Session = Depends(session), isp: Isp = Depends(current_isp)) -> dict[str, Any]:
    """Incremental changes from `from` to `to` (default latest)."""
    result = versions.diff(db, from_serial=from_serial, to_serial=to)
    serving.record_fetch(db, isp=isp, serial=result.to_serial, ext=f"diff:{from_serial}", status=200)
    return {"from": result.from_serial, "to": result.to_serial, "added": result.added, "removed": result.removed}


@router.get("/keys", summary="The public keys that sign the feed (active first, then those in transition)")
def keys(rt: Runtime = Depends(runtime), isp: Isp = Depends(current_isp)) -> dict[str, Any]:
    """Public keys in minisign format."""
    return {"keys": [{"key_id": k.key_id, "minisign": k.text, "active": k.active, "valid_until": k.valid_until}
                     for k in rt.keys.public_keys()]}


class AppliedIn(BaseModel):
    """What the reference client reports after loading a version."""

    serial: int = Field(ge=1, le=MAX_ID)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    format: str = Field(default="", max_length=20)


@router.post("/applied", status_code=201, summary="The ISP client reports the serial it applied",
             responses=write(201, 404))
def applied(body: AppliedIn, db: Session = Depends(session), isp: Isp = Depends(current_isp)) -> dict[str, Any]:
    """Record the acknowledgement (who is behind shows on the server)."""
    row = serving.record_applied(db, isp=isp, serial=body.serial, sha256=body.sha256, fmt=body.format)
    return {"isp": isp.name, "serial": row.serial, "recorded_at": row.at.isoformat()}
