"""A conditional GET of the latest manifest that would be answered 304 is answered from memory.

Every ISP client polls `/feed/v1/latest.manifest.json` with `If-None-Match` (once a minute from its timer, each
second with `--loop`), and nearly every answer is 304. Through the route it cost about 6 ms on this machine (route
matching, dependency solving, two trips through the thread pool, a read transaction of two statements), all of it
CPU shared with the staff. Here it is two dictionary look-ups.

A task of its own (`keep_fresh`) reads, every REFRESH_SECONDS, the latest version's serial and manifest hash, and,
when the audit chain moved (a credential issued, rotated or revoked, an ISP disabled: each is an audit event), the
credential hashes of the active ISPs. Only a request that the route would certainly answer 304 is answered here: an
active ISP's credential, and the ETag of the latest manifest as both the database (read at most STALE_SECONDS ago)
and the marker file the publisher writes after each commit (`isp_feed.serving.mark_latest`, looked at on every
request: a stat) give it. Anything else (another ETag, an unknown credential, a stale or never-loaded cache, no
marker, a database that stopped answering) goes on to the route, which reads the database and answers as always.
So a version published on this host is offered by the very next request; one published by another host (whose
marker this host does not see) within REFRESH_SECONDS; and a revoked credential stops getting 304 within as long (a
304 tells its holder only that the manifest it holds is still the latest). The answer is the route's: the same
headers, logged in the fetch log.

Long polling: a request that says `Prefer: wait=N` (RFC 7240; `isp-feed pull --loop` does) and would be answered
304 is held, up to N seconds (at most WAIT_LIMIT), until it would not be: then the route answers it (the new
manifest, or whatever else changed). So a client in a loop gets each new version within WAIT_STEP of its
publication on this host, whatever its interval, with one request per N seconds while nothing changes. A held
request costs a coroutine, and at most WAIT_LIMIT on a graceful stop.
"""

from __future__ import annotations

import logging
import os
import re
import time

import anyio
from anyio.abc import TaskStatus
from sqlalchemy import select
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import parse_bearer
from api.logs import REQUEST_ID, name_route
from api.routes.feed import cache_headers
from api.runtime import Runtime
from blocklist.models import AuditHead, Isp
from blocklist.tokens import token_hash
from isp_feed import serving
from isp_feed.models import FeedVersionRow
from isp_feed_client import manifest

log = logging.getLogger(__name__)

PATH = f"/feed/v1/latest.{manifest.MANIFEST_EXT}"
ROUTE = "/feed/v1/latest.{filename}"  # the route's template, for the request log and the metrics
REFRESH_SECONDS = 0.1
STALE_SECONDS = 1.0  # beyond this since the last good read, every request goes to the route
WAIT_LIMIT = 25.0  # seconds a `Prefer: wait` request is held at most (under common proxies' 60 s read timeouts)
WAIT_STEP = 0.05  # how often a held request looks again (a marker stat and two dictionary look-ups)
_WAIT = re.compile(r"(?:^|[;,])\s*wait\s*=\s*\"?(\d{1,6}(?:\.\d{1,3})?)\"?\s*(?=$|[;,])", re.IGNORECASE)


def asked_wait(prefer: str | None) -> float:
    """The seconds a `Prefer` header asks the server to wait (RFC 7240 `wait=N`), at most WAIT_LIMIT; 0 if none."""
    found = _WAIT.search(prefer) if prefer else None
    return min(float(found.group(1)), WAIT_LIMIT) if found else 0.0


