"""A small stand-in for the feed endpoints (stdlib `http.server`, loopback, in a thread) for client tests that
need no database. It publishes the layout of issue #12 exactly as the real server does:

- `versions/{serial}.{ext}` and `.minisig` for every format of formats.EXTENSIONS (the `list` included), signed
  `feed=be-blocklist serial=<content serial> sha256=<hex> format=<ext>` (no expiry: files outlive re-issues), and
  `latest.{ext}`; any manifest serial serves the files of its content;
- `versions/{serial}.manifest.json` and `latest.manifest.json` with their `.minisig` (the manifest's signed comment
  carries serial and expiry), chained by `previous_sha256`, with an optional audit checkpoint;
- `diff?from=S&to=T` (T defaults to the latest): the deltas stored per content version, composed;
- `POST applied`, recorded.

Every request needs the ISP's bearer token; every answer carries an ETag (the SHA-256 of its body, so the
manifest's is `"<manifest sha256>"`) and honours If-None-Match with 304.

    with feed_server() as feed:
        feed.publish(make_version(1, ["csam-gallery.test"]))   # serial 1, its files, its manifest
        feed.reissue()                                          # serial 2: a new expiry, the same files
        ... isp-feed pull --server feed.url --token feed.token --pubkey <feed.public_key_text()> ...

To play an attacker: `overrides` (path -> bytes served instead, without ETag; a path without its query matches
any query), `broken` (paths whose transfer breaks off halfway), `build(version)` (every file of a version that is
not published, as overrides: its manifest as latest, its files, its delta as `diff`), `replay(serial)` (an older
genuine manifest as latest), `sign_manifest(manifest)` (any manifest, signed by the feed's key or another).
`fetches` logs (path with query, status) of every request. `failing` (path -> statuses answered first, e.g.
[503, 503]) plays a server that is restarting; `feed_server(tls=make_pki(folder))` serves HTTPS.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from isp_feed_client import delta, formats, manifest, signing

if TYPE_CHECKING:
    from tests.support.smtp import Pki

FEED = "be-blocklist"
STOP_NAME, STOP_V4, STOP_V6 = "stop.blocklist.example", "192.0.2.80", "2001:db8::80"
MANIFEST = manifest.MANIFEST_EXT  # "manifest.json"


def make_version(
    serial: int,
    names: Iterable[str | formats.FeedEntry],
    *,
    generated_at: dt.datetime | None = None,
) -> formats.FeedVersion:
    """A content version of the given names (plain names get scope domain_and_subdomains) with the tests' stop
    page. Its expiry is the manifest's: see FeedServer.publish."""
    now = (generated_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    entries = tuple(n if isinstance(n, formats.FeedEntry) else formats.FeedEntry(n, n, "domain_and_subdomains")
                    for n in names)
    return formats.FeedVersion(serial=serial, generated_at=now, entries=entries, stop_page_name=STOP_NAME,
                               stop_page_ipv4=STOP_V4, stop_page_ipv6=STOP_V6)


def file_comment(serial: int, body: bytes, ext: str) -> str:
    """The signed comment of one format file (no expiry)."""
    return formats.trusted_comment(feed=FEED, serial=serial, sha256=hashlib.sha256(body).hexdigest(), fmt=ext)


def signed_files(version: formats.FeedVersion, key: signing.SecretKey) -> dict[str, bytes]:
    """`{ext: body, ext.minisig: signature}` for every format, signed as the real server signs them."""
    files: dict[str, bytes] = {}
    for ext, body in formats.render_each(version):
        files[ext] = body
        files[f"{ext}.minisig"] = signing.sign(body, file_comment(version.serial, body, ext), key).encode()
    return files


def sign_manifest(m: manifest.Manifest, key: signing.SecretKey) -> tuple[bytes, bytes]:
    """A manifest's canonical bytes and their signature (trusted comment with serial, expiry and SHA-256)."""
    data = manifest.manifest_bytes(m)
    return data, signing.sign(data, manifest.trusted_comment(m, manifest.manifest_sha256(data)), key).encode()


def manifest_for(
    version: formats.FeedVersion,
    files: dict[str, bytes],
    *,
    serial: int | None = None,
    step: delta.Delta | None = None,
    previous_sha256: str | None = None,
    expires_in: dt.timedelta = dt.timedelta(hours=6),
    generated_at: dt.datetime | None = None,
    checkpoint: formats.AuditCheckpoint | None = None,
    confirmation: manifest.Confirmation | None = None,
) -> manifest.Manifest:
    """The manifest of manifest serial `serial` (default: the content's) carrying `version`'s rendered `files` (and
    the publication gate's `confirmation` of its change)."""
    made = (generated_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    ref = None
    if step is not None:
        body = delta.delta_bytes(step)
        ref = manifest.DeltaRef(step.from_serial, hashlib.sha256(body).hexdigest(), len(body), len(step.added),
                                len(step.removed))
    return manifest.Manifest(
        serial=serial or version.serial, content_serial=version.serial, content_generated_at=version.generated_at,
        generated_at=made, expires_at=made + expires_in, previous_sha256=previous_sha256, count=version.count,
        files={ext: manifest.FileRef(hashlib.sha256(files[ext]).hexdigest(), len(files[ext]))
               for ext in formats.EXTENSIONS},
        delta=ref, stop_page_name=version.stop_page_name, stop_page_ipv4=version.stop_page_ipv4,
        stop_page_ipv6=version.stop_page_ipv6, checkpoint=checkpoint, confirmation=confirmation)


@dataclass
class FeedServer:
    """The served files and what clients did."""

    key: signing.SecretKey
    token: str
    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # path under /feed/v1/ -> bytes
    manifests: dict[int, manifest.Manifest] = field(default_factory=dict)  # manifest serial -> manifest
    contents: dict[int, formats.FeedVersion] = field(default_factory=dict)  # content serial -> version
    deltas: dict[int, delta.Delta] = field(default_factory=dict)  # content serial -> delta from the previous one
    overrides: dict[str, bytes] = field(default_factory=dict)  # path -> bytes served instead (ETag dropped)
    applied: list[dict[str, object]] = field(default_factory=list)
    fetches: list[tuple[str, int]] = field(default_factory=list)  # (path, status)
    prefers: list[str | None] = field(default_factory=list)  # the Prefer header of each conditional manifest poll
    applied_status: int = 200
    broken: set[str] = field(default_factory=set)  # paths whose transfer breaks off halfway
    failing: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses answered (and used up) first
    latest: int | None = None  # the latest manifest serial

    # --- publishing -----------------------------------------------------------------------------------------------

    def _before(self, serial: int) -> tuple[formats.FeedVersion | None, manifest.Manifest | None]:
        """The content and the manifest a new serial follows (the newest below it)."""
        content = max((c for c in self.contents if c < serial), default=None)
        previous = max((s for s in self.manifests if s < serial), default=None)
        return (None if content is None else self.contents[content],
                None if previous is None else self.manifests[previous])

    def _release(self, version: formats.FeedVersion, *, key: signing.SecretKey | None = None,
                 step: delta.Delta | None = None, **manifest_fields: object) -> tuple[
                     manifest.Manifest, delta.Delta | None, dict[str, bytes]]:
        """A version's manifest, delta and every file (paths under /feed/v1/), built but not published."""
        signer = key or self.key
        older, previous = self._before(version.serial)
        if step is None and older is not None:
            step = delta.between(older.entries, version.entries, from_serial=older.serial, to_serial=version.serial)
        files = signed_files(version, signer)
        previous_sha = None
        if previous is not None:
            previous_sha = manifest.manifest_sha256(self.files[f"versions/{previous.serial}.{MANIFEST}"])
        fields: dict[str, object] = {"previous_sha256": previous_sha, **manifest_fields}
        m = manifest_for(version, files, step=step, **fields)  # type: ignore[arg-type]
        paths = {f"versions/{version.serial}.{name}": body for name, body in files.items()}
        paths.update(self._manifest_paths(m, signer))
        return m, step, paths

    def _manifest_paths(self, m: manifest.Manifest, key: signing.SecretKey) -> dict[str, bytes]:
        data, signature = sign_manifest(m, key)
        return {f"versions/{m.serial}.{MANIFEST}": data, f"versions/{m.serial}.{MANIFEST}.minisig": signature}

    def _store(self, m: manifest.Manifest, paths: dict[str, bytes]) -> None:
        """Store a release and make it latest (whatever its serial: a lower one plays a server gone back)."""
        self.files.update(paths)
        self.manifests[m.serial] = m
        self.latest = m.serial
        for path, body in paths.items():
            self.files["latest." + path.split(".", 1)[1]] = body

    def publish(self, version: formats.FeedVersion, *, expires_in: dt.timedelta = dt.timedelta(hours=6),
                generated_at: dt.datetime | None = None, checkpoint: formats.AuditCheckpoint | None = None,
                step: delta.Delta | None = None,
                confirmation: manifest.Confirmation | None = None) -> manifest.Manifest:
        """A new content version at manifest serial `version.serial`: every file, the delta from the previous
        content (`step` to give it rather than compute it), a manifest chained to the newest one below it, made
        latest. Publishing an existing serial again replaces it (a server that signs two versions under one
        serial); a serial below the latest makes it latest all the same (a server restored from a backup)."""
        m, step, paths = self._release(version, step=step, expires_in=expires_in, generated_at=generated_at,
                                       checkpoint=checkpoint, confirmation=confirmation)
        self.contents[version.serial] = version
        if step is not None:
            self.deltas[version.serial] = step
        self._store(m, paths)
        return m

    def reissue(self, *, expires_in: dt.timedelta = dt.timedelta(hours=6), generated_at: dt.datetime | None = None,
                checkpoint: formats.AuditCheckpoint | None = None) -> manifest.Manifest:
        """The hourly re-issue: a new manifest serial and expiry, chained, carrying the latest content's files."""
        assert self.latest is not None, "publish a version first"
        current = self.manifests[self.latest]
        serial = self.latest + 1
        made = (generated_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        previous_sha = manifest.manifest_sha256(self.files[f"versions/{current.serial}.{MANIFEST}"])
        m = dataclasses.replace(current, serial=serial, generated_at=made, expires_at=made + expires_in,
                                previous_sha256=previous_sha, checkpoint=checkpoint or current.checkpoint)
        paths = self._content_paths(current.content_serial, serial)
        paths.update(self._manifest_paths(m, self.key))
        self._store(m, paths)
        return m

    def _content_paths(self, content_serial: int, serial: int) -> dict[str, bytes]:
        """The files of a content, under another manifest serial (the same bytes)."""
        found = {}
        for ext in formats.EXTENSIONS:
            for name in (ext, f"{ext}.minisig"):
                found[f"versions/{serial}.{name}"] = self.files[f"versions/{content_serial}.{name}"]
        return found

    # --- playing an attacker --------------------------------------------------------------------------------------

    def build(self, version: formats.FeedVersion, *, key: signing.SecretKey | None = None,
              expires_in: dt.timedelta = dt.timedelta(hours=6), generated_at: dt.datetime | None = None,
              checkpoint: formats.AuditCheckpoint | None = None, diff_from: int | None = None,
              with_diff: bool = True) -> dict[str, bytes]:
        """Every file of a version that is NOT published, as `overrides`: its manifest as latest, its files at its
        serial, and (`with_diff`) its delta from the content of manifest serial `diff_from` (default the latest:
        the serial the client applied) as the answer to any `diff`."""
        m, _, paths = self._release(version, key=key, expires_in=expires_in, generated_at=generated_at,
                                    checkpoint=checkpoint)
        paths[f"latest.{MANIFEST}"] = paths[f"versions/{m.serial}.{MANIFEST}"]
        paths[f"latest.{MANIFEST}.minisig"] = paths[f"versions/{m.serial}.{MANIFEST}.minisig"]
        base = diff_from if diff_from is not None else self.latest
        if with_diff and base is not None:
            start = self.manifests[base].content_serial
            paths["diff"] = delta.delta_bytes(delta.between(self.contents[start].entries, version.entries,
                                                            from_serial=start, to_serial=version.serial))
        return paths

    def signed(self, m: manifest.Manifest, key: signing.SecretKey | None = None) -> dict[str, bytes]:
        """Overrides serving this manifest (signed by the feed's key, or `key`) as latest."""
        data, signature = sign_manifest(m, key or self.key)
        return {f"latest.{MANIFEST}": data, f"latest.{MANIFEST}.minisig": signature}

    def replay(self, serial: int) -> dict[str, bytes]:
        """Overrides serving an older, genuinely signed manifest as latest."""
        return {f"latest.{MANIFEST}": self.files[f"versions/{serial}.{MANIFEST}"],
                f"latest.{MANIFEST}.minisig": self.files[f"versions/{serial}.{MANIFEST}.minisig"]}

    def diff(self, from_serial: int, to_serial: int | None = None) -> delta.Delta | None:
        """The delta from the content of manifest serial `from_serial` to that of `to_serial` (default latest),
        composed from the stored ones; None when either is unknown or the deltas in between are not kept."""
        end_serial = to_serial if to_serial is not None else self.latest
        if from_serial not in self.manifests or end_serial not in self.manifests:
            return None
        start = self.manifests[from_serial].content_serial
        end = self.manifests[end_serial].content_serial
        chain: list[delta.Delta] = []
        cursor = end
        while cursor > start:
            step = self.deltas.get(cursor)
            if step is None:
                return None
            chain.append(step)
            cursor = step.from_serial
        if cursor != start:
            return None
        return delta.compose(chain[::-1]) if chain else delta.Delta(start, start, (), ())

    def public_key_text(self) -> str:
        """The minisign public key file an ISP pins."""
        return self.key.public_key().to_text()

    def manifest_bytes(self, serial: int | None = None) -> bytes:
        """The bytes of a published manifest (default latest)."""
        return self.files[f"versions/{serial or self.latest}.{MANIFEST}"]

    def paths(self) -> list[str]:
        """The feed paths fetched so far (query included, `/feed/v1/` cut), in order."""
        return [path.removeprefix("/feed/v1/") for path, _ in self.fetches]

    # --- HTTP -----------------------------------------------------------------------------------------------------

    def _lookup(self, target: str) -> tuple[int, bytes, str | None]:
        """Status, body and ETag for a path under /feed/v1/ (query included)."""
        path, _, query = target.partition("?")
        for key in (target, path):
            if key in self.overrides:
                return 200, self.overrides[key], None
        if path == "diff":
            params = urllib.parse.parse_qs(query)
            try:
                start = int(params["from"][0])
                end = int(params["to"][0]) if "to" in params else self.latest
            except (KeyError, ValueError):
                return 400, b'{"reason": "from must be a serial"}', None
            if end is not None and start > end:
                return 400, b'{"reason": "from is after to"}', None
            step = self.diff(start, end)
            if step is None:
                return 404, b'{"reason": "no delta from that serial"}', None
            body = delta.delta_bytes(step)
        else:
            found = self.files.get(path)
            if found is None:
                return 404, b'{"reason": "no such feed file"}', None
            body = found
        return 200, body, f'"{hashlib.sha256(body).hexdigest()}"'

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: bytes = b"", etag: str | None = None) -> None:
                server.fetches.append((self.path, status))
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                target = self.path[len("/feed/v1/"):]
                if target in server.broken or target.partition("?")[0] in server.broken:
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    self._reply(401, b'{"reason": "an ISP feed credential is required"}')
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                if not self.path.startswith("/feed/v1/"):
                    self._reply(404)
                    return
                target = self.path[len("/feed/v1/"):]
                if server.failing.get(target):
                    self._reply(server.failing[target].pop(0), b'{"reason": "restarting"}')
                    return
                status, body, etag = server._lookup(target)
                if target == "latest.manifest.json" and self.headers.get("If-None-Match"):
                    server.prefers.append(self.headers.get("Prefer"))  # (a stand-in: it never holds a poll)
                if status == 200 and etag is not None and self.headers.get("If-None-Match") == etag:
                    self._reply(304, etag=etag)
                else:
                    self._reply(status, body, etag)

            def do_POST(self) -> None:
                if not self._authorised():
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/feed/v1/applied":
                    self._reply(404)
                    return
                if server.applied_status == 200:
                    server.applied.append(json.loads(body))
                self._reply(server.applied_status, b"{}")

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def feed_server(key: signing.SecretKey | None = None, token: str = "isp_test_token",
                tls: Pki | None = None) -> Iterator[FeedServer]:
    """Serve a FeedServer on a free 127.0.0.1 port until the block ends (HTTPS with `tls`'s certificate)."""
    feed = FeedServer(key=key or signing.SecretKey.generate(), token=token)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), feed.handler())
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert_file, tls.key_file)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        scheme = "https"
    feed.url = f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    # A short poll interval: shutdown() waits up to one interval, once per test.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
