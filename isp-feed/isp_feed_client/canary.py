"""The canary: a name unique to each content serial that every resolver format blocks, so that a client (after a
reload) and the verifier (from outside) can ask a resolver which version it really serves.

It lives under the stop page's own host name — a name the feed's operator owns and no listed site can be — and is
never part of the list itself (not counted, not in the canonical list or the envelope): only the files a resolver
loads carry it, each as one exact-name block answered with the stop page (its CNAME, or its IPv4 address).
"""

from __future__ import annotations

__all__ = ["canary_name"]


def canary_name(serial: int, stop_page_name: str) -> str:
    """The canary of content serial `serial` for a feed whose stop page is `stop_page_name` (an A-label)."""
    return f"serial-{serial}.canary.{stop_page_name.rstrip('.').lower()}"
