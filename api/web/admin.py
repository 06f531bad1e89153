"""The administrator's pages: accounts and ISPs (tokens and credentials shown once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import session
from api.params import DbId
from api.web.common import attempt, back, check_csrf, needs, page, refused, say
from blocklist import isps, permissions, users
from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.models import User

router = APIRouter(include_in_schema=False)
admin = needs(permissions.MANAGE)


def _home(request: Request, db: Session, user: User, status_code: int = 200, **context: Any) -> HTMLResponse:
    accounts = users.list_users(db)
    confirmable = {a.id for a in accounts if a.confirmed_at is None and users.second_person_refusal(user, a) is None}
    # A credential shown here is in this answer only (never in the cookie; api/security_headers.py: no-store).
    return page(request, "admin.html", user, status_code=status_code, accounts=accounts, confirmable=confirmable,
                providers=isps.list_isps(db), **{"user_form": {}, "isp_form": {}, "secret": None, **context})


def _action(action: str, allowed: tuple[str, ...]) -> str:
    if action not in allowed:
        raise InvalidInput(f"unknown action {action!r}; use one of {', '.join(allowed)}", field="action")
    return action


@router.get("/admin", response_class=HTMLResponse)
def home(request: Request, db: Session = Depends(session), user: User = Depends(admin)) -> HTMLResponse:
    """Accounts and ISPs."""
    return _home(request, db, user)


@router.post("/admin/users", dependencies=[Depends(check_csrf)])
def create_user(request: Request, username: str = Form(""), role: str = Form(""),
                display_name: str = Form(""), language: str = Form("en"), db: Session = Depends(session),
                user: User = Depends(admin)) -> Response:
    """Create an account: no credential is shown (an administrator never holds another person's); it waits for a
    second administrator's confirmation."""
    typed = {"username": username, "role": role, "display_name": display_name, "language": language}
    with attempt(db) as outcome:
        created = users.create_account(db, actor=user, username=username, role=role, display_name=display_name,
                                       language=language)
    if outcome.error:
        refused(request, user, outcome.error)
        return _home(request, db, user, status_code=outcome.error.status, user_form=typed)
    say(request, user, N_("%(name)s created. It can do nothing until another administrator confirms it; the person "
                          "enrols with a one-time link from the server operator (blocklist user enrol %(name)s).",
                          name=created.username))
    return back("/admin")


@router.post("/admin/users/{username}", dependencies=[Depends(check_csrf)])
def change_user(request: Request, username: str, action: str = Form(""), db: Session = Depends(session),
                user: User = Depends(admin)) -> Response:
    """Disable, enable, confirm, or revoke the credentials of an account."""
    with attempt(db) as outcome:
        target = users.get_user(db, username)
        chosen = _action(action, ("enable", "disable", "token", "confirm"))
        if chosen == "token":
            users.revoke_credentials(db, actor=user, user=target)
            say(request, user, N_("%(name)s: every token and the password revoked; the account awaits another "
                                  "administrator's confirmation and the person re-enrols (blocklist user enrol "
                                  "%(name)s).", name=target.username))
        elif chosen == "confirm":
            users.confirm(db, actor=user, user=target)
            say(request, user, N_("%(name)s: confirmed", name=target.username))
        else:
            users.set_active(db, actor=user, user=target, active=action == "enable")
            say(request, user, N_("%(name)s: enabled", name=target.username) if action == "enable"
                else N_("%(name)s: disabled", name=target.username))
    if outcome.error:
        refused(request, user, outcome.error)
    return back("/admin")


@router.post("/admin/isps", dependencies=[Depends(check_csrf)])
def create_isp(request: Request, name: str = Form(""), email: str = Form(""), language: str = Form("fr"),
               resolvers: str = Form(""), policy: str = Form("stoppage"), operator_id: str = Form(""),
               db: Session = Depends(session), user: User = Depends(admin)) -> Response:
    """Register an ISP; its feed credential is shown once."""
    typed = {"name": name, "email": email, "language": language, "resolvers": resolvers, "policy": policy,
             "operator_id": operator_id}
    with attempt(db) as outcome:
        isp, credential = isps.add_isp(db, actor=user, name=name, email=email, language=language,
                                       resolvers=[r for r in resolvers.replace(",", " ").split() if r],
                                       policy=policy, operator_id=operator_id)
    if outcome.error:
        refused(request, user, outcome.error)
        return _home(request, db, user, status_code=outcome.error.status, isp_form=typed)
    return _home(request, db, user, secret=f"{isp.name}: {credential}")


@router.post("/admin/isps/{isp_id}", dependencies=[Depends(check_csrf)])
def change_isp(request: Request, isp_id: DbId, action: str = Form(""), db: Session = Depends(session),
               user: User = Depends(admin)) -> Response:
    """Deactivate, activate, or replace the feed credential of an ISP."""
    credential = None
    with attempt(db) as outcome:
        isp = isps.get_isp(db, isp_id)
        if _action(action, ("enable", "disable", "rotate")) == "rotate":
            credential = isps.rotate_credential(db, actor=user, isp=isp)
        else:
            isps.set_active(db, actor=user, isp=isp, active=action == "enable")
            say(request, user, N_("%(name)s: enabled", name=isp.name) if action == "enable"
                else N_("%(name)s: disabled", name=isp.name))
    if outcome.error:
        refused(request, user, outcome.error)
    elif credential is not None:
        return _home(request, db, user, secret=f"{isp.name}: {credential}")
    return back("/admin")
