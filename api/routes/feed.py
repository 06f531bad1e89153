"""The ISP feed under /feed/v1: a signed manifest per version, format files written once at publication and served
as files (ETag/304, ranges), `latest` aliases, deltas, keys, acknowledgements.

Every request needs the ISP's own credential. Nothing is rendered on a request and nothing is written on one: GETs
read in a read-only transaction, and the fetch log (ISP, serial, format, time, status) is kept in memory and written
in batches by a job (isp_feed.serving.FetchLog).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from api.deps import current_isp, runtime, session
from api.params import ID_RULE, MAX_ID, OptionalSerial
from api.routes.responses import COMMON, FEED_FILE, errors, write
from api.runtime import Runtime
from api.schemas import AppliedIn, AppliedOut, FeedKeysOut, PublishedKeyOut
from api.stored_response import stored_file_response
from blocklist.errors import InvalidInput, NotFound
from blocklist.models import Isp
from blocklist.text import parse_id
from isp_feed import file_signatures, serving, versions
from isp_feed.models import FeedVersionRow
from isp_feed_client import delta, formats, manifest, stored

router = APIRouter(prefix="/feed/v1", tags=["feed"], responses=COMMON)

SIGNATURE = ".minisig"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


def _split(filename: str) -> tuple[str, bool]:
    """`manifest.json` / `delta` / `rpz` ... and whether the signature was asked for."""
    signature = filename.endswith(SIGNATURE)
    what = filename[: -len(SIGNATURE)] if signature else filename
    if what == "delta" and signature:
        raise NotFound("a delta has no signature of its own: the manifest signs its hash")
    if what not in (manifest.MANIFEST_EXT, "delta", *formats.EXTENSIONS):
        raise NotFound(f"unknown feed file {what!r}; files: {manifest.MANIFEST_EXT}, delta, "
                       f"{', '.join(formats.EXTENSIONS)} (and .minisig of each)")
    return what, signature


def _log(rt: Runtime, isp: Isp, row: FeedVersionRow, what: str, status: int) -> None:
    rt.job_context.fetch_log.add(isp_id=isp.id, serial=row.serial, ext=what, status=status)


def cache_headers(etag: str, serial: int, *, immutable: bool) -> dict[str, str]:
    """The headers of every feed file's answer, a 304 included (api/feed_not_modified.py sends them too)."""
    return {"ETag": etag, "X-Feed-Serial": str(serial),
            "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"}


def _answer(request: Request, rt: Runtime, isp: Isp, row: FeedVersionRow, what: str, *, etag: str, media: str,
            immutable: bool, body: bytes | None = None, path: str | None = None) -> Response:
    headers = cache_headers(etag, row.serial, immutable=immutable)
    if request.headers.get("if-none-match") == etag:
        _log(rt, isp, row, what, 304)
        return Response(status_code=304, headers=headers)
    _log(rt, isp, row, what, 200)
    if path is not None:
        return stored_file_response(Path(path), method=request.method, range_header=request.headers.get("range"),
                                    if_range=request.headers.get("if-range"), etag=etag, media_type=media,
                                    headers=headers)
    return Response(content=body, media_type=media, headers=headers)


def _serve(request: Request, db: Session, rt: Runtime, isp: Isp, row: FeedVersionRow, filename: str,
           immutable: bool) -> Response:
    what, signature = _split(filename)
    name = what + (SIGNATURE if signature else "")
    if what == manifest.MANIFEST_EXT:
        if row.manifest is None or row.manifest_signature is None or row.manifest_sha256 is None:
            raise NotFound(f"feed version {row.serial} predates manifests")
        if signature:
            data = row.manifest_signature.encode()
            return _answer(request, rt, isp, row, name, etag=f'"{hashlib.sha256(data).hexdigest()}"', media=TEXT,
                           immutable=immutable, body=data)
        return _answer(request, rt, isp, row, name, etag=f'"{row.manifest_sha256}"', media=JSON,
                       immutable=immutable, body=row.manifest.encode())
    if what == "delta":
        data = versions.delta_file(db, row)
        return _answer(request, rt, isp, row, name, etag=f'"{hashlib.sha256(data).hexdigest()}"', media=JSON,
                       immutable=True, body=data)
    artifact = versions.artifact_of(db, row, what)
    if signature:
        data = file_signatures.signature_of(rt.settings.data_dir, rt.keys, artifact).encode()
        return _answer(request, rt, isp, row, name, etag=f'"{hashlib.sha256(data).hexdigest()}"', media=TEXT,
                       immutable=immutable, body=data)
    path = versions.file_path(db, row, what, rt.settings.data_dir)
    if not stored.is_stored(path):
        raise NotFound(f"the {what} file of feed version {row.serial} is no longer kept (only the latest lists keep "
                       f"their files): fetch latest.{what}, or apply diff?from={row.serial}")
    return _answer(request, rt, isp, row, name, etag=f'"{artifact.sha256}"', media=formats.MEDIA_TYPES[what],
                   immutable=immutable, path=str(path))


