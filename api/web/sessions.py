"""Server-side web sessions: the cookie carries a random session id, the database says whether it still holds.

A signed cookie alone stays valid until it expires, whatever happens: a copy taken before logout would still
open `/auditor` afterwards. Here logout revokes the row, and so does disabling the account or changing its
password, in any process that has imported this module (the server does). Even where it is not imported (a
CLI process), a password change is caught: the row keeps a digest of the password hash it was opened with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy import Connection, ForeignKey, Integer, String, delete, event, inspect, update
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column

from blocklist.models import Base, User, UtcDateTime, utcnow

# The cookie's own max_age (api/app.py) matches; a stolen id is useless after this even if never revoked.
LIFETIME = dt.timedelta(hours=8)
SESSION_KEY = "sid"


class WebSession(Base):
    """One login of one browser: only the SHA-256 of its id is kept, like API tokens."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    credential: Mapped[str] = mapped_column(String(64))  # digest of the password hash at login
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _credential(user: User) -> str:
    return _digest(user.password_hash or "")


def start(db: Session, user: User) -> str:
    """Open a session for a user who just logged in; returns the id to put in the cookie."""
    now = utcnow()
    db.execute(delete(WebSession).where(WebSession.expires_at < now))  # expired rows refuse nothing more
    sid = secrets.token_urlsafe(32)
    db.add(WebSession(id_hash=_digest(sid), user_id=user.id, credential=_credential(user), created_at=now,
                      expires_at=now + LIFETIME))
    db.flush()
    return sid


def user_of(db: Session, session: dict[str, Any]) -> User | None:
    """The active user of this cookie's session, or None when it is unknown, revoked, expired or outdated."""
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str) or not sid:
        return None
    row = db.get(WebSession, _digest(sid))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    if session.get("user_id") != row.user_id:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active or _credential(user) != row.credential:
        return None
    return user


def end(db: Session, session: dict[str, Any]) -> None:
    """Revoke this cookie's session (logout)."""
    sid = session.get(SESSION_KEY)
    if isinstance(sid, str) and sid:
        db.execute(update(WebSession).where(WebSession.id_hash == _digest(sid), WebSession.revoked_at.is_(None))
                   .values(revoked_at=utcnow()))


@event.listens_for(User, "before_update")
def _revoke_on_account_change(mapper: Mapper[User], connection: Connection, target: User) -> None:
    """Disabling (or re-enabling) an account or changing its password ends every session it has open."""
    attrs = inspect(target).attrs
    if attrs.active.history.has_changes() or attrs.password_hash.history.has_changes():
        connection.execute(update(WebSession).where(WebSession.user_id == target.id, WebSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))
