"""What every page shares: templates, the logged-in user, CSRF tokens, flash messages."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from api import stored_text
from api.deps import session
from api.web import sessions, stash
from blocklist import i18n, labels, permissions
from blocklist.errors import BlocklistError, Forbidden
from blocklist.i18n import N_, Message
from blocklist.models import User, utcnow
from blocklist.paging import MAX_PER_PAGE, PER_PAGE
from blocklist.permissions import Permission, require
from blocklist.text import is_id
from blocklist.vocab import LANGUAGE_NAMES, LANGUAGES, LEGAL_BASES

TEMPLATES = Path(__file__).parent / "templates"
HOME = {"officer": "/officer", "magistrate": "/magistrate", "auditor": "/auditor", "admin": "/admin"}
MAX_FLASH = 5
MAX_FLASH_CHARS = 300


# The staff pages' navigation: each link with the permission its page asks, so that a role sees only the links
# it can open (an administrator once had an "Audit chain" link to a page that answered 403).
NAVIGATION: tuple[tuple[str, Message, Permission], ...] = (
    ("/officer", N_("My submissions"), permissions.SUBMIT), ("/triage", N_("Triage"), permissions.TRIAGE),
    ("/magistrate", N_("Pending submissions"), permissions.DECIDE),
    ("/magistrate/blocked", N_("Blocked names"), permissions.DECIDE),
    ("/appeals", N_("Appeals"), permissions.READ_APPEALS),
    ("/requisitions", N_("Requisitions"), permissions.READ_REQUISITIONS),
    ("/removal-notices", N_("Removal notices"), permissions.READ_REMOVALS),
    ("/auditor", N_("Timeline"), permissions.READ_CASES),
    ("/compliance", N_("Compliance"), permissions.READ_COMPLIANCE),
    ("/admin", N_("Accounts"), permissions.MANAGE),
)


def navigation(user: Any) -> list[tuple[str, Message]]:
    """The links of the header's navigation this user's role may follow (`user`: a User, or the role-only view
    of one an error page has: api/errors.py)."""
    return [] if user is None else [(path, words) for path, words, needed in NAVIGATION if user.role in needed.roles]


def with_query(request: Request, **changes: object) -> str:
    """This page's address with some query parameters changed (None drops one): page links keep the filters."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "lang"]
    params += [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    return request.url.path + ("?" + urlencode(params) if params else "")




def waited(since: dt.datetime, language: str) -> str:
    """How long something has waited until now, in words of the language ("3 days", "5 heures")."""
    return i18n.duration(utcnow() - since, language)


@lru_cache(maxsize=len(LANGUAGES))
def templates(language: str) -> Jinja2Templates:
    """The pages' templates in one language (built once per language, shared by every request's thread)."""
    env = i18n.environment(str(TEMPLATES), language, strict=False)
    env.globals["languages"] = LANGUAGE_NAMES  # also for pages rendered outside `page` (error pages)
    env.globals["with_query"], env.globals["navigation"] = with_query, navigation
    env.globals["legal_bases"], env.globals["flag_names"] = LEGAL_BASES, tuple(labels.FLAG)  # filters' choices
    env.filters["number"] = lambda value: i18n.number(value, language)
    env.filters["waited"] = lambda since: waited(since, language)
    env.filters["hold_reasons"] = lambda stored: stored_text.hold_reasons(stored, language)
    env.filters["dns_reason"] = lambda stored: stored_text.dns_reason(stored, language)
    env.filters["hold_closing"] = lambda stored: stored_text.hold_closing(stored, language)
    return Jinja2Templates(env=env)


@dataclass(frozen=True)
class Listing:
    """A list page's query parameters: which page, how many rows, sorted how (empty: the list's own default)."""

    page: int
    per_page: int
    sort: str
    order: str


def listing(request: Request) -> Listing:
    """The paging and sorting parameters of a list page's address (also when a POST shows the page again); a
    number out of range or mistyped by hand gives the default."""
    query = request.query_params

    def number(name: str, default: int, most: int) -> int:
        typed = query.get(name, "")
        return int(typed) if is_id(typed) and len(typed) <= 6 and 1 <= int(typed) <= most else default

    return Listing(page=number("page", 1, 999_999), per_page=number("per_page", PER_PAGE, MAX_PER_PAGE),
                   sort=query.get("sort", "")[:20], order=query.get("order", "")[:4])


class LoginRequired(Exception):
    """No web session: the visitor is sent to the login page (`location`: an address chosen already, else the
    login page that leads back to the page asked for)."""

    def __init__(self, location: str | None = None) -> None:
        super().__init__("login required")
        self.location = location


class FormNotSent(LoginRequired):
    """A form POST that came too late (its session ended, or a login elsewhere outdated its CSRF token): nothing
    was done; its typed fields were kept and the browser goes back to its page (after a login, if needed)."""


MAX_NEXT = 2000  # a deep link's length, query included


def login_url(request: Request) -> str:
    """The login page, and back to the page asked for after it (a deep link opened while logged out)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or target == "/" or len(target) > MAX_NEXT:
        return "/login"
    return "/login?" + urlencode({"next": target})


def local_path(target: str) -> str | None:
    """`target` when it is a path of this site (never another site: no scheme, no `//host`, no backslash, no
    control character), else None: where a login may lead."""
    if (not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > MAX_NEXT
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return None
    return target


def web_user(request: Request, db: Session = Depends(session)) -> User:
    """The logged-in, active user of this browser session, if the server still holds the session."""
    user = sessions.user_of(db, request.session)
    if user is None:
        request.session.clear()
        raise LoginRequired()
    key = request.query_params.get(stash.QUERY_KEY, "")
    if key and request.method == "GET":  # back on a form whose POST came too late: its fields, for the page
        kept = stash.restored(db, key, user)
        if kept is not None:
            request.state.kept_form = (kept.action, dict(kept.fields))
    return user


def kept_form(request: Request, action: str) -> dict[str, str] | None:
    """What was typed into the form posting to `action` whose POST came too late, when this page shows it again."""
    kept: tuple[str, dict[str, str]] | None = getattr(request.state, "kept_form", None)
    return kept[1] if kept is not None and kept[0] == action else None


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


# Pages whose forms are sent without a login: a form of theirs that came too late goes back to them, not to login.
ANONYMOUS_PAGES = ("/enrol/",)
SESSION_FREE_POSTS = ("/login", "/logout")  # they work whether or not a session holds


async def check_csrf(request: Request) -> None:
    """Act on a form POST only if its CSRF token is this session's and, for a logged-in person, the session still
    holds. Otherwise nothing is done, and the browser is sent back to the form with what was typed kept
    (FormNotSent): to its page again when a login in another tab outdated the token, else through the login."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    expected = request.session.get("csrf", "")
    fresh = bool(sent and expected and hmac.compare_digest(sent, str(expected)))
    if fresh and (request.url.path in SESSION_FREE_POSTS or not request.session.get("user_id")):
        return
    if fresh and await anyio.to_thread.run_sync(_session_holds, request):
        return
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.url.netloc:
        # A page of another site made the browser post this: refused, and nothing of it is kept to be shown.
        raise Forbidden(N_("The form did not come from this site (CSRF check): nothing was done."))
    await anyio.to_thread.run_sync(_send_back, request, form)  # database work: never on the event loop


def _session_holds(request: Request) -> bool:
    with request.app.state.runtime.database.reading() as db:
        return sessions.user_of(db, request.session) is not None


def _form_page(request: Request) -> str:
    """The page the refused form was on (the Referer, a page of this site other than the POST's own address),
    else the role's home page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path != request.url.path:
        query = [(k, v) for k, v in parse_qsl(referer.query, keep_blank_values=True) if k != stash.QUERY_KEY]
        target = local_path(referer.path + ("?" + urlencode(query) if query else ""))
        if target is not None:
            return target
    return HOME.get(str(request.session.get("role", "")), "/")


def _send_back(request: Request, form: Any) -> NoReturn:
    """Keep what a too-late form POST typed and raise the FormNotSent that leads back to it."""
    if request.url.path == "/login":  # a password is never kept: the login page again, leading where it led
        target = local_path(str(form.get("next", "")))
        flash(request, i18n.gettext(language_of(request, None), "The login form had expired: log in again."))
        raise FormNotSent("/login" + ("?" + urlencode({"next": target}) if target else ""))
    database = request.app.state.runtime.database
    owner = request.session.get("user_id")
    with database.reading() as db:
        user = sessions.user_of(db, request.session)
        account = db.get(User, owner) if isinstance(owner, int) else None
        language = language_of(request, user or account)
        account_id = account.id if account is not None else None
    fields, target = stash.worth_keeping(form), _form_page(request)
    if fields:
        with database.transaction() as db:
            key = stash.keep(db, user_id=account_id, action=request.url.path, fields=fields)
        target += ("&" if "?" in target else "?") + urlencode({stash.QUERY_KEY: key})
    if user is not None or target.startswith(ANONYMOUS_PAGES):
        flash(request, i18n.gettext(language, "The form was not sent: the page was opened before your last "
                                    "login. Check what you typed and send it again."), "warning")
        raise FormNotSent(target)
    request.session.clear()
    request.session["lang"] = language  # the login page in the person's language
    flash(request, i18n.gettext(language, "Your session has ended. Log in again: what you typed is kept."),
          "warning")
    raise FormNotSent("/login?" + urlencode({"next": target}))


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


def confirm(request: Request, user: User, *, title: Message, consequences: list[Message], button: Message,
            action: str, fields: list[tuple[str, object]], cancel: str, names: list[str] | None = None) -> HTMLResponse:
    """The confirmation step of an act with national effect: what exactly will happen (`consequences`, `names`),
    and the same form (`action`, `fields`) sent again with confirm=yes. Nothing is written before that."""
    language = language_of(request, user)
    return page(request, "confirm.html", user, title=i18n.in_language(title, language),
                consequences=[i18n.in_language(line, language) for line in consequences],
                button=i18n.in_language(button, language), action=action, fields=fields, cancel=cancel,
                names=names or [])


def confirmed(value: str) -> bool:
    """Whether a form came from its confirmation step (api/web/templates/confirm.html)."""
    return value == "yes"


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
