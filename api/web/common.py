"""What every page shares: templates, the logged-in user, CSRF tokens, flash messages."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from api.deps import session
from api.web import sessions
from api.web.i18n import LANGUAGE_NAMES, LANGUAGES, legal_basis_titles, t, translator
from blocklist.errors import BlocklistError, Forbidden
from blocklist.models import User
from blocklist.permissions import Permission, require

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["languages"] = LANGUAGE_NAMES  # also for pages rendered outside `page` (error pages)
HOME = {"officer": "/officer", "magistrate": "/magistrate", "auditor": "/auditor", "admin": "/admin"}
MAX_FLASH = 5
MAX_FLASH_CHARS = 300


class LoginRequired(Exception):
    """No web session: the visitor is sent to the login page."""


def web_user(request: Request, db: Session = Depends(session)) -> User:
    """The logged-in, active user of this browser session, if the server still holds the session."""
    user = sessions.user_of(db, request.session)
    if user is None:
        request.session.clear()
        raise LoginRequired()
    return user


def needs(permission: Permission) -> Any:
    """A dependency: the logged-in user, whom the permission allows (the same rule as the API's)."""

    def dependency(user: User = Depends(web_user)) -> User:
        require(user, permission)
        return user

    return dependency


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Refuse a form POST whose CSRF token is missing or wrong."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    expected = request.session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, str(expected)):
        raise Forbidden("the form expired or did not come from this site (CSRF check); reload the page")


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown on the next page (kept short: the session lives in a cookie of at most 4 kB)."""
    messages = request.session.setdefault("flash", [])
    if len(messages) < MAX_FLASH:
        messages.append([kind, message[:MAX_FLASH_CHARS]])


def say(request: Request, user: User, key: str, kind: str = "info", **values: object) -> None:
    """A message of the catalogue, in the user's language, shown on the next page."""
    flash(request, t(key, user.language, **values), kind)


def language_of(request: Request, user: User | None) -> str:
    """The user's language; before login, the one chosen on the login page."""
    language = user.language if user else str(request.session.get("lang", "en"))
    return language if language in LANGUAGES else "en"


def page(request: Request, template: str, user: User | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page in the user's language with the shared context."""
    language = language_of(request, user)
    messages = request.session.pop("flash", [])
    return templates.TemplateResponse(request, template, {
        "user": user, "t": translator(language), "lang": language, "csrf": csrf_token(request),
        "messages": messages, "home": HOME, "bases": legal_basis_titles(language), "languages": LANGUAGE_NAMES,
        **context,
    }, status_code=status_code)


def back(url: str) -> RedirectResponse:
    """Post/redirect/get."""
    return RedirectResponse(url, status_code=303)


@dataclass
class Outcome:
    """What `attempt` saw: the refusal, if the action was refused."""

    error: BlocklistError | None = None


@contextmanager
def attempt(db: Session, *, also: tuple[type[Exception], ...] = ()) -> Iterator[Outcome]:
    """Run one action that may be refused; a refusal leaves the database EXACTLY as before.

    The one rule for every page that catches a refusal and still answers normally (a redirect with a message,
    the form again): without it the request's transaction would commit whatever the action wrote before it was
    refused (a lifting order written before a lost race, say). A savepoint is rolled back instead. `also` names
    other exceptions to treat as refusals (pydantic's ValidationError for a form); they are re-raised after the
    rollback, for the caller to word.
    """
    outcome = Outcome()
    savepoint = db.begin_nested()
    try:
        yield outcome
    except BlocklistError as exc:
        savepoint.rollback()
        outcome.error = exc
    except also:
        savepoint.rollback()
        raise
    else:
        savepoint.commit()


def refused(request: Request, exc: BlocklistError) -> None:
    """Show a refusal as a readable message on the next page."""
    flash(request, exc.message, "error")
