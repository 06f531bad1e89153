"""The administrator's pages: accounts and ISPs (tokens and credentials shown once)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import session
from api.web.common import back, check_csrf, flash, needs, page, refused
from blocklist import isps, users
from blocklist.errors import BlocklistError
from blocklist.models import User

router = APIRouter(include_in_schema=False)
admin = needs("admin")


@router.get("/admin", response_class=HTMLResponse)
def home(request: Request, db: Session = Depends(session), user: User = Depends(admin)) -> HTMLResponse:
    """Accounts and ISPs."""
    return page(request, "admin.html", user, accounts=users.list_users(db), providers=isps.list_isps(db),
                secret=request.session.pop("secret", None))


@router.post("/admin/users", dependencies=[Depends(check_csrf)])
def create_user(request: Request, username: str = Form(""), role: str = Form(""), password: str = Form(""),
                display_name: str = Form(""), language: str = Form("en"), db: Session = Depends(session),
                user: User = Depends(admin)) -> Response:
    """Create an account; its API token is shown once."""
    try:
        created, token = users.create_user(db, actor=user, username=username, role=role, password=password or None,
                                           display_name=display_name, language=language)
        request.session["secret"] = f"{created.username}: {token}"
    except BlocklistError as exc:
        refused(request, exc)
    return back("/admin")


@router.post("/admin/users/{username}", dependencies=[Depends(check_csrf)])
def change_user(request: Request, username: str, action: str = Form(""), db: Session = Depends(session),
                user: User = Depends(admin)) -> Response:
    """Disable, enable, or reset the API token of an account."""
    try:
        target = users.get_user(db, username)
        if action == "token":
            request.session["secret"] = f"{target.username}: {users.reset_token(db, actor=user, user=target)}"
        else:
            users.set_active(db, actor=user, user=target, active=action == "enable")
            flash(request, f"{target.username}: {action}d")
    except BlocklistError as exc:
        refused(request, exc)
    return back("/admin")


@router.post("/admin/isps", dependencies=[Depends(check_csrf)])
def create_isp(request: Request, name: str = Form(""), email: str = Form(""), language: str = Form("fr"),
               resolvers: str = Form(""), policy: str = Form("stoppage"), operator_id: str = Form(""),
               db: Session = Depends(session), user: User = Depends(admin)) -> Response:
    """Register an ISP; its feed credential is shown once."""
    try:
        isp, credential = isps.add_isp(db, actor=user, name=name, email=email, language=language,
                                       resolvers=[r for r in resolvers.replace(",", " ").split() if r],
                                       policy=policy, operator_id=operator_id)
        request.session["secret"] = f"{isp.name}: {credential}"
    except BlocklistError as exc:
        refused(request, exc)
    return back("/admin")


@router.post("/admin/isps/{isp_id}", dependencies=[Depends(check_csrf)])
def change_isp(request: Request, isp_id: int, action: str = Form(""), db: Session = Depends(session),
               user: User = Depends(admin)) -> Response:
    """Deactivate, activate, or replace the feed credential of an ISP."""
    try:
        isp = isps.get_isp(db, isp_id)
        if action == "rotate":
            request.session["secret"] = f"{isp.name}: {isps.rotate_credential(db, actor=user, isp=isp)}"
        else:
            isps.set_active(db, actor=user, isp=isp, active=action == "enable")
            flash(request, f"{isp.name}: {action}d")
    except BlocklistError as exc:
        refused(request, exc)
    return back("/admin")
