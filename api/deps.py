"""FastAPI dependencies: the runtime, a transaction per request, and who is calling (user or ISP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.runtime import Runtime
from blocklist import isps, users
from blocklist.errors import Forbidden, Unauthenticated
from blocklist.models import Isp, User
from blocklist.roles import require_role


def runtime(request: Request) -> Runtime:
    """The process's Runtime (settings and database), built once at start-up."""
    rt: Runtime = request.app.state.runtime
    return rt


# GET requests under these paths write (the feed's fetch log): they get a write transaction like any POST.
WRITING_GETS = ("/feed/",)


def _reads_only(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and not request.url.path.startswith(WRITING_GETS)


async def session(request: Request, rt: Runtime = Depends(runtime)) -> AsyncIterator[Session]:
    """One transaction per request: committed when the view returns, rolled back whole on any error.

    A GET reads in a read-only transaction (the database refuses any write in it), which never waits for the
    write lock. The commit runs on the event loop, not in the thread pool: under load every pool thread can be
    waiting for the database's write lock, and a commit queued behind them would never run to release it.
    """
    if _reads_only(request):
        async with rt.read_slots:
            with rt.database.reading() as reader:
                yield reader
        return
    # At most N requests hold a write transaction at once, and waiting for a slot costs no thread: a request
    # that holds SQLite's write lock always finds a free thread for its next step (no pool starvation).
    async with rt.request_slots:
        s = rt.database.sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer <token>` header, or Unauthenticated."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    return token.strip()


def current_user(request: Request, db: Session = Depends(session)) -> User:
    """The user behind the bearer token (or the web session cookie, set by the web pages)."""
    user_id = request.scope.get("session", {}).get("user_id") if "session" in request.scope else None
    if user_id is not None and not request.headers.get("authorization"):
        user = db.get(User, int(user_id))
        if user is None or not user.active:
            raise Unauthenticated("your session has ended; log in again")
        return user
    return users.user_by_token(db, bearer_token(request))


def role(*roles: str, action: str) -> Callable[..., User]:
    """A dependency that admits only users holding one of `roles`."""

    def dependency(user: User = Depends(current_user)) -> User:
        require_role(user, *roles, action=action)
        return user

    return dependency


def current_isp(request: Request, db: Session = Depends(session)) -> Isp:
    """The active ISP behind an ISP feed credential (401 without, 403 when the ISP is disabled)."""
    isp = isps.isp_by_token(db, bearer_token(request))
    if not isp.active:
        raise Forbidden(f"ISP {isp.name!r} is disabled")
    return isp
