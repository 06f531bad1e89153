"""A man-in-the-middle between the ISP client and the real server, on loopback: it passes everything
through unless told to replace a path's response body (to play the attacks the client must refuse).

Paths are as the client asks them (`/feed/v1/latest.manifest.json`, `/feed/v1/versions/3.rpz`,
`/feed/v1/diff?from=2&to=3`); a rewrite keyed by a path without its query (`/feed/v1/diff`) applies whatever the
query."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Rewrite = Callable[[bytes], bytes]


class TamperProxy:
    """Forwards to `upstream`; `rewrites[path]` changes the body the client receives for that path (the path with
    its query first, then without)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rewrites: dict[str, Rewrite] = {}
        self.url = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                rewrite = proxy.rewrites.get(self.path) or proxy.rewrites.get(self.path.split("?")[0])
                if rewrite is None and self.headers.get("If-None-Match"):
                    headers["If-None-Match"] = self.headers["If-None-Match"]
                upstream = httpx.request(method, proxy.upstream + self.path, headers=headers, content=body, timeout=30)
                content = upstream.content if rewrite is None else rewrite(upstream.content)
                self.send_response(upstream.status_code)
                for key in ("Content-Type", "ETag"):
                    if key in upstream.headers and rewrite is None:
                        self.send_header(key, upstream.headers[key])
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def tamper_proxy(upstream: str) -> Iterator[TamperProxy]:
    """Run the proxy on a free loopback port."""
    proxy = TamperProxy(upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), proxy.handler())
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
