"""Throttling of failed web logins per (source, username) and per source, and the security log.

A lock on the username alone let anyone lock a magistrate out with five anonymous guesses, again every 15
minutes. Locks here hold only for the source that failed: the same person logging in from elsewhere is never
affected, and a guesser spraying many usernames from one source is stopped after MAX_SOURCE_FAILURES.
There is deliberately no lock per account alone: guesses spread over many sources get MAX_FAILURES per source
per WINDOW; the refusal of common passwords (blocklist/passwords.py) is what keeps that slow guessing from paying off.

Counters live in the database, so that a lock holds across restarts and `serve --workers N`. The source (the
client address, as uvicorn reports it: behind a reverse proxy, the forwarded one from a trusted proxy) is
stored only as a keyed hash: staff addresses are personal data, and this table is no place to keep a record of
where people log in from. An unkeyed hash of an IPv4 address is reversed by trying all 2^32; a keyed one is not.

Lock-outs are recorded in `security_events`, never in the audit chain: the chain is the legal record of
decisions, and anonymous noise must not grow it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
from typing import Any

from sqlalchemy import JSON, Integer, String, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from blocklist.models import Base, User, UtcDateTime, utcnow

MAX_FAILURES = 5  # per source and username within WINDOW
MAX_SOURCE_FAILURES = 20  # per source over every username within WINDOW (password spraying)
WINDOW = dt.timedelta(minutes=15)  # failures older than this are forgotten
LOCK = dt.timedelta(minutes=15)  # how long a locked (source, username) pair or source stays locked
ANY_USERNAME = ""  # the row counting a source's failures over every username (no username is empty)


class LoginFailure(Base):
    """Recent failed logins of one username from one source, and until when that pair is locked."""

    __tablename__ = "web_login_failures"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)  # keyed hash, see source_of
    username: Mapped[str] = mapped_column(String(64), primary_key=True)  # ANY_USERNAME: the whole source
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SecurityEvent(Base):
    """Something an operator may want to look into (a lock-out); not hash-chained, not part of the audit."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(64))  # keyed hash, as in LoginFailure
    # Only the name of an existing account: what strangers type may be anything, their own password included.
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def source_of(host: str | None, secret: str) -> str:
    """The keyed hash of a client address; an IPv6 client is its /64, since one host usually holds all of it."""
    text = host or "unknown"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
            text = str(ipaddress.IPv6Network((address, 64), strict=False))
        elif isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            text = str(address.ipv4_mapped)
    return hmac.new(secret.encode(), b"login-source\0" + text.encode(), hashlib.sha256).hexdigest()[:32]


def locked_until(db: Session, source: str, username: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock on this username from this source ends (or on the whole source), or None."""
    now = now or utcnow()
    rows = db.execute(select(LoginFailure.locked_until).where(
        LoginFailure.source == source, LoginFailure.username.in_([username, ANY_USERNAME]),
        LoginFailure.locked_until > now)).scalars().all()
    return max((r for r in rows if r is not None), default=None)


def _count(db: Session, source: str, username: str, limit: int, now: dt.datetime) -> dt.datetime | None:
    """Add one failure to a counter; when it reaches `limit` the counter locks. The lock's end, if it locked."""
    mine = select(LoginFailure).where(LoginFailure.source == source, LoginFailure.username == username)
    row = db.execute(mine.with_for_update()).scalar_one_or_none()
    if row is None:
        try:
            with db.begin_nested():
                row = LoginFailure(source=source, username=username, failures=0, window_started_at=now)
                db.add(row)
                db.flush()
        except IntegrityError:  # a parallel failure created it first
            row = db.execute(mine.with_for_update()).scalar_one()
    if row.window_started_at < now - WINDOW:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures < limit:
        return None
    row.locked_until = now + LOCK
    row.failures, row.window_started_at = 0, now
    return row.locked_until


def _log(db: Session, event: str, source: str, username: str | None, **details: Any) -> None:
    known = username is not None and db.execute(select(User.id).where(User.username == username)).first()
    db.add(SecurityEvent(at=utcnow(), event=event, source=source, username=username if known else None,
                         details={**details, "known_account": bool(known)} if username is not None else details))


def record_failure(db: Session, source: str, username: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """Count a failed login of `username` from `source`; when that locks the pair or the source, until when."""
    now = now or utcnow()
    # Counters of other pairs that no longer matter: keeps the table small under a spray of made-up usernames.
    db.execute(delete(LoginFailure).where(
        LoginFailure.window_started_at < now - WINDOW,
        or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until < now)))
    pair = _count(db, source, username, MAX_FAILURES, now) if username else None
    whole = _count(db, source, ANY_USERNAME, MAX_SOURCE_FAILURES, now)
    if pair is not None:
        _log(db, "login.locked_out", source, username, failures=MAX_FAILURES, locked_until=pair.isoformat())
    if whole is not None:
        _log(db, "login.source_throttled", source, None, failures=MAX_SOURCE_FAILURES,
             locked_until=whole.isoformat())
    return max((t for t in (pair, whole) if t is not None), default=None)


def record_success(db: Session, source: str, username: str) -> None:
    """Forget the failures of this username from this source (the source's own count stays: see MAX_SOURCE_...)."""
    row = db.get(LoginFailure, (source, username))
    if row is not None:
        row.failures, row.locked_until = 0, None
