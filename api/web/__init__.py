"""Server-rendered web pages (Jinja2), usable without JavaScript; collected in `router`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from api.web import (
    admin,
    appeal_form,
    appeals,
    auditor,
    auth,
    compliance,
    enrol,
    magistrate,
    officer,
    removal,
    report,
    reviews,
    transparency,
    triage,
)
from api.web.common import HOME

router = APIRouter(include_in_schema=False)
for module in (auth, enrol, officer, magistrate, auditor, admin, compliance, report, triage, appeal_form, appeals,
               transparency, reviews, removal):
    router.include_router(module.router)


@router.get("/")
def root(request: Request) -> RedirectResponse:
    """To the role's home page, or to the login page."""
    if request.session.get("user_id"):
        return RedirectResponse("/auditor" if "role" not in request.session else HOME[request.session["role"]], 303)
    return RedirectResponse("/login", status_code=303)
