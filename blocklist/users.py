"""Accounts: creation, confirmation by a second person, enrolment, argon2 passwords, API tokens, disabling.

Threat model (README, "Accounts and the four-eyes rule"): one administrator alone must not be able to produce
a decision that looks like two people's. So an administrator never obtains a usable credential of another
person (no token, no password, no enrolment link is ever shown to them), and an account an administrator
creates, re-credentials or gives another role can do nothing until a SECOND person confirms it: another
administrator, or the operator on the server (`blocklist user confirm`), who already holds the database.
The operator's own commands (`blocklist user add`, `demo`) are confirmed by the operator at once.
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import make_msgid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist import audit, mail, mail_templates
from blocklist.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from blocklist.isps import validate_email
from blocklist.models import ApiToken, Enrolment, User, utcnow
from blocklist.passwords import check_password_strength
from blocklist.roles import actor_label, is_operator, require_role
from blocklist.settings import Settings
from blocklist.text import clean_text
from blocklist.tokens import new_token, token_hash, token_prefix
from blocklist.vocab import LANGUAGES, ROLES

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()
ENROLMENT_VALIDITY = dt.timedelta(days=3)


def create_user(
    session: Session,
    *,
    actor: User | str,
    username: str,
    role: str,
    password: str | None = None,
    display_name: str = "",
    language: str = "en",
    email: str | None = None,
) -> tuple[User, str]:
    """The operator on the server creates an account, confirmed at once, and receives its first API token."""
    if not is_operator(actor):
        raise Forbidden("an administrator creates accounts with create_account: they never receive a credential")
    user = _new_user(session, actor=actor, username=username, role=role, password=password,
                     display_name=display_name, language=language, email=email)
    _confirmed(session, actor=actor, user=user)
    token = issue_token(session, actor=actor, user=user)
    return user, token


def create_account(
    session: Session,
    *,
    actor: User,
    username: str,
    role: str,
    display_name: str = "",
    language: str = "en",
    email: str | None = None,
) -> User:
    """An administrator creates an account: no credential, and it can do nothing until a second person confirms.

    The person enrols with a one-time link that the operator gives them (`blocklist user enrol`).
    """
    require_role(actor, "admin", action="create accounts")
    return _new_user(session, actor=actor, username=username, role=role, password=None,
                     display_name=display_name, language=language, email=email)


def _new_user(
    session: Session,
    *,
    actor: User | str,
    username: str,
    role: str,
    password: str | None,
    display_name: str,
    language: str,
    email: str | None,
) -> User:
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
    if password is not None:
        check_password_strength(password, username=username)
    display_name = clean_text(display_name, field="display_name", max_length=200)
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
        email=validate_email(email) if email else None,
        credentialed_by=actor_label(actor),
    )
    session.add(user)
    session.flush()
    audit.record(
        session, actor=actor_label(actor), action="user.created", object_type="user", object_id=user.id,
        details={"username": username, "role": role, "language": language},
    )
    return user


def _confirmed(session: Session, *, actor: User | str, user: User) -> None:
    user.confirmed_by, user.confirmed_at = actor_label(actor), utcnow()
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.confirmed", object_type="user", object_id=user.id,
                 details={"username": user.username, "role": user.role, "credentialed_by": user.credentialed_by})


def _needs_confirmation(session: Session, *, actor: User | str, user: User, why: str) -> None:
    """After an administrator changed who can act as `user`: nothing until a second person confirms."""
    user.credentialed_by = actor_label(actor)
    if is_operator(actor):
        _confirmed(session, actor=actor, user=user)
        return
    user.confirmed_by, user.confirmed_at = None, None
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.confirmation_required", object_type="user",
                 object_id=user.id, details={"username": user.username, "because": why})


def confirm(session: Session, *, actor: User | str, user: User) -> User:
    """A second person confirms an account an administrator made, re-credentialed or gave a new role."""
    if user.confirmed_at is not None:
        raise Conflict(f"account {user.username!r} is already confirmed (by {user.confirmed_by})")
    if not is_operator(actor):
        assert isinstance(actor, User)
        require_role(actor, "admin", action="confirm accounts")
        refusal = second_person_refusal(actor, user)
        if refusal is not None:
            raise Forbidden(refusal)
    _confirmed(session, actor=actor, user=user)
    return user


def second_person_refusal(actor: User, user: User) -> str | None:
    """Why `actor` is not the second person who may confirm `user`'s pending change, or None if they are.

    The pages ask it too, to offer the confirm button only to someone the rule admits."""
    if actor.id == user.id:
        return "no one confirms their own account"
    if actor_label(actor) == user.credentialed_by:
        return (f"{actor.username!r} made this change to {user.username!r} and cannot also confirm it: "
                "another administrator (or the operator on the server) must")
    return None


def start_enrolment(session: Session, *, actor: User | str, user: User) -> str:
    """A one-time enrolment code for `user` (the operator hands it over; an administrator never sees it)."""
    if not is_operator(actor):
        raise Forbidden("only the operator on the server hands out enrolment links")
    code = _new_enrolment(session, actor=actor, user=user)
    audit.record(session, actor=actor_label(actor), action="user.enrolment_started", object_type="user",
                 object_id=user.id, details={"username": user.username})
    return code


def _new_enrolment(session: Session, *, actor: User | str, user: User) -> str:
    """Store a fresh one-time enrolment code for `user` (any older open one stops working); returns the code."""
    for pending in session.execute(select(Enrolment).where(Enrolment.user_id == user.id,
                                                           Enrolment.used_at.is_(None))).scalars():
        pending.used_at = utcnow()  # a new link replaces any older one
    code = new_token("enrol")
    now = utcnow()
    session.add(Enrolment(user_id=user.id, code_hash=token_hash(code), created_by=actor_label(actor),
                          created_at=now, expires_at=now + ENROLMENT_VALIDITY))
    session.flush()
    return code


def enrolment(session: Session, code: str) -> Enrolment:
    """The open enrolment behind a code, or Unauthenticated."""
    row = session.execute(select(Enrolment).where(Enrolment.code_hash == token_hash(code))).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or not row.user.active:
        raise Unauthenticated("this enrolment link is unknown, used or expired; ask the operator for a new one")
    return row


def enrol(session: Session, *, code: str, password: str) -> tuple[User, str]:
    """The person sets their own password with their one-time link and receives their own API token."""
    row = enrolment(session, code)
    user = row.user
    set_password(session, actor=user, user=user, password=password)
    row.used_at = utcnow()
    for existing in session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars():
        existing.revoked_at = utcnow()
    return user, issue_token(session, actor=user, user=user)


def set_role(session: Session, *, actor: User | str, user: User, role: str) -> User:
    """Give an account another role (by an administrator: to be confirmed by a second person)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}", field="role")
    if not is_operator(actor):
        assert isinstance(actor, User)
        require_role(actor, "admin", action="change roles")
        if actor.id == user.id:
            raise Forbidden("no one changes their own role")
    if user.role == "admin" and role != "admin":
        _keep_an_admin(session, user, "take the administrator role from")
    before, user.role = user.role, role
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.role_changed", object_type="user",
                 object_id=user.id, details={"username": user.username, "from": before, "to": role})
    _needs_confirmation(session, actor=actor, user=user, why="role changed")
    return user


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


