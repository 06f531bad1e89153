"""The FastAPI application factory: JSON API, web pages, stop page."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import anyio
from fastapi import FastAPI, Security
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from api import docs, errors, health, scheduler, stoppage, web
from api.deps import BEARER
from api.feed_not_modified import LatestManifest, NotModifiedMiddleware
from api.logs import RequestLogMiddleware, full_templates
from api.metrics import Metrics
from api.metrics import router as metrics_router
from api.routes import router as api_router
from api.routes.feed import router as feed_router
from api.runtime import Runtime
from api.security_headers import SecurityHeadersMiddleware
from api.transaction import TransactionMiddleware
from api.web import router as web_router
from blocklist.files import write_secret_file


def session_secret(rt: Runtime) -> str:
    """The key that signs session cookies: configured, or generated once into the data directory."""
    if rt.settings.secret_key:
        return rt.settings.secret_key
    path = rt.settings.data_dir / "session_secret"
    if not path.exists():
        with suppress(FileExistsError):  # another process made it meanwhile: theirs is used
            write_secret_file(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip()


def app_from_environment() -> FastAPI:
    """The app of one worker process of `blocklist serve --workers N`: its own Runtime, from the environment."""
    from blocklist.settings import Settings

    return create_app(Runtime(Settings()))


def create_app(rt: Runtime) -> FastAPI:
    """Build the app around one Runtime (settings and database built once, at start-up)."""

    metrics = Metrics(rt)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Every process flushes what it holds in memory; those with BLOCKLIST_SCHEDULER compete to lead the jobs.
        running = await anyio.to_thread.run_sync(lambda: scheduler.start(rt, metrics=metrics,
                                                                         lead=rt.settings.scheduler))
        app.state.scheduler = running
        # FastAPI builds each included route's context on the first walk (0.3 s here): at start-up, not in the
        # first request of each worker, which the request log's route templates (api/logs.py) would make wait.
        await anyio.to_thread.run_sync(full_templates, app)
        try:
            async with anyio.create_task_group() as tasks:
                await tasks.start(app.state.stop_page.keep_fresh)  # the stop page's names, off the request path
                await tasks.start(app.state.latest_manifest.keep_fresh)  # what a 304 of the feed needs
                yield
                tasks.cancel_scope.cancel()
        finally:
            app.state.scheduler = None
            # Graceful: uvicorn has answered the requests in flight; the running job finishes, then the lead goes.
            await anyio.to_thread.run_sync(running.shutdown)
            # The feed requests logged since the last batch (a database already gone: the flush logged it).
            with suppress(Exception):
                rt.job_context.fetch_log.flush(rt.database)

    # /docs and /redoc are api/docs.py's: the scripts from the server itself, for logged-in staff only.
    app = FastAPI(title="Belgian domain blocking", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Submissions, four-eyes decisions, requisitions, signed ISP feed, DNS verification.")
    app.state.runtime = rt
    app.state.metrics = metrics
    app.state.readiness = health.Readiness(rt)
    app.state.scheduler = None  # the running scheduler, while the lifespan runs one (readiness asks)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics_router)
    # The feed before the API: routes are matched in order, and every ISP polls the feed (its paths are its own).
    app.include_router(feed_router, dependencies=[Security(BEARER)])  # the ISP's credential, for the schema
    app.include_router(api_router)
    docs.install(app)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=str(Path(web.__file__).parent / "static")), name="static")
    # Outermost last: the stop page answers before anything else; the feed's 304s from memory are innermost.
    app.state.latest_manifest = LatestManifest(rt)
    app.add_middleware(NotModifiedMiddleware, latest=app.state.latest_manifest)
    app.add_middleware(SessionMiddleware, secret_key=session_secret(rt), same_site="lax",
                       https_only=rt.settings.session_cookie_secure,
                       session_cookie="blocklist_session", max_age=8 * 3600)
    app.add_middleware(TransactionMiddleware, runtime=rt)
    app.add_middleware(SecurityHeadersMiddleware)  # outside the transaction: its answers get them too
    stoppage.install(app, rt)
    # Outside the stop page too: its answers get a request id, a log line and their figures (never the name).
    app.add_middleware(RequestLogMiddleware, observe=metrics.observe_request)
    return app
