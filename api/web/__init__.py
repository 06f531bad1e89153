"""Server-rendered web pages (Jinja2), usable without JavaScript; collected in `router`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.stoppage import choose_language, headers, render_appeal
from api.web import admin, auditor, auth, compliance, enrol, magistrate, officer, report, triage
from api.web.common import HOME

router = APIRouter(include_in_schema=False)
for module in (auth, enrol, officer, magistrate, auditor, admin, compliance, report, triage):
    router.include_router(module.router)


@router.get("/")
def root(request: Request) -> RedirectResponse:
    """To the role's home page, or to the login page."""
    if request.session.get("user_id"):
        return RedirectResponse("/auditor" if "role" not in request.session else HOME[request.session["role"]], 303)
    return RedirectResponse("/login", status_code=303)


@router.get("/appeal", response_class=HTMLResponse)
def appeal(request: Request) -> HTMLResponse:
    """Placeholder for the public appeal form (its own issue): says how to register disapproval meanwhile."""
    lang = choose_language(request.url.query, request.headers.get("accept-language", ""))
    settings = request.app.state.runtime.settings
    body = render_appeal(lang, settings.stop_page_phone)
    return HTMLResponse(body, headers={k.decode(): v.decode() for k, v in headers(lang, body, settings.stop_page_host)
                                       if k != b"content-length"})
