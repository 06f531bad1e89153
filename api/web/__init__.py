"""Server-rendered web pages (Jinja2), usable without JavaScript; collected in `router`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
