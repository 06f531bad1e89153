"""The administrator's pages: accounts and ISPs (tokens and credentials shown once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import runtime, session
from api.params import DbId
from api.runtime import Runtime
from api.web import common, sessions
from api.web.common import attempt, back, check_csrf, confirmed, language_of, local_path, needs, page, refused, say
from blocklist import isps, labels, permissions, users
from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.models import User
from blocklist.vocab import ROLES
from isp_feed import primary

router = APIRouter(include_in_schema=False)
admin = needs(permissions.MANAGE)


def _home(request: Request, db: Session, user: User, status_code: int = 200, **context: Any) -> HTMLResponse:
    accounts = users.list_users(db)
    confirmable = {a.id for a in accounts if a.confirmed_at is None and users.second_person_refusal(user, a) is None}
    # A credential shown here is in this answer only (never in the cookie; api/security_headers.py: no-store).
    return page(request, "admin.html", user, status_code=status_code, accounts=accounts, confirmable=confirmable,
                providers=isps.list_isps(db),
                **{"user_form": {}, "isp_form": {}, "secret": None, "tsig": None, **context})


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
def change_user(request: Request, username: str, action: str = Form(""), confirm: str = Form(""),
                return_to: str = Form("", max_length=200), db: Session = Depends(session),
                user: User = Depends(admin)) -> Response:
    """Disable (after a confirmation step), enable, confirm, or revoke the credentials of an account; then back
    to the list, or to the account's own page when the form was there (`return_to`)."""
    after = local_path(return_to) or "/admin"
    with attempt(db) as outcome:
        target = users.get_user(db, username)
        chosen = _action(action, ("enable", "disable", "token", "confirm"))
        if chosen == "disable" and not confirmed(confirm):
            users.disable_refusal(db, actor=user, user=target)
            return common.confirm(
                request, user, title=N_("Disable %(name)s?", name=target.username),
                consequences=[N_("%(name)s (%(role)s) can no longer log in or use any API token; every open "
                                 "session ends now.", name=target.display_name,
                                 role=labels.ROLE.get(target.role, target.role)),
                              N_("Nothing is deleted: another administrator can enable the account again.")],
                button=N_("Disable the account"), action=f"/admin/users/{target.username}",
                fields=[("action", "disable"), ("return_to", after)], cancel=after)
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
    return back(after)


def _account_page(request: Request, db: Session, user: User, target: User, status_code: int = 200,
                  **context: Any) -> HTMLResponse:
    return page(request, "admin_user.html", user, status_code=status_code, target=target,
                tokens=users.tokens_of(db, target), roles=ROLES, own=target.id == user.id,
                **{"form": {}, "errors": {}, "password_errors": {}, **context})


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def account(request: Request, username: str, db: Session = Depends(session),
            user: User = Depends(admin)) -> HTMLResponse:
    """One account: its details, role and language to edit, whether it is enabled, its API tokens, its password."""
    return _account_page(request, db, user, users.get_user(db, username))


@router.post("/admin/users/{username}/edit", dependencies=[Depends(check_csrf)])
def edit_account(request: Request, username: str, display_name: str = Form("", max_length=200),
                 email: str = Form("", max_length=254), language: str = Form(""), role: str = Form(""),
                 db: Session = Depends(session), user: User = Depends(admin)) -> Response:
    """Change the display name, e-mail address, language and role. A new role or address gives the account a
    new reach, so it then waits for a second person's confirmation (blocklist/users.py)."""
    target = users.get_user(db, username)
    typed = {"display_name": display_name, "email": email, "language": language, "role": role}
    with attempt(db) as outcome:
        users.update_profile(db, actor=user, user=target, display_name=display_name, email=email, language=language)
        if role != target.role:
            users.set_role(db, actor=user, user=target, role=role)
    if outcome.error:
        db.refresh(target)  # the page shows the account as it still is, beside what was typed
        errors = {outcome.error.field or "": outcome.error.translated(language_of(request, user))}
        return _account_page(request, db, user, target, status_code=outcome.error.status, form=typed, errors=errors)
    say(request, user, N_("%(name)s: saved", name=target.username))
    if target.confirmed_at is None:
        say(request, user, N_("%(name)s now waits for another administrator's confirmation before it can act.",
                              name=target.username), "warning")
    return back(f"/admin/users/{target.username}")