class LatestManifest:
    """What a 304 needs, as last read: the active ISPs' credential hashes and the latest manifest's ETag."""

    def __init__(self, runtime: Runtime, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.runtime = runtime
        self.refresh_seconds = refresh_seconds
        self._isps: dict[str, int] = {}  # SHA-256 of a credential -> ISP id (active ISPs only)
        self._audit_head: int | None = None  # the audit head the credentials were read at
        self._latest: tuple[int, str] | None = None  # serial, ETag (quoted, as the route sends it)
        self._read_at = float("-inf")
        self._marker_path = serving.latest_marker(runtime.settings.data_dir)
        self._marker_stat: tuple[int, int, int] | None = None  # (inode, mtime, size) of the marker last read
        self._marked: str | None = None  # the ETag it gives

    def _marked_etag(self) -> str | None:
        """The ETag the publisher's marker gives (read again whenever the file was replaced)."""
        try:
            stat = os.stat(self._marker_path)
        except OSError:
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key != self._marker_stat:
            marked = serving.read_marker(self._marker_path)
            self._marked = None if marked is None else f'"{marked[1]}"'
            self._marker_stat = key
        return self._marked

    def refresh(self) -> None:
        """Read the latest version, and the credentials when the audit chain moved (a read-only transaction)."""
        with self.runtime.database.reading() as session:
            head = session.execute(select(AuditHead.last_id).where(AuditHead.id == 1)).scalar_one_or_none()
            if head is None or head != self._audit_head:
                self._isps = {digest: isp_id for isp_id, digest in session.execute(
                    select(Isp.id, Isp.feed_token_hash).where(Isp.active.is_(True)))}
                self._audit_head = head
            row = session.execute(select(FeedVersionRow.serial, FeedVersionRow.manifest_sha256)
                                  .order_by(FeedVersionRow.serial.desc()).limit(1)).first()
        self._latest = None if row is None or row[1] is None else (row[0], f'"{row[1]}"')
        self._read_at = time.monotonic()

    def not_modified(self, token: str, etag: str) -> tuple[int, int, str] | None:
        """(ISP id, serial, ETag) when the route would answer this credential and ETag 304, else None."""
        latest = self._latest
        if latest is None or etag != latest[1] or time.monotonic() - self._read_at > STALE_SECONDS:
            return None
        if etag != self._marked_etag():
            return None
        isp_id = self._isps.get(token_hash(token))
        return None if isp_id is None else (isp_id, latest[0], latest[1])

    async def keep_fresh(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Refresh every `refresh_seconds` until cancelled; a failure leaves the cache to go stale (then the route
        answers every request) and is logged when it starts and when it ends."""
        failing = False
        while True:
            try:
                await anyio.to_thread.run_sync(self.refresh)
            except Exception as exc:
                if not failing:
                    log.warning("feed: the latest manifest could not be read (%s); conditional requests go to the "
                                "route", type(exc).__name__)
                failing = True
            else:
                if failing:
                    log.warning("feed: the latest manifest is read again")
                failing = False
            task_status.started()
            task_status = anyio.TASK_STATUS_IGNORED
            await anyio.sleep(self.refresh_seconds)


class NotModifiedMiddleware:
    """Innermost: answers `GET latest.manifest.json` 304 from `LatestManifest` when it certainly is."""

    def __init__(self, app: ASGIApp, latest: LatestManifest) -> None:
        self.app = app
        self.latest = latest

    async def _held(self, token: str, etag: str, wait: float) -> tuple[int, int, str] | None:
        """Look again every WAIT_STEP, up to `wait` seconds, while the answer would still be 304: what
        `LatestManifest.not_modified` says at the end (None: the route answers, a new version most likely)."""
        until = time.monotonic() + wait
        found = self.latest.not_modified(token, etag)
        while found is not None and time.monotonic() < until:
            await anyio.sleep(min(WAIT_STEP, max(0.0, until - time.monotonic())))
            found = self.latest.not_modified(token, etag)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == PATH:
            headers: dict[bytes, str] = {}
            for key, value in scope["headers"]:  # the first of each, decoded as the route reads them (Starlette)
                if key in (b"authorization", b"if-none-match", b"prefer") and key not in headers:
                    headers[key] = value.decode("latin-1")
            token = parse_bearer(headers.get(b"authorization", ""))
            etag = headers.get(b"if-none-match")
            found = self.latest.not_modified(token, etag) if token and etag else None
            wait = asked_wait(headers.get(b"prefer")) if found is not None else 0.0
            if wait:
                found = await self._held(token or "", etag or "", wait)
            if found is not None:
                isp_id, serial, tag = found
                self.latest.runtime.job_context.fetch_log.add(isp_id=isp_id, serial=serial,
                                                              ext=manifest.MANIFEST_EXT, status=304)
                name_route(scope, ROUTE)  # (a named route gets no X-Request-ID from the log: it is added here)
                sent = {**cache_headers(tag, serial, immutable=False), "X-Request-ID": REQUEST_ID.get()}
                if wait:
                    sent["Preference-Applied"] = f"wait={wait:g}"  # held: the client may ask again at once
                await send({"type": "http.response.start", "status": 304,
                            "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in sent.items()]})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)