def reset_token(session: Session, *, actor: str, user: User) -> str:
    """The operator revokes every token of the user and issues a fresh one (printed on the server)."""
    if not is_operator(actor):
        raise Forbidden("only the operator on the server receives a new token for someone else")
    revoke_credentials(session, actor=actor, user=user)
    return issue_token(session, actor=actor, user=user)


def revoke_credentials(session: Session, *, actor: User | str, user: User) -> User:
    """Revoke every token and the password of `user` (they re-enrol). By an administrator: to be re-confirmed."""
    if not is_operator(actor):
        assert isinstance(actor, User)
        require_role(actor, "admin", action="reset credentials")
    for existing in session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars():
        existing.revoked_at = utcnow()
    user.password_hash = None
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.credentials_revoked", object_type="user",
                 object_id=user.id, details={"username": user.username})
    _needs_confirmation(session, actor=actor, user=user, why="credentials reset")
    return user


def set_active(session: Session, *, actor: User | str, user: User, active: bool) -> User:
    """Disable or re-enable an account (it is never deleted). No one disables their own account, and the last
    administrator who can act is never disabled: nobody could manage accounts any more (409 either way)."""
    if not is_operator(actor):
        assert isinstance(actor, User)
        require_role(actor, "admin", action="disable or enable accounts")
    if not active:
        disable_refusal(session, actor=actor, user=user)
    user.active = active
    session.flush()
    audit.record(
        session, actor=actor_label(actor), action="user.enabled" if active else "user.disabled",
        object_type="user", object_id=user.id, details={"username": user.username},
    )
    return user