@router.post("/admin/users/{username}/tokens/{token_id}/revoke", dependencies=[Depends(check_csrf)])
def revoke_token(request: Request, username: str, token_id: DbId, db: Session = Depends(session),
                 user: User = Depends(admin)) -> Response:
    """Revoke one API token (it stops working at once)."""
    with attempt(db) as outcome:
        target = users.get_user(db, username)
        token = users.revoke_token(db, actor=user, user=target, token_id=token_id)
        say(request, user, N_("Token %(prefix)s… of %(name)s revoked", prefix=token.prefix, name=target.username))
    if outcome.error:
        refused(request, user, outcome.error)
    return back(f"/admin/users/{username}")


@router.post("/admin/users/{username}/password", dependencies=[Depends(check_csrf)])
def set_password(request: Request, username: str, password: str = Form("", max_length=200),
                 password_again: str = Form("", max_length=200), db: Session = Depends(session),
                 rt: Runtime = Depends(runtime), user: User = Depends(admin)) -> Response:
    """A password. The administrator's own: typed here. Another person's: never typed by the administrator, who
    would then hold that person's credential; the server e-mails the person a one-time link to choose it
    (also for an account created without one), and the account waits for a second administrator."""
    target = users.get_user(db, username)
    if target.id != user.id:
        with attempt(db) as outcome:
            users.mail_enrolment(db, actor=user, user=target, settings=rt.settings)
            say(request, user, N_("A one-time link to choose a password was e-mailed to %(address)s; %(name)s now "
                                  "waits for another administrator's confirmation.", address=target.email or "",
                                  name=target.username))
        if outcome.error:
            refused(request, user, outcome.error)
        return back(f"/admin/users/{username}")
    with attempt(db) as outcome:
        if password != password_again:
            raise InvalidInput(N_("the two passwords differ; type the same one twice"), field="password_again")
        users.set_password(db, actor=user, user=user, password=password)
        # A new password ends every session of the account (api/web/sessions.py): this one goes on, renewed.
        request.session[sessions.SESSION_KEY] = sessions.start(db, user)
    if outcome.error:
        errors = {outcome.error.field or "": outcome.error.translated(language_of(request, user))}
        return _account_page(request, db, user, target, status_code=outcome.error.status, password_errors=errors)
    say(request, user, N_("Your password was changed; your other sessions ended."))
    return back(f"/admin/users/{username}")


@router.post("/admin/isps", dependencies=[Depends(check_csrf)])
def create_isp(request: Request, name: str = Form(""), email: str = Form(""), language: str = Form("fr"),
               resolvers: str = Form(""), policy: str = Form("stoppage"), operator_id: str = Form(""),
               db: Session = Depends(session), rt: Runtime = Depends(runtime),
               user: User = Depends(admin)) -> Response:
    """Register an ISP; its feed credential and its TSIG key for zone transfers are shown once."""
    typed = {"name": name, "email": email, "language": language, "resolvers": resolvers, "policy": policy,
             "operator_id": operator_id}
    with attempt(db) as outcome:
        isp, credential = isps.add_isp(db, actor=user, name=name, email=email, language=language,
                                       resolvers=[r for r in resolvers.replace(",", " ").split() if r],
                                       policy=policy, operator_id=operator_id)
        tsig = primary.issue_key(db, rt.settings, actor=user, isp=isp).clause()
    if outcome.error:
        refused(request, user, outcome.error)
        return _home(request, db, user, status_code=outcome.error.status, isp_form=typed)
    return _home(request, db, user, secret=f"{isp.name}: {credential}", tsig=tsig)


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
