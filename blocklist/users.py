"""Accounts: creation, argon2 passwords, API tokens, disabling."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from blocklist.models import ApiToken, User, utcnow
from blocklist.roles import ROLES, actor_label
from blocklist.tokens import new_token, token_hash, token_prefix

LANGUAGES = ("en", "fr", "nl", "de")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()


def create_user(
    session: Session,
    *,
    actor: User | str,
    username: str,
    role: str,
    password: str | None = None,
    display_name: str = "",
    language: str = "en",
) -> tuple[User, str]:
    """Create an account and its first API token; returns the user and the token (shown once)."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            f"username {username!r} must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'",
            field="username",
        )
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}", field="role")
    if language not in LANGUAGES:
        raise InvalidInput(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}", field="language")
    if password is not None and len(password) < 10:
        raise InvalidInput("a password needs at least 10 characters", field="password")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"a user named {username!r} already exists", field="username")
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        language=language,
        password_hash=_hasher.hash(password) if password else None,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session, actor=actor_label(actor), action="user.created", object_type="user", object_id=user.id,
        details={"username": username, "role": role, "language": language},
    )
    token = issue_token(session, actor=actor, user=user)
    return user, token


def issue_token(session: Session, *, actor: User | str, user: User) -> str:
    """A new API token for the user; the plain token is returned once and never stored."""
    token = new_token("bl")
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), prefix=token_prefix(token),
                         created_at=utcnow()))
    session.flush()
    audit.record(
        session, actor=actor_label(actor), action="user.token_issued", object_type="user", object_id=user.id,
        details={"prefix": token_prefix(token)},
    )
    return token


def reset_token(session: Session, *, actor: User | str, user: User) -> str:
    """Revoke every token of the user and issue a fresh one."""
    for existing in session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars():
        existing.revoked_at = utcnow()
    return issue_token(session, actor=actor, user=user)


def set_active(session: Session, *, actor: User | str, user: User, active: bool) -> User:
    """Disable or re-enable an account (it is never deleted)."""
    user.active = active
    session.flush()
    audit.record(
        session, actor=actor_label(actor), action="user.enabled" if active else "user.disabled",
        object_type="user", object_id=user.id, details={"username": user.username},
    )
    return user


def set_password(session: Session, *, actor: User | str, user: User, password: str) -> None:
    """Set a new password (argon2id)."""
    if len(password) < 10:
        raise InvalidInput("a password needs at least 10 characters", field="password")
    user.password_hash = _hasher.hash(password)
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.password_set", object_type="user",
                 object_id=user.id, details={"username": user.username})


def user_by_token(session: Session, token: str) -> User:
    """The active user holding this API token, or Unauthenticated."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        raise Unauthenticated("invalid, revoked or disabled API token")
    return row.user


def check_password(session: Session, username: str, password: str) -> User:
    """The active user with this username and password, or Unauthenticated (same message either way)."""
    user = session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        raise Unauthenticated("wrong username or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong username or password") from None
    return user


def get_user(session: Session, username: str) -> User:
    """The user with this username, or NotFound."""
    user = session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    """Every account, in creation order."""
    return list(session.execute(select(User).order_by(User.id)).scalars())
