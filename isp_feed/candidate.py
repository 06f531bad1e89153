"""The approved list as the tables and the audit chain say it is: what the first version (and the hourly
reconciliation) reads whole, and the one test of "approved" every version applies.

A name reaches ISPs only if a magistrate's approval of that submission is an event of the audit chain and no
lifting event followed it: the status column alone is what anyone with SQL access can set.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from blocklist.models import AuditEvent, Submission
from isp_feed_client import formats

# The audit events that change the list: an approval, a lift, a magistrate's confirmation of a held change.
CHANGE_EVENTS = ("submission.approved", "submission.lifted", "feed.hold_confirmed")


@dataclass(frozen=True)
class Candidate:
    """A whole list (or the names of one range of it), built from the tables."""

    entries: tuple[formats.FeedEntry, ...]
    set_hash: str
    block_order_ids: frozenset[int]
    # Rows marked approved whose approval is not in the audit chain: left out, reported.
    unapproved: tuple[tuple[int, str], ...] = ()


def approval_in_chain() -> ColumnElement[bool]:
    """A submission's approval is an event of the audit chain and no lifting event followed it.

    Set-based (two look-ups per row in the index on action, object id and domain), so that it applies unchanged
    to the few rows a change touched.
    """
    def event(action: str) -> ColumnElement[bool]:
        return exists().where(AuditEvent.domain == Submission.domain, AuditEvent.action == action,
                              AuditEvent.object_id == cast(Submission.id, String))

    return and_(event("submission.approved"), ~event("submission.lifted"))


def approved_query(*, below: str | None = None, from_name: str | None = None) -> Select[str, str, str, int | None]:
    """The rows of the list (name, Unicode form, scope, block order), optionally only names in [from_name, below)
    (byte order: SQLite's BINARY collation, the only database the split build is used with)."""
    query = select(Submission.domain, Submission.unicode, Submission.scope, Submission.order_id).where(
        Submission.status == "approved", approval_in_chain())
    if below is not None:
        query = query.where(Submission.domain < below)
    if from_name is not None:
        query = query.where(Submission.domain >= from_name)
    return query


def entries_of_rows(rows: list[tuple[Any, ...]]) -> tuple[tuple[formats.FeedEntry, ...], frozenset[int]]:
    """(name, unicode, scope, order id) rows -> the entries in code point order, and the block orders."""
    rows.sort(key=itemgetter(0))  # code point order, whatever the database's collation
    scopes = {scope: scope for scope in formats.SCOPES}  # one string per scope, not one per row
    entries = tuple([formats.FeedEntry(d, d if u == d else u, scopes.get(s, s)) for d, u, s, _ in rows])
    return entries, frozenset(row[3] for row in rows if row[3] is not None)


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """A million entries are a million tracked tuples: the cyclic collector would walk them again and again while
    a whole list is read and rendered (they hold no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def literal_sql(session: Session, query: ClauseElement) -> str:
    """The query as one SQL string with its values inlined (for the raw driver: no parameters to bind)."""
    return str(query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))


def raw_rows(session: Session, query: ClauseElement) -> list[tuple[Any, ...]]:
    """Plain tuples straight from the driver: a million rows through SQLAlchemy's result objects cost seconds."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(literal_sql(session, query))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def current_candidate(session: Session, *, report: bool = False, hashed: bool = True,
                      below: str | None = None) -> Candidate:
    """The whole approved list from the tables (approval in the chain), sorted, with its hash. O(list).

    `report`: also find the rows marked approved whose approval is not in the chain (one more pass). Not `hashed`:
    no set hash (empty), for a caller that writes the list anyway and takes the hash of what it wrote. `below`:
    only the names before it (the split build reads the rest in another process).
    """
    with no_cyclic_gc():
        entries, orders = entries_of_rows(raw_rows(session, approved_query(below=below)))
        unapproved: dict[int, str] = {}
        if report:
            unapproved = {i: d for i, d in session.execute(
                select(Submission.id, Submission.domain).where(Submission.status == "approved", ~approval_in_chain()))}
        set_hash = hashlib.sha256(formats.canonical_list(entries)).hexdigest() if hashed else ""
        return Candidate(entries, set_hash, orders, tuple(sorted(unapproved.items())))
