"""Map the project's errors and validation failures to JSON with a human-readable reason; never a trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web.common import LoginRequired, templates
from blocklist.errors import BlocklistError, Duplicate, NameRefused

log = logging.getLogger("api")


def install(app: FastAPI) -> None:
    """Register the exception handlers on the app."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(BlocklistError)
    async def _project_error(request: Request, exc: BlocklistError) -> Response:
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
        if not request.url.path.startswith(("/api/", "/feed/")):
            return _html(request, exc.status_code, str(exc.detail))
        return JSONResponse({"error": "HTTPError", "reason": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "InternalError", "reason": "an unexpected error occurred; it was logged"},
                            status_code=500)


def _html(request: Request, status: int, reason: str) -> Response:
    """A readable error page for the web pages (never a trace)."""
    from api.web.i18n import translator

    return templates.TemplateResponse(request, "error.html", {
        "user": None, "t": translator("en"), "lang": "en", "csrf": "", "messages": [], "home": {},
        "status": status, "reason": reason}, status_code=status)
