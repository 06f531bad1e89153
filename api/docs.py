"""The API's browsable reference, `/docs` (Swagger UI) and `/redoc` (ReDoc), served from the server itself.

Their scripts come from a packaged bundle (fastapi-offline's copies of swagger-ui-dist and redoc, installed with
the product), never from a CDN: the staff network may have no way out, and a page that loads a script from
elsewhere runs whatever that site serves. They are for staff: a logged-in session (the web pages' cookie) or a
bearer token; without either the browser is sent to the login page. The OpenAPI description itself
(`/openapi.json`) stays public: it holds no data.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from api.deps import bearer_token, session
from api.web import sessions
from api.web.common import LoginRequired
from blocklist import users
from blocklist.models import User

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
router = APIRouter(include_in_schema=False)


def staff(request: Request, db: Session = Depends(session)) -> User:
    """A bearer token's user, or the logged-in user of the session cookie; else the login page."""
    if request.headers.get("authorization"):
        return users.user_by_token(db, bearer_token(request))
    user = sessions.user_of(db, request.session)
    if user is None:
        raise LoginRequired()
    return user


def _csp(page: HTMLResponse) -> HTMLResponse:
    """Scripts from this server and the page's own inline start-up script only (hashed); the bundles add inline
    styles and ReDoc runs a worker from a blob."""
    body = bytes(page.body).decode()
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in re.findall(r"<script>(.*?)</script>", body, flags=re.S))
    page.headers["content-security-policy"] = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    return page


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request, _: User = Depends(staff)) -> HTMLResponse:
    """Swagger UI over /openapi.json ("Authorize" takes the API token)."""
    return _csp(get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title=f"{request.app.title} - API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        # No validator badge: it would send the description to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False}))


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request, _: User = Depends(staff)) -> HTMLResponse:
    """ReDoc over /openapi.json, without web fonts."""
    return _csp(get_redoc_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} - API reference",
                               redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                               redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False))


def install(app: FastAPI) -> None:
    """Serve the reference pages and their assets (the app is built with docs_url=None, redoc_url=None)."""
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS)), name="docs-assets")
