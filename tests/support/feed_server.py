"""A small stand-in for the feed endpoints (stdlib `http.server`, loopback, in a thread) for client tests that
need no database: it signs versions with a test key, requires the ISP's bearer token, answers ETag/304 and
records `applied` posts. The real server's `/feed/v1` is exercised in tests/isp_feed/test_client_*.py.

    with feed_server() as feed:
        feed.publish(make_version(1, ["csam-gallery.test"]))
        ... isp-feed pull --server feed.url --token feed.token --pubkey <feed.public_key_text()> ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from isp_feed import formats, signing

FEED = "be-blocklist"
STOP_NAME, STOP_V4, STOP_V6 = "stop.blocklist.example", "192.0.2.80", "2001:db8::80"


def make_version(
    serial: int,
    names: Iterable[str | formats.FeedEntry],
    *,
    expires_in: dt.timedelta = dt.timedelta(hours=6),
    generated_at: dt.datetime | None = None,
    previous_sha256: str | None = None,
) -> formats.FeedVersion:
    """A version of the given names (plain names get scope domain_and_subdomains) with the tests' stop page."""
    now = (generated_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    entries = tuple(n if isinstance(n, formats.FeedEntry) else formats.FeedEntry(n, n, "domain_and_subdomains")
                    for n in names)
    return formats.FeedVersion(serial=serial, generated_at=now, expires_at=now + expires_in,
                               previous_sha256=previous_sha256, entries=entries, stop_page_name=STOP_NAME,
                               stop_page_ipv4=STOP_V4, stop_page_ipv6=STOP_V6)


def signed_files(version: formats.FeedVersion, key: signing.SecretKey) -> dict[str, bytes]:
    """`{ext: body, ext.minisig: signature}` for every format, signed as the real server signs them."""
    files: dict[str, bytes] = {}
    for ext, body in formats.render_all(version).items():
        comment = formats.trusted_comment(feed=FEED, serial=version.serial, expires_at=version.expires_at,
                                          sha256=hashlib.sha256(body).hexdigest(), fmt=ext)
        files[ext] = body
        files[f"{ext}.minisig"] = signing.sign(body, comment, key).encode()
    return files


@dataclass
class FeedServer:
    """The served files and what clients did. Change `overrides` to play an attacker in the middle."""

    key: signing.SecretKey
    token: str
    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # path under /feed/v1/ -> bytes
    overrides: dict[str, bytes] = field(default_factory=dict)  # path -> bytes served instead (ETag dropped)
    applied: list[dict[str, object]] = field(default_factory=list)
    fetches: list[tuple[str, int]] = field(default_factory=list)  # (path, status)
    applied_status: int = 200
    broken: set[str] = field(default_factory=set)  # paths whose transfer breaks off halfway
    latest: int | None = None

    def publish(self, version: formats.FeedVersion) -> None:
        """Store every format of the version at `versions/{serial}.*` and make it `latest`."""
        for name, body in signed_files(version, self.key).items():
            self.files[f"versions/{version.serial}.{name}"] = body
            self.files[f"latest.{name}"] = body
        self.latest = version.serial

    def public_key_text(self) -> str:
        """The minisign public key file an ISP pins."""
        return self.key.public_key().to_text()

    def _lookup(self, path: str) -> tuple[bytes, str | None] | None:
        if path in self.overrides:
            return self.overrides[path], None
        body = self.files.get(path)
        return None if body is None else (body, f'"{hashlib.sha256(body).hexdigest()}"')

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
                if self.path[len("/feed/v1/"):] in server.broken:
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
                found = server._lookup(self.path[len("/feed/v1/"):])
                if found is None:
                    self._reply(404, b'{"reason": "no such feed file"}')
                elif found[1] is not None and self.headers.get("If-None-Match") == found[1]:
                    self._reply(304, etag=found[1])
                else:
                    self._reply(200, *found)

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
def feed_server(key: signing.SecretKey | None = None, token: str = "isp_test_token") -> Iterator[FeedServer]:
    """Serve a FeedServer on a free 127.0.0.1 port until the block ends."""
    feed = FeedServer(key=key or signing.SecretKey.generate(), token=token)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), feed.handler())
    feed.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll interval: shutdown() waits up to one interval, once per test.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
