"""Login and logout with a session cookie; lock-out after repeated failures."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import session
from api.web.common import HOME, back, check_csrf, page
from blocklist import audit, users
from blocklist.errors import Unauthenticated

router = APIRouter(include_in_schema=False)
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
_failures: dict[str, deque[float]] = defaultdict(deque)


def _locked(username: str, now: float) -> bool:
    attempts = _failures[username]
    while attempts and attempts[0] < now - LOCK_SECONDS:
        attempts.popleft()
    return len(attempts) >= MAX_FAILURES


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, lang: str | None = None) -> HTMLResponse:
    """The login page (language switcher: ?lang=fr|nl|en)."""
    if lang in ("en", "fr", "nl"):
        request.session["lang"] = lang
    return page(request, "login.html", None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=200),
          db: Session = Depends(session)) -> Response:
    """Check the password (argon2); after 5 failures in 15 minutes the account is locked for 15 minutes."""
    name = username.strip().lower()
    now = time.monotonic()
    if _locked(name, now):
        return page(request, "login.html", None, status_code=429,
                    error="too many failed attempts: this account is locked for 15 minutes")
    try:
        user = users.check_password(db, name, password)
    except Unauthenticated as exc:
        _failures[name].append(now)
        if _locked(name, now):
            audit.record(db, actor="web", action="user.locked_out", object_type="user", object_id=name,
                         details={"failures": MAX_FAILURES})
        return page(request, "login.html", None, status_code=401, error=exc.message, username=name)
    _failures.pop(name, None)
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["role"] = user.role
    return back(HOME[user.role])


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return back("/login")