@router.get("/latest.{filename}", summary="The latest version: its manifest, a format file, or a .minisig",
            response_class=Response, responses=FEED_FILE)
def latest(filename: str, request: Request, db: Session = Depends(session), rt: Runtime = Depends(runtime),
           isp: Isp = Depends(current_isp)) -> Response:
    """Serve `latest.manifest.json`, `latest.<ext>`, or the `.minisig` of either."""
    row = versions.latest_version(db)
    if row is None:
        raise NotFound("no feed version has been published yet")
    return _serve(request, db, rt, isp, row, filename, immutable=False)


@router.get("/versions/{name}", summary="One immutable version: its manifest, delta, a format file, or a .minisig",
            response_class=Response, responses=FEED_FILE)
def version(name: str, request: Request, db: Session = Depends(session),
            rt: Runtime = Depends(runtime), isp: Isp = Depends(current_isp)) -> Response:
    """Serve `versions/<serial>.<file>`: `manifest.json`, `delta`, a format, or a signature."""
    number, _, filename = name.partition(".")
    try:
        serial = parse_id(number, field="serial")
    except InvalidInput:
        raise NotFound(f"{name!r} is not <serial>.<file>") from None
    if not filename:
        raise NotFound(f"{name!r} is not <serial>.<file>")
    return _serve(request, db, rt, isp, versions.get_version(db, serial), filename, immutable=True)


@router.get("/diff", summary="What changed since a serial: names added and removed (canonical delta JSON)",
            response_class=Response,
            responses={200: {"description": "The delta from the list of `from` to that of `to` (default: latest)",
                             "content": {JSON: {"schema": {"type": "object"}}}}, **errors(400, 404)})
def diff(from_serial: Annotated[int, Query(alias="from", ge=1, le=MAX_ID), ID_RULE], to: OptionalSerial = None,
         db: Session = Depends(session), rt: Runtime = Depends(runtime), isp: Isp = Depends(current_isp)) -> Response:
    """The composed delta from `from` to `to` (content serials inside); a client checks the list it rebuilds with it
    against the hash the signed manifest gives."""
    result = versions.diff(db, from_serial=from_serial, to_serial=to)
    rt.job_context.fetch_log.add(isp_id=isp.id, serial=to or result.to_serial, ext=f"diff:{from_serial}", status=200)
    return Response(content=delta.delta_bytes(result), media_type=JSON)


@router.get("/keys", summary="The public keys that sign the feed (active first, then those in transition)",
            response_model=FeedKeysOut)
def keys(rt: Runtime = Depends(runtime), isp: Isp = Depends(current_isp)) -> FeedKeysOut:
    """Public keys in minisign format."""
    return FeedKeysOut(keys=[PublishedKeyOut(key_id=k.key_id, minisign=k.text, active=k.active,
                                             valid_until=k.valid_until) for k in rt.keys.public_keys()])


@router.post("/applied", status_code=201, summary="The ISP client reports the serial it applied",
             response_model=AppliedOut, responses=write(201, 404))
def applied(body: AppliedIn, db: Session = Depends(session), isp: Isp = Depends(current_isp)) -> AppliedOut:
    """Record the acknowledgement (who is behind shows on the server), or a failed apply (`ok: false`: an audit
    event, and the ISP's applied serial stays where it was)."""
    if not body.ok:
        at = serving.record_apply_failure(db, isp=isp, serial=body.serial, sha256=body.sha256, fmt=body.format,
                                          error=body.error)
        return AppliedOut(isp=isp.name, serial=body.serial, recorded_at=at.isoformat(), ok=False)
    row = serving.record_applied(db, isp=isp, serial=body.serial, sha256=body.sha256, fmt=body.format)
    return AppliedOut(isp=isp.name, serial=row.serial, recorded_at=row.at.isoformat())
