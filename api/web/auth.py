"""Login and logout: a session cookie backed by a server-side session; failed logins throttled per source."""

from __future__ import annotations

import datetime as dt
import math

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import session
from api.web import lockout, sessions
from api.web.common import HOME, back, check_csrf, language_of, local_path, page
from blocklist import users
from blocklist.errors import Unauthenticated
from blocklist.i18n import gettext
from blocklist.models import utcnow
from blocklist.vocab import LANGUAGES

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, lang: str | None = None, next: str = "") -> HTMLResponse:
    """The login page (language switcher: ?lang=fr|nl|de|en); `next`: the page to open after it."""
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return page(request, "login.html", None, next=local_path(next) or "")


def _source(request: Request) -> str:
    from api.app import session_secret  # the app module imports this one: resolved at call time

    return lockout.source_of(request.client.host if request.client else None,
                             session_secret(request.app.state.runtime))


def _locked(request: Request, name: str, until: dt.datetime, next: str) -> HTMLResponse:
    # The page keeps `next`: once the lock ends, the login still leads to the page that was asked for.
    response = page(request, "login.html", None, status_code=429, username=name, next=local_path(next) or "",
                    error=gettext(language_of(request, None), "too many failed attempts: this account is locked "
                                  "until %(until)s", until=until.strftime("%H:%M UTC")))
    response.headers["Retry-After"] = str(max(1, math.ceil((until - utcnow()).total_seconds())))
    return response


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=200),
          next: str = Form("", max_length=2000), db: Session = Depends(session)) -> Response:
    """Check the password (argon2); 5 failures of a username from one source lock that pair for 15 minutes."""
    name = username.strip().lower()
    source = _source(request)
    until = lockout.locked_until(db, source, name)
    if until is not None:
        # Refused without looking at the password, so that a locked pair cannot go on guessing meanwhile.
        return _locked(request, name, until, next)
    try:
        user = users.check_password(db, name, password)
    except Unauthenticated:
        until = lockout.record_failure(db, source, name)
        if until is not None:
            return _locked(request, name, until, next)
        return page(request, "login.html", None, status_code=401, username=name, next=local_path(next) or "",
                    error=gettext(language_of(request, None), "wrong username or password"))
    lockout.record_success(db, source, name)
    # A fresh session (and CSRF token) for the logged-in user: no session fixation. The pages are then in the
    # person's account language until they choose another with the switcher.
    request.session.clear()
    request.session[sessions.SESSION_KEY] = sessions.start(db, user)
    request.session["user_id"] = user.id
    request.session["role"] = user.role
    return back(local_path(next) or HOME[user.role])  # the deep link that led here, if it is one of this site


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, db: Session = Depends(session)) -> Response:
    """End the session, on the server too: a copy of the cookie opens nothing afterwards."""
    sessions.end(db, request.session)
    language = request.session.get("lang")
    request.session.clear()
    if language:
        request.session["lang"] = language
    return back("/login")
