"""The four roles and the permission checks every service applies."""

from __future__ import annotations

from blocklist.errors import Forbidden
from blocklist.models import User

ROLE_TITLES = {
    "officer": "an officer of the Federal Computer Crime Unit",
    "magistrate": "a magistrate of the Federal Prosecutor's Office",
    "auditor": "an auditor",
    "admin": "an administrator",
}


def require_role(actor: User, *roles: str, action: str) -> None:
    """Raise Forbidden unless the actor is active, confirmed by a second person, and holds one of the roles."""
    if not actor.active:
        raise Forbidden(f"account {actor.username!r} is disabled")
    if actor.confirmed_at is None:
        raise Forbidden(f"account {actor.username!r} was created or changed by {actor.credentialed_by} and awaits "
                        f"confirmation by a second administrator (or `blocklist user confirm {actor.username}` "
                        "on the server) before it can act")
    if actor.role not in roles:
        who = " or ".join(ROLE_TITLES[r] for r in roles)
        raise Forbidden(f"only {who} may {action}; {actor.username!r} is {ROLE_TITLES[actor.role]}")


def is_operator(actor: User | str) -> bool:
    """The operator on the server (CLI, demo, tests) acts as a plain label, never as a user account."""
    return isinstance(actor, str)


def actor_label(actor: User | str) -> str:
    """How an actor is named in the audit chain."""
    return actor if isinstance(actor, str) else f"user:{actor.username}"
