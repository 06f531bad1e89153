"""The FastAPI application factory: JSON API, web pages, stop page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors, scheduler, stoppage
from api.idempotency import IdempotencyMiddleware
from api.routes import router as api_router
from api.routes.feed import router as feed_router
from api.runtime import Runtime
from api.web import router as web_router


def create_app(rt: Runtime) -> FastAPI:
    """Build the app around one Runtime (settings and database built once, at start-up)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        running = scheduler.start(rt) if rt.settings.scheduler else None
        try:
            yield
        finally:
            if running is not None:
                running.shutdown(wait=False)

    app = FastAPI(title="Belgian domain blocking", version="0.1.0", lifespan=lifespan,
                  description="Submissions, four-eyes decisions, requisitions, signed ISP feed, DNS verification.")
    app.state.runtime = rt
    errors.install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(api_router)
    app.include_router(feed_router)
    app.include_router(web_router)
    stoppage.install(app, rt)
    app.add_middleware(IdempotencyMiddleware, runtime=rt)
    return app
