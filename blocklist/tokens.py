"""Random credentials shown once and stored as SHA-256 (they carry 256 bits, so a slow hash adds nothing)."""

from __future__ import annotations

import hashlib
import secrets


def new_token(kind: str) -> str:
    """A fresh random token, prefixed by its kind (`bl` for users, `isp` for feed credentials)."""
    return f"{kind}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters, kept to recognise a token in lists without revealing it."""
    return token[:12]
