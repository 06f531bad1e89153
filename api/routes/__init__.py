"""The JSON API under /api/v1: one module per resource, collected in `router`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
