"""Who may do what: ONE rule per resource and action, used by the JSON API and the web pages alike.

A page that shows what an API route refuses (or the reverse) is a leak: both ask `require(user, PERMISSION)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from blocklist.models import User
from blocklist.roles import require_role


@dataclass(frozen=True)
class Permission:
    """The roles that may perform an action, and the action's wording for the refusal."""

    roles: tuple[str, ...]
    action: str


SUBMIT = Permission(("officer",), "submit or withdraw domains")
DECIDE = Permission(("magistrate",), "decide on submissions")
LIFT_OR_RENEW = Permission(("magistrate",), "lift or renew blocks")
OVERRIDE_PROTECTED = Permission(("magistrate",), "override the protected list")
CONFIRM_HOLD = Permission(("magistrate",), "confirm a held feed version")
# Cases: submissions, blocked names, their timelines and DNS checks (API history and the /auditor search).
READ_CASES = Permission(("officer", "magistrate", "auditor"), "read submissions, domains and their history")
READ_AUDIT_LOG = Permission(("auditor",), "read the audit log")
# A name's or a case's full history as a signed JSON bundle and a PDF, for court (api/history.py).
EXPORT_HISTORY = Permission(("magistrate", "auditor"), "export a history")
CHECK_CHAIN = Permission(("auditor", "magistrate", "admin"), "check the audit chain")
READ_COMPLIANCE = Permission(("magistrate", "auditor", "admin"), "read compliance")
READ_FEED_STATE = Permission(("magistrate", "auditor", "admin"), "read the feed's state")
READ_REQUISITIONS = Permission(("magistrate", "auditor"), "read requisitions")
# Reports from the public and partner hotlines: the triage queue, its dismissals and the submissions it opens.
TRIAGE = Permission(("officer",), "triage reports")
# Removal notices to Belgian hosting providers: read by all who read cases; the provider's acknowledgement and the
# site's removal are recorded by officers (who established the hosting).
READ_REMOVALS = Permission(("officer", "magistrate", "auditor"), "read removal notices")
RECORD_REMOVALS = Permission(("officer",), "record what became of a removal notice")
# Reviews: an officer re-attests that a blocked site still holds the content; a magistrate renews (LIFT_OR_RENEW).
ATTEST = Permission(("officer",), "re-attest blocks at review")
# Appeals from the public: magistrates answer them (never one who approved the block); auditors read them.
READ_APPEALS = Permission(("magistrate", "auditor"), "read appeals")
DECIDE_APPEALS = Permission(("magistrate",), "decide appeals")
MANAGE = Permission(("admin",), "manage accounts and ISPs")


def require(user: User, permission: Permission) -> None:
    """Raise Forbidden unless the user may perform the action."""
    require_role(user, *permission.roles, action=permission.action)


def allows(user: User, permission: Permission) -> bool:
    """Whether the user may perform the action (for showing or hiding a part of a page)."""
    return user.active and user.confirmed_at is not None and user.role in permission.roles
