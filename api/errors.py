"""Map the project's errors and validation failures to JSON with a human-readable reason; never a trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.transaction import IdempotentReplay, mark_failed
from api.web.common import LoginRequired, templates
from blocklist.errors import BlocklistError, Duplicate, NameRefused
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


def install(app: FastAPI) -> None:
    """Register the exception handlers on the app."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        mark_failed(request.scope)
        return RedirectResponse("/login", status_code=303)

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
            return _html(request, exc.status, exc.message)
        body: dict[str, object] = {"error": type(exc).__name__, "reason": exc.message}
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
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            problems.append({"field": ".".join(loc) or None, "reason": str(err.get("msg", "invalid"))})
        reason = "; ".join(f"{p['field']}: {p['reason']}" if p["field"] else str(p["reason"]) for p in problems)
        if not request.url.path.startswith(("/api/", "/feed/")):
            return _html(request, 422, reason)
        return JSONResponse({"error": "InvalidInput", "reason": reason, "problems": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        mark_failed(request.scope)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405 and not isinstance(exc, MethodNotAllowed):
            # Every method the path takes, not only those of the route whose path matched first.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        if not request.url.path.startswith(("/api/", "/feed/")):
            page = _html(request, exc.status_code, str(exc.detail))
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


def _html(request: Request, status: int, reason: str) -> Response:
    """A readable error page for the web pages (never a trace)."""
    from api.web.i18n import translator

    return templates.TemplateResponse(request, "error.html", {
        "user": None, "t": translator("en"), "lang": "en", "csrf": "", "messages": [], "home": {},
        "status": status, "reason": reason}, status_code=status)
