"""Map the project's errors and validation failures to JSON with a human-readable reason; never a trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection
from types import SimpleNamespace

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.stoppage import choose_language
from api.transaction import IdempotentReplay, mark_failed
from api.web import sessions
from api.web.common import HOME, LoginRequired, csrf_token, login_url, templates
from blocklist import i18n
from blocklist.errors import BlocklistError, Duplicate, NameRefused
from blocklist.i18n import N_, Message
from blocklist.problems import problem
from blocklist.reviews import ReviewConflict, ReviewRefused

log = logging.getLogger("api")
RETRY_AFTER_SECONDS = 2


def unavailable_answer(exc: BaseException) -> tuple[int, str, bytes] | None:
    """503 with a reason when the database is busy (lock or pool wait ran out) or unreachable; else None.

    Waits for the write lock are bounded (SQLite busy timeout, PostgreSQL lock_timeout, the pool's timeout):
    a request that could not get its turn is told to come back, never given a 500.
    """
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.OperationalError):
        reason = "the database is busy or unavailable; nothing was written, retry in a few seconds"
        return 503, "application/json", json.dumps({"error": "Unavailable", "reason": reason}).encode()
    return None


# The methods a 405 weighs up for its Allow header.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


class MethodNotAllowed(StarletteHTTPException):
    """A 405 that knows its Allow: raised by a 405 guard (api/routes/__init__.py)."""

    def __init__(self, allow: Collection[str]) -> None:
        super().__init__(405, headers={"Allow": ", ".join(sorted(allow))})


def method_not_allowed(allow: Collection[str]) -> Callable[[], Awaitable[Response]]:
    """The endpoint of a 405 guard: every other method at a path without parameters that declares `allow`, which
    a sibling template would otherwise take (GET /submissions/bulk is no GET /submissions/{submission_id})."""

    async def guard() -> Response:
        raise MethodNotAllowed(allow)

    return guard


def allowed_methods(request: Request) -> list[str]:
    """The methods the app routes somewhere at this request's path: the `Allow` of a 405.

    Routing answers 405 with the methods of the first route whose path matched (`/users`: GET, where POST is
    there too), so each method is routed again here, as the router does it (the first full match wins).
    """
    allowed = []
    for method in HTTP_METHODS:
        probe = {"type": "http", "method": method, "path": request.scope["path"],
                 "root_path": request.scope.get("root_path", ""), "headers": request.scope.get("headers", [])}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def api_language(request: Request) -> str:
    """The language of a JSON answer's words: the calling user's account language (api/deps.py), else the
    caller's Accept-Language (partners, ISPs, anonymous callers), else English."""
    language = getattr(request.state, "language", None)
    return str(language) if language else choose_language("", request.headers.get("accept-language", ""), "en")


def _page_user(request: Request) -> SimpleNamespace | None:
    """Who is logged in on this browser, for an error page's header and language (None: nobody, or no database)."""
    if "session" not in request.scope or not request.session.get("user_id"):
        return None
    try:
        with request.app.state.runtime.database.reading() as db:
            user = sessions.user_of(db, request.session)
            return SimpleNamespace(display_name=user.display_name, role=user.role,
                                   language=user.language) if user else None
    except sa_exc.SQLAlchemyError:  # the error page itself never fails on a busy database
        return None


def page_language(request: Request, user: SimpleNamespace | None = None) -> str:
    """The language of an error page: the one the session chose (switcher), else the user's account language,
    else Accept-Language, else English."""
    chosen = request.session.get("lang") if "session" in request.scope else None
    if chosen or user is not None:
        return i18n.language_or_default(str(chosen) if chosen else user.language if user else None)
    return choose_language(request.url.query, request.headers.get("accept-language", ""), "en")


# The routing's own refusals on the web pages, in words (the JSON API keeps Starlette's short detail).
HTTP_WORDS: dict[int, Message] = {
    404: N_("There is no such page. Check the address, or go back to your home page."),
    405: N_("This page cannot be used that way (the method is not allowed)."),
}


def install(app: FastAPI) -> None:
    """Register the exception handlers on the app."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        mark_failed(request.scope)
        return RedirectResponse(exc.location or login_url(request), status_code=303)

    @app.exception_handler(IdempotentReplay)
    async def _replay(request: Request, exc: IdempotentReplay) -> Response:
        mark_failed(request.scope)
        return Response(exc.body, status_code=exc.status, media_type=exc.content_type,
                        headers={"idempotent-replayed": "true"})

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _busy(request: Request, exc: Exception) -> Response:
        mark_failed(request.scope)
        log.warning("database busy on %s %s: %s", request.method, request.url.path, str(exc).splitlines()[0])
        answer = unavailable_answer(exc)
        assert answer is not None
        status, media_type, body = answer
        return Response(body, status_code=status, media_type=media_type,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(BlocklistError)
    async def _project_error(request: Request, exc: BlocklistError) -> Response:
        mark_failed(request.scope)
        if not request.url.path.startswith(("/api/", "/feed/")):
            return await _html(request, exc.status, exc)
        reason, english = exc.translated(api_language(request)), exc.translated("en")
        body: dict[str, object] = {"error": type(exc).__name__, "reason": reason}
        if reason != english:
            body["reason_en"] = english  # the same words in English, for the caller's logs
        if exc.field:
            body["field"] = exc.field
        if isinstance(exc, Duplicate):
            body["existing_id"] = exc.existing_id
        if isinstance(exc, NameRefused | ReviewRefused | ReviewConflict):
            body["code"] = exc.code
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        mark_failed(request.scope)
        # Plain sentences per field (blocklist/problems.py), in the caller's language.
        language = api_language(request) if request.url.path.startswith(("/api/", "/feed/")) else \
            page_language(request)
        problems = [{"field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
                     or None, "reason": i18n.in_language(found.text, language)}
                    for err in exc.errors() for found in [problem(err)]]
        reason = "; ".join(f"{p['field']}: {p['reason']}" if p["field"] else str(p["reason"]) for p in problems)
        if not request.url.path.startswith(("/api/", "/feed/")):
            return await _html(request, 422, reason)
        return JSONResponse({"error": "InvalidInput", "reason": reason, "problems": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        mark_failed(request.scope)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405 and not isinstance(exc, MethodNotAllowed):
            # Every method the path takes, not only those of the route whose path matched first.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        if not request.url.path.startswith(("/api/", "/feed/")):
            page = await _html(request, exc.status_code, HTTP_WORDS.get(exc.status_code, str(exc.detail)))
            page.headers.update(headers or {})
            return page
        return JSONResponse({"error": "HTTPError", "reason": str(exc.detail)}, status_code=exc.status_code,
                            headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        mark_failed(request.scope)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "InternalError", "reason": "an unexpected error occurred; it was logged"},
                            status_code=500)


async def _html(request: Request, status: int, reason: str | Message | BlocklistError) -> Response:
    """A readable error page for the web pages (never a trace), in the reader's language, with their header."""
    user = await anyio.to_thread.run_sync(_page_user, request)  # a database read: never on the event loop
    language = page_language(request, user)
    words = reason.translated(language) if isinstance(reason, BlocklistError) else i18n.in_language(reason, language)
    return templates(language).TemplateResponse(request, "error.html", {
        "user": user, "lang": language, "csrf": csrf_token(request) if user else "", "messages": [], "home": HOME,
        "status": status, "reason": words}, status_code=status)
