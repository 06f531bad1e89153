"""The stop page as a process of its own (`blocklist stop-page`), so that a flood on it never slows the staff app.

ISPs point blocked names at the stop page; every visitor who follows a link to one, and every bot hammering such
names, lands here. This process answers the stop page (api/stoppage.py: same page, same guess limiter, same
counts) and `/healthz`, and nothing else: the appeal form and the transparency statistics the page links to are
the staff app's, which a reverse proxy routes there (README: Operations); any other request is a 404.

No request touches the database: the names are reloaded and the hit counts stored by a task of their own
(StopPageState.keep_fresh), so that while the database is unreachable or locked the page is served from the names
last loaded and the counts wait in memory (stored at shutdown too). It runs no scheduler and migrates nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from api import health, stoppage
from api.logs import RequestLogMiddleware
from api.runtime import Runtime
from api.schemas import HealthOut
from api.security_headers import SecurityHeadersMiddleware


def create_stop_app(rt: Runtime) -> FastAPI:
    """The stop page, /healthz and a 404 for anything else, around one Runtime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            await tasks.start(app.state.stop_page.keep_fresh)
            yield
            tasks.cancel_scope.cancel()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.runtime = rt
    app.router.add_api_route("/healthz", health.healthz, methods=["GET"], response_model=HealthOut)

    @app.exception_handler(404)
    async def _not_here(*_: object) -> PlainTextResponse:
        return PlainTextResponse("not served by the stop page's process\n", status_code=404)

    app.add_middleware(SecurityHeadersMiddleware)
    stoppage.install(app, rt)
    app.add_middleware(RequestLogMiddleware)
    return app
