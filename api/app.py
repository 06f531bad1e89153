"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from api.runtime import Runtime
from blocklist import audit


def create_app(rt: Runtime) -> FastAPI:
    """Build the app around one Runtime (settings and database built once, at start-up)."""
    app = FastAPI(title="Belgian domain blocking", version="0.1.0")
    app.state.runtime = rt

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        with rt.database.transaction() as session:
            status = audit.verify(session)
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Domain blocking</title></head>"
            "<body><h1>Belgian domain blocking</h1>"
            f"<p>{status.describe()}</p><p>API documentation: <a href=/docs>/docs</a></p></body></html>"
        )

    return app
