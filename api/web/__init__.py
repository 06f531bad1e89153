"""Server-rendered web pages (Jinja2), usable without JavaScript; collected in `router`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.stoppage import TEXT, choose_language
from api.web import admin, auditor, auth, compliance, magistrate, officer
from api.web.common import HOME

router = APIRouter(include_in_schema=False)
for module in (auth, officer, magistrate, auditor, admin, compliance):
    router.include_router(module.router)


@router.get("/")
def root(request: Request) -> RedirectResponse:
    """To the role's home page, or to the login page."""
    if request.session.get("user_id"):
        return RedirectResponse("/auditor" if "role" not in request.session else HOME[request.session["role"]], 303)
    return RedirectResponse("/login", status_code=303)


@router.get("/appeal", response_class=HTMLResponse)
def appeal(request: Request) -> HTMLResponse:
    """Placeholder for the public appeal form (its own issue); says how to register disapproval meanwhile."""
    lang = choose_language(request.url.query, request.headers.get("accept-language", ""))
    phone = request.app.state.runtime.settings.stop_page_phone
    return HTMLResponse(f"<!doctype html><html lang={lang}><meta charset=utf-8><title>{TEXT[lang]['form']}</title>"
                        f"<h1>{TEXT[lang]['form']}</h1><p>{TEXT[lang]['appeal'].format(phone=phone)}</p></html>",
                        headers={"Content-Security-Policy": "default-src 'none'"})
