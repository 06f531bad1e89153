"""What every page shares: templates, the logged-in user, CSRF tokens, flash messages."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from api.deps import session
from api.web import sessions
from blocklist import i18n
from blocklist.errors import BlocklistError, Forbidden
from blocklist.i18n import Message
from blocklist.models import User
from blocklist.permissions import Permission, require
from blocklist.vocab import LANGUAGE_NAMES, LANGUAGES

TEMPLATES = Path(__file__).parent / "templates"
HOME = {"officer": "/officer", "magistrate": "/magistrate", "auditor": "/auditor", "admin": "/admin"}
MAX_FLASH = 5
MAX_FLASH_CHARS = 300


@lru_cache(maxsize=len(LANGUAGES))
def templates(language: str) -> Jinja2Templates:
    """The pages' templates in one language (built once per language, shared by every request's thread)."""
    env = i18n.environment(str(TEMPLATES), language, strict=False)
    env.globals["languages"] = LANGUAGE_NAMES  # also for pages rendered outside `page` (error pages)
    return Jinja2Templates(env=env)


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


def say(request: Request, user: User | None, message: Message | str, kind: str = "info") -> None:
    """Words (a Message, or a refusal's) in the page's language, shown on the next page."""
    flash(request, i18n.in_language(message, language_of(request, user)), kind)


def language_of(request: Request, user: User | None) -> str:
    """The page's language: the one chosen with the switcher in this session, else the user's account language,
    else English."""
    chosen = request.session.get("lang")
    return i18n.language_or_default(str(chosen) if chosen else user.language if user else None)


def page(request: Request, template: str, user: User | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page in the page's language with the shared context."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:  # the language switcher (?lang=): kept in the session for the pages that follow
        request.session["lang"] = chosen
    language = language_of(request, user)
    messages = request.session.pop("flash", [])
    return templates(language).TemplateResponse(request, template, {
        "user": user, "lang": language, "csrf": csrf_token(request), "messages": messages, "home": HOME,
        "languages": LANGUAGE_NAMES, **context,
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


def refused(request: Request, user: User | None, exc: BlocklistError) -> None:
    """Show a refusal, in the page's language, on the next page."""
    say(request, user, exc.text, "error")