def disable_refusal(session: Session, *, actor: User | str, user: User) -> None:
    """Refuse (409) disabling one's own account or the last administrator who can act; the pages ask before
    their confirmation step."""
    if not is_operator(actor) and isinstance(actor, User) and actor.id == user.id:
        raise Conflict(f"{user.username!r} cannot disable their own account: another administrator must")
    _keep_an_admin(session, user, "disable")


def acting_admins(session: Session) -> list[User]:
    """The administrators who can act now: enabled and confirmed by a second person."""
    return list(session.execute(select(User).where(User.role == "admin", User.active.is_(True),
                                                   User.confirmed_at.is_not(None)).order_by(User.id)).scalars())


def _keep_an_admin(session: Session, user: User, verb: str) -> None:
    """Refuse (409) a change that would leave no administrator able to act."""
    others = [a for a in acting_admins(session) if a.id != user.id]
    if user.role == "admin" and user.active and user.confirmed_at is not None and not others:
        raise Conflict(f"cannot {verb} {user.username!r}: it is the last administrator who can act, and nobody "
                       "could manage accounts any more; make and confirm another administrator first")


def update_profile(session: Session, *, actor: User | str, user: User, display_name: str | None = None,
                   language: str | None = None, email: str | None = None) -> User:
    """Change an account's display name, language or e-mail address (None: unchanged; "" clears the address).

    The name and the language give no one a credential. The e-mail address is where an enrolment link may be
    sent (`mail_enrolment`), so an administrator's change of it waits for a second person's confirmation."""
    if not is_operator(actor):
        assert isinstance(actor, User)
        require_role(actor, "admin", action="edit accounts")
    changed: dict[str, object] = {}
    if display_name is not None:
        name = clean_text(display_name, field="display_name", max_length=200) or user.username
        if name != user.display_name:
            changed["display_name"], user.display_name = name, name
    if language is not None and language != user.language:
        if language not in LANGUAGES:
            raise InvalidInput(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}",
                               field="language")
        changed["language"], user.language = language, language
    address = None if email is None else (clean_text(email, field="email", max_length=254) or None)
    if address is not None:
        address = validate_email(address)
    if email is not None and address != user.email:
        changed["email"], user.email = address, address
    if not changed:
        return user
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.updated", object_type="user", object_id=user.id,
                 details={"username": user.username, **changed})
    if "email" in changed:
        _needs_confirmation(session, actor=actor, user=user, why=f"e-mail address changed to {address}")
    return user


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """Every API token the account was ever given (revoked ones too), newest first; only prefixes are kept."""
    return list(session.execute(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id.desc())).scalars())


def revoke_token(session: Session, *, actor: User | str, user: User, token_id: int) -> ApiToken:
    """Revoke one API token of the account (it stops working at once). Revoking hands no one a credential, so no
    second person is needed; an administrator may revoke their own tokens too."""
    if not is_operator(actor):
        assert isinstance(actor, User)
        require_role(actor, "admin", action="revoke tokens")
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"{user.username!r} has no token #{token_id}")
    if token.revoked_at is not None:
        raise Conflict(f"token {token.prefix}... of {user.username!r} was already revoked")
    token.revoked_at = utcnow()
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.token_revoked", object_type="user",
                 object_id=user.id, details={"username": user.username, "token_id": token.id, "prefix": token.prefix})
    return token


