"""Map the project's errors and validation failures to JSON with a human-readable reason; never a trace."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.transaction import IdempotentReplay, mark_failed
from api.web.common import LoginRequired, templates
from blocklist.errors import BlocklistError, Duplicate, NameRefused

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
        if isinstance(exc, NameRefused):
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
        if not request.url.path.startswith(("/api/", "/feed/")):
            return _html(request, exc.status_code, str(exc.detail))
        return JSONResponse({"error": "HTTPError", "reason": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

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
