"""One page of a list, with the TRUE total: every staff list (queue, own submissions, blocked names, requisitions)
is read through `fetch`, so none can silently stop at a fixed number of rows again (issue 14: a queue of 14,000
pending submissions once showed its newest 500 and said "500").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from blocklist.errors import InvalidInput
from blocklist.i18n import N_
from blocklist.queries import page_offset

T = TypeVar("T")
MAX_PER_PAGE = 200
PER_PAGE = 50
ORDERS = ("asc", "desc")
Column = ColumnElement[Any] | QueryableAttribute[Any]  # a sort key: a mapped attribute or an expression


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows of page `page` (from 1) of `per_page` rows each, and how many rows the whole list has."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one, empty or not)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position (from 1) of this page's first row; 0 when the page is empty."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The position of this page's last row; 0 when the page is empty."""
        return self.first + len(self.items) - 1 if self.items else 0


def order_by(query: Select[Any], *, sort: str, order: str, columns: Mapping[str, Column],
             tie: Column) -> Select[Any]:
    """`query` ordered by one of `columns` (by its name, `sort`), ascending or descending, then by `tie` the same
    way, so that a page never shows a row twice or skips one; an unknown name is InvalidInput."""
    if sort not in columns:
        raise InvalidInput(N_("sort must be one of %(choices)s", choices=", ".join(columns)), field="sort")
    if order not in ORDERS:
        raise InvalidInput(N_("order must be asc or desc"), field="order")
    chosen = columns[sort]
    if order == "desc":
        return query.order_by(chosen.desc(), tie.desc())
    return query.order_by(chosen.asc(), tie.asc())


def fetch(session: Session, query: Select[Any], *, page: int, per_page: int) -> Page[Any]:
    """One page of `query`'s rows (its ORDER BY kept) and the count of all its rows (without the ORDER BY)."""
    offset = page_offset(page, per_page, most=MAX_PER_PAGE)
    total = int(session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one())
    items = list(session.execute(query.limit(per_page).offset(offset)).scalars())
    return Page(items=items, total=total, page=page, per_page=per_page)


def contains(column: Column, text: str) -> ColumnElement[bool]:
    """`column` contains `text`, case-insensitively, `%` and `_` meaning themselves (a case number search)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
