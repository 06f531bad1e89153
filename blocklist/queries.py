"""One query per recurring question, so that "what is blocked" and "who must comply" are answered one way."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.models import Isp, Submission, User


def is_blocked() -> ColumnElement[bool]:
    """The condition of a submission whose name is blocked now (approved, not lifted)."""
    return Submission.status == "approved"


def blocked_names() -> Select[str]:
    """The blocked names (A-labels), as a query to run or to use as a sub-query."""
    return select(Submission.domain).where(is_blocked())


def active_isps(session: Session, *, order_by_name: bool = False) -> list[Isp]:
    """Every active ISP (the ones that receive requisitions and must block), by id or by name."""
    query = select(Isp).where(Isp.active.is_(True)).order_by(Isp.name if order_by_name else Isp.id)
    return list(session.execute(query).scalars())


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Account id -> username for these ids (None and unknown ids left out): who submitted, decided, confirmed."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {i: n for i, n in session.execute(select(User.id, User.username).where(User.id.in_(wanted)))}


def page_offset(page: int, per_page: int, *, most: int = 200) -> int:
    """The rows to skip for one page of a queue (pages start at 1, `per_page` 1 to `most`); else InvalidInput."""
    if page < 1 or not 1 <= per_page <= most:
        raise InvalidInput(N_("pages start at 1, and a page holds 1 to %(most)s rows", most=most), field="page")
    return (page - 1) * per_page
