"""The stop page users see when they hit a blocked name (served when Host is listed or the stop-page host)."""

from __future__ import annotations

from fastapi import FastAPI

from api.runtime import Runtime


def install(app: FastAPI, rt: Runtime) -> None:
    """Add the Host-based stop-page middleware to the app (filled in by the web-pages work)."""
