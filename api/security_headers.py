"""Security headers on every response the app sends, error pages included (a pure ASGI middleware).

A header the response already carries is left as it is: the stop page and the appeal page set their own
(api/stoppage.py), the API reference its own script policy (api/docs.py), the feed its own Cache-Control
(immutable versions are cacheable, `latest` revalidates).
"""

from __future__ import annotations

import base64
import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The style attributes the templates use; a hash allows exactly these and nothing injected beside them.
INLINE_STYLES = ("word-break:break-all",)


def _style_hashes() -> str:
    hashes = [base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in INLINE_STYLES]
    return " ".join(f"'sha256-{h}'" for h in hashes)


# The pages use no JavaScript, no frames, no fonts and nothing from another site; images are inline (data:).
CSP = ("default-src 'none'; "
       f"style-src 'self' 'unsafe-hashes' {_style_hashes()}; "
       "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Not no-referrer: with that, Chromium sends `Origin: null` on the pages' own form posts.
    (b"referrer-policy", b"same-origin"),
    # Pages show decisions, evidence references and once-only tokens: nothing goes into a disk or proxy cache.
    (b"cache-control", b"no-store"),
)
# The stylesheet never changes between releases and holds nothing private: let browsers keep it.
CACHEABLE_PATHS = ("/static/",)


class SecurityHeadersMiddleware:
    """Adds HEADERS to each HTTP response that does not already set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        skip = set()
        if path.startswith(CACHEABLE_PATHS):
            skip.add(b"cache-control")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in HEADERS if name not in present and name not in skip)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
