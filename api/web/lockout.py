"""Failed logins per username, kept in the database so that a lock-out holds across restarts and workers.

Only the username typed and times are kept: never the visitor's address or browser.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from blocklist import audit
from blocklist.models import Base, UtcDateTime, utcnow

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)  # failures older than this are forgotten
LOCK = dt.timedelta(minutes=15)  # how long a locked username stays locked


class LoginFailure(Base):
    """Recent failed logins of one username, and until when it is locked."""

    __tablename__ = "web_login_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


def locked_until(db: Session, username: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock on this username ends, or None when it may try to log in."""
    now = now or utcnow()
    row = db.get(LoginFailure, username)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def record_failure(db: Session, username: str, *, now: dt.datetime | None = None) -> bool:
    """Count a failed login; after MAX_FAILURES within WINDOW the username is locked (audited). True if locked."""
    now = now or utcnow()
    mine = select(LoginFailure).where(LoginFailure.username == username).with_for_update()
    row = db.execute(mine).scalar_one_or_none()
    if row is None:
        try:
            with db.begin_nested():
                row = LoginFailure(username=username, failures=0, window_started_at=now)
                db.add(row)
                db.flush()
        except IntegrityError:  # a parallel failure created it first
            row = db.execute(mine).scalar_one()
    if row.window_started_at < now - WINDOW:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures < MAX_FAILURES:
        return False
    row.locked_until = now + LOCK
    row.failures, row.window_started_at = 0, now
    audit.record(db, actor="web", action="user.locked_out", object_type="user", object_id=username,
                 details={"failures": MAX_FAILURES, "locked_until": audit.format_time(row.locked_until)})
    return True


def record_success(db: Session, username: str) -> None:
    """Forget the failures of a username that just logged in."""
    row = db.get(LoginFailure, username)
    if row is not None:
        row.failures, row.locked_until = 0, None