def token_by_prefix(session: Session, user: User, prefix: str) -> ApiToken:
    """The account's token whose prefix (as listed) starts with `prefix`, or NotFound / InvalidInput if ambiguous."""
    found = [t for t in tokens_of(session, user) if prefix and t.prefix.startswith(prefix)]
    if not found:
        raise NotFound(f"{user.username!r} has no token starting {prefix!r}")
    if len(found) > 1:
        raise InvalidInput(f"{len(found)} tokens of {user.username!r} start {prefix!r}; give more characters",
                           field="prefix")
    return found[0]


def mail_enrolment(session: Session, *, actor: User, user: User, settings: Settings) -> User:
    """An administrator gives a password to an account that has none: the server e-mails the person's own one-time
    enrolment link to the address on the account, and the administrator never sees it.

    The account then waits for a second person's confirmation (the address is named in the audit chain), since an
    administrator who put their own address on it would otherwise hold the person's credential.
    """
    require_role(actor, "admin", action="send enrolment links")
    if user.password_hash:
        raise Conflict(f"{user.username!r} already has a password; revoke the credentials first if it is lost")
    if not user.active:
        raise Conflict(f"{user.username!r} is disabled; enable it first")
    if not user.email:
        raise InvalidInput(f"{user.username!r} has no e-mail address to send the link to; add one first",
                           field="email")
    code = _new_enrolment(session, actor=actor, user=user)
    link = f"{settings.public_url.rstrip('/')}/enrol/{code}"
    config = mail.SmtpConfig.from_settings(settings)
    text = (f"Hello {user.display_name},\n\nan account {user.username!r} ({user.role}) was prepared for you on "
            f"the domain blocking system of the {settings.authority_name}.\n\nSet your own password with this "
            f"one-time link, valid for {ENROLMENT_VALIDITY.days} days (it also shows your API token once):\n\n"
            f"{link}\n\nIf you did not expect this message, tell {settings.authority_email}.\n")
    message = mail_templates.text_message(
        mail_templates.RenderedMail(subject="Your account on the domain blocking system", text=text),
        sender=config.sender, to_addr=user.email, message_id=make_msgid(domain="enrolment.invalid"))
    # Sent before the commit: should the commit fail, the link names a code that was never stored (it is refused).
    mail.send(config, message, what=f"the enrolment link of {user.username!r} to {user.email!r}")
    audit.record(session, actor=actor_label(actor), action="user.enrolment_mailed", object_type="user",
                 object_id=user.id, details={"username": user.username, "to": user.email})
    _needs_confirmation(session, actor=actor, user=user, why=f"enrolment link e-mailed to {user.email}")
    return user


def set_password(session: Session, *, actor: User | str, user: User, password: str) -> None:
    """Set a new password (argon2id)."""
    check_password_strength(password, username=user.username)
    user.password_hash = _hasher.hash(password)
    session.flush()
    audit.record(session, actor=actor_label(actor), action="user.password_set", object_type="user",
                 object_id=user.id, details={"username": user.username})


def user_by_token(session: Session, token: str) -> User:
    """The active user holding this API token, or Unauthenticated."""
    user = session.execute(  # one query: every API request asks it
        select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if user is None or not user.active:
        raise Unauthenticated("invalid, revoked or disabled API token")
    return user


def check_password(session: Session, username: str, password: str) -> User:
    """The active user with this username and password, or Unauthenticated (same message either way)."""
    name = username.strip().lower()
    # A name no account can have is not looked up: PostgreSQL refuses a NUL in the query.
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none() if _USERNAME.match(
        name) else None
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
    name = username.strip().lower()
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none() if _USERNAME.match(
        name) else None
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    """Every account, in creation order."""
    return list(session.execute(select(User).order_by(User.id)).scalars())
