"""The JSON API under /api/v1: one module per resource, collected in `router`.

Every route answers the errors of `responses.COMMON`, takes a bearer credential (`deps.BEARER`, for the schema)
and declares its answer (`response_model`, api/schemas.py) and its other errors on its decorator.
"""

from __future__ import annotations

from fastapi import APIRouter, Security
from fastapi.routing import APIRoute

from api.deps import BEARER
from api.errors import HTTP_METHODS, method_not_allowed
from api.routes import (
    admin,
    appeals,
    batches,
    domains,
    feed_admin,
    history,
    oversight,
    probe,
    removal,
    reports,
    requisitions,
    reviews,
    submissions,
)
from api.routes.responses import COMMON

# batches before submissions: /submissions/batches is no /submissions/{submission_id}.
MODULES = (batches, submissions, domains, reviews, oversight, history, admin, requisitions, feed_admin, probe,
           reports, appeals, removal)

router = APIRouter(prefix="/api/v1", responses=COMMON, dependencies=[Security(BEARER)])


def _guard_literal_paths(routes: list[APIRoute]) -> None:
    """Answer 405 (with Allow) to every method a path without parameters does not declare, where a template would
    take its last segment for a parameter: GET /submissions/bulk would otherwise be GET /submissions/{submission_id}
    with an invalid id (422, or 401 before that), though no GET is documented at that path. Registered before
    the modules' routes, as the first route that matches wins."""
    for literal in routes:
        shadowed = any(r.param_convertors and r.path_regex.match(literal.path) for r in routes)
        if literal.param_convertors or not shadowed or any(r.path == router.prefix + literal.path
                                                            for r in router.routes if isinstance(r, APIRoute)):
            continue
        declared = {m for r in routes if r.path == literal.path for m in r.methods or ()}
        router.add_api_route(literal.path, method_not_allowed(declared), include_in_schema=False,
                             methods=[m for m in HTTP_METHODS if m not in declared])


_guard_literal_paths([r for module in MODULES for r in module.router.routes if isinstance(r, APIRoute)])
for module in MODULES:
    router.include_router(module.router)
