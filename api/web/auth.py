"""Login and logout with a session cookie; lock-out after repeated failures (kept in the database)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import session
from api.web import lockout
from api.web.common import HOME, back, check_csrf, page
from api.web.i18n import LANGUAGES, translator
from blocklist import users
from blocklist.errors import Unauthenticated

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, lang: str | None = None) -> HTMLResponse:
    """The login page (language switcher: ?lang=fr|nl|de|en)."""
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return page(request, "login.html", None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=200),
          db: Session = Depends(session)) -> Response:
    """Check the password (argon2); after 5 failures in 15 minutes the username is locked for 15 minutes."""
    name = username.strip().lower()
    words = translator(request.session.get("lang", "en"))
    until = lockout.locked_until(db, name)
    if until is not None:
        # Refused without looking at the password, so that a locked account cannot be guessed meanwhile.
        return page(request, "login.html", None, status_code=429, username=name,
                    error=words["locked"].format(until=until.strftime("%H:%M UTC")))
    try:
        user = users.check_password(db, name, password)
    except Unauthenticated as exc:
        if lockout.record_failure(db, name):
            until = lockout.locked_until(db, name)
            assert until is not None
            return page(request, "login.html", None, status_code=429, username=name,
                        error=words["locked"].format(until=until.strftime("%H:%M UTC")))
        return page(request, "login.html", None, status_code=401, error=words.get("wrong_login", exc.message),
                    username=name)
    lockout.record_success(db, name)
    language = request.session.get("lang")
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user: no session fixation
    request.session["user_id"] = user.id
    request.session["role"] = user.role
    if language:
        request.session["lang"] = language
    return back(HOME[user.role])


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    """End the session."""
    language = request.session.get("lang")
    request.session.clear()
    if language:
        request.session["lang"] = language
    return back("/login")
