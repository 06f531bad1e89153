"""The JSON API under /api/v1: one module per resource, collected in `router`."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import admin, domains, feed_admin, oversight, probe, requisitions, submissions

router = APIRouter(prefix="/api/v1")
for module in (submissions, domains, oversight, admin, requisitions, feed_admin, probe):
    router.include_router(module.router)
