"""FastAPI dependencies: the runtime, a transaction per request, and who is calling (user or ISP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from api import transaction
from api.runtime import Runtime
from blocklist import isps, partners, users
from blocklist.errors import Forbidden, Unauthenticated
from blocklist.models import Isp, Partner, User
from blocklist.permissions import Permission, require


async def runtime(request: Request) -> Runtime:
    """The process's Runtime (settings and database), built once at start-up. (async: a sync dependency costs
    every request a trip through the thread pool.)"""
    rt: Runtime = request.app.state.runtime
    return rt


def _reads_only(request: Request) -> bool:
    # The feed's GETs read only too: their fetch log is written in batches (isp_feed.serving.FetchLog).
    return request.method in ("GET", "HEAD")


async def session(request: Request, rt: Runtime = Depends(runtime)) -> AsyncIterator[Session]:
    """The request's transaction. A write is committed by `api.transaction` BEFORE the answer is sent.

    A GET reads in a read-only transaction (the database refuses any write in it), which never waits for the
    write lock. A write transaction waits for one of a bounded number of slots, without holding a thread, so
    that a request holding SQLite's write lock always finds a free thread for its next step.
    """
    if _reads_only(request):
        async with rt.read_slots:
            with rt.database.reading() as reader:
                yield reader
        return
    yield await transaction.current(request.scope).session()


# The credential every JSON route and the feed take, declared for the OpenAPI schema (`bearer`): a user's API token,
# an ISP's feed credential or a probe's credential. It only documents the header and never refuses: `bearer_token`
# reads it, and the route's own dependency decides whose it is (401 or 403, api/errors.py).
BEARER = HTTPBearer(scheme_name="bearer", auto_error=False,
                    description="A user's API token, an ISP's feed credential or a probe's credential, as each "
                                "route says")


def parse_bearer(header: str) -> str | None:
    """The token of an `Authorization` header's value `Bearer <token>`, or None."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer <token>` header, or Unauthenticated."""
    token = parse_bearer(request.headers.get("authorization", ""))
    if token is None:
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    return token


def current_user(request: Request, db: Session = Depends(session)) -> User:
    """The user behind the bearer token. The API never takes the web session cookie: a page elsewhere could
    make a logged-in browser send it (CSRF), while a bearer token is only ever sent on purpose."""
    user = users.user_by_token(db, bearer_token(request))
    transaction.bind_principal(request.scope, db, f"user:{user.id}")
    request.state.language = user.language  # refusals are worded in the caller's language (api/errors.py)
    return user


def allowed(permission: Permission) -> Callable[..., User]:
    """A dependency that admits only users the permission allows (the same rule as the web pages')."""

    def dependency(user: User = Depends(current_user)) -> User:
        require(user, permission)
        return user

    return dependency


class _Holder(Protocol):
    id: int
    name: str
    active: bool


HolderT = TypeVar("HolderT", bound=_Holder)


def _holder(request: Request, db: Session, lookup: Callable[[Session, str], HolderT], kind: str) -> HolderT:
    """The active organisation behind a bearer credential of `kind` (401 without, 403 when it is disabled)."""
    holder = lookup(db, bearer_token(request))
    if not holder.active:
        raise Forbidden(f"{'ISP' if kind == 'isp' else kind} {holder.name!r} is disabled")
    transaction.bind_principal(request.scope, db, f"{kind}:{holder.id}")
    return holder


def current_isp(request: Request, db: Session = Depends(session)) -> Isp:
    """The active ISP behind an ISP feed credential (401 without, 403 when the ISP is disabled)."""
    return _holder(request, db, isps.isp_by_token, "isp")


def current_partner(request: Request, db: Session = Depends(session)) -> Partner:
    """The active partner hotline behind a partner credential (401 without, 403 when the partner is disabled)."""
    return _holder(request, db, partners.partner_by_token, "partner")
