"""Forms kept across a lost session: what was typed into a form whose POST came too late (the session had
ended, or its CSRF token was outdated by a login in another tab) waits here until the person is back.

Only the random id's SHA-256 is stored, like session ids; the id itself travels in the page's address
(`?restore=`, through the login's `next`). Passwords and CSRF tokens are never kept, nor uploaded files. A kept
form belongs to the account whose session sent it (when the cookie still said whose it was) and expires after
LIFETIME: it holds what an officer typed, case numbers included, and must not outlive its use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from blocklist.models import Base, User, UtcDateTime, utcnow

LIFETIME = dt.timedelta(hours=1)
MAX_CHARS = 2 * 1024 * 1024  # a pasted bulk list of 10,000 names fits; anything larger is not kept
QUERY_KEY = "restore"
NEVER_KEPT = ("csrf", "form_token", "confirm")  # the form's own machinery: the page gives fresh ones


class KeptForm(Base):
    """The fields of one form POST that could not be acted on, waiting to be shown again."""

    __tablename__ = "web_kept_forms"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(2000))  # the path the form was posted to
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def worth_keeping(form: Any) -> dict[str, str]:
    """The typed fields of a submitted form (a Starlette FormData): text only, never a password, a CSRF token or
    a file; empty when nothing typed remains or it is too large to keep."""
    kept = {key: value for key, value in form.multi_items()
            if isinstance(value, str) and key not in NEVER_KEPT and "password" not in key.lower()}
    if sum(len(key) + len(value) for key, value in kept.items()) > MAX_CHARS:
        return {}
    return kept if any(value.strip() for value in kept.values()) else {}


def keep(db: Session, *, user_id: int | None, action: str, fields: dict[str, str]) -> str:
    """Keep a form's fields; returns the id to put in the address of the page that shows it again."""
    now = utcnow()
    db.execute(delete(KeptForm).where(KeptForm.expires_at < now))  # expired forms are never shown again
    key = secrets.token_urlsafe(24)
    db.add(KeptForm(id_hash=_digest(key), user_id=user_id, action=action[:2000], fields=fields, created_at=now,
                    expires_at=now + LIFETIME))
    db.flush()
    return key


def restored(db: Session, key: str, user: User) -> KeptForm | None:
    """The kept form of this id for this user (None: unknown, expired, or another account's)."""
    if not key or len(key) > 100:
        return None
    row = db.get(KeptForm, _digest(key))
    if row is None or row.expires_at <= utcnow() or row.user_id not in (None, user.id):
        return None
    return row
