"""The append-only audit chain: every change is an event whose hash covers the previous one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables

from blocklist.models import AuditEvent, AuditHead, utcnow
from blocklist.replay import Replay

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the exact text that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    *,
    seq: int,
    at: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    domain: str | None,
    order_id: int | None,
    details: str,
    prev_hash: str,
) -> str:
    """SHA-256 over an event's fields and the previous event's hash."""
    body = canonical_json([seq, at, actor, action, object_type, object_id, domain, order_id, details, prev_hash])
    return hashlib.sha256(body.encode()).hexdigest()


def format_time(moment: dt.datetime) -> str:
    """ISO-8601 UTC with microseconds, the form stored and hashed."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class _Recorded:
    """An event recorded in a transaction and not yet chained (numbered and hashed onto the head)."""

    n: int  # its place among this session's recordings: a savepoint rolled back drops those recorded inside it
    actor: str
    action: str
    object_type: str
    object_id: str
    domain: str | None
    order_id: int | None
    details: str


@dataclass
class _Queue:
    """What one session has recorded and not yet chained (kept in `session.info` for one transaction)."""

    events: list[_Recorded] = field(default_factory=list)
    counter: int = 0
    marks: dict[SessionTransaction, int] = field(default_factory=dict)  # savepoint -> counter when it began
    chained: dict[SessionTransaction, list[_Recorded]] = field(default_factory=dict)  # chained inside a savepoint


_QUEUE = "blocklist.audit.queue"
_AUDIT_TABLES = frozenset({AuditEvent.__tablename__, AuditHead.__tablename__})


def _queue(session: Session) -> _Queue:
    queue: _Queue = session.info.setdefault(_QUEUE, _Queue())
    return queue


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    domain: str | None = None,
    order_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event to the chain inside the caller's transaction.

    The event is chained (numbered, timed and hashed onto the head) when the transaction commits, not here:
    chaining takes the chain's lock until the commit, and taken here it was held through the rest of the request,
    so on PostgreSQL every writer queued behind the slowest one. A query of the audit tables in the same
    transaction chains what is pending first, so a transaction always reads its own events; a rollback (of the
    transaction, or of a savepoint the event was recorded in) drops the event with the rest of the work.
    """
    queue = _queue(session)
    queue.counter += 1
    queue.events.append(_Recorded(queue.counter, actor, action, object_type, str(object_id), domain, order_id,
                                  canonical_json(details or {})))


def chain_pending(session: Session) -> None:
    """Chain the events recorded in this transaction and not yet chained, in the order they were recorded."""
    queue = session.info.get(_QUEUE)
    if queue is None or not queue.events:
        return
    events, queue.events = queue.events, []  # taken first: the queries below must not chain them again
    # The head's row lock serialises appenders, so that two transactions never chain onto the same predecessor:
    # on PostgreSQL a second one waits for the first's commit and then reads the head it left (READ COMMITTED
    # re-reads a row it waited for); SQLite has one writer at a time anyway.
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at = format_time(utcnow())
    seq, prev_hash = head.last_id, head.last_hash
    for e in events:
        seq += 1
        digest = event_hash(seq=seq, at=at, actor=e.actor, action=e.action, object_type=e.object_type,
                            object_id=e.object_id, domain=e.domain, order_id=e.order_id, details=e.details,
                            prev_hash=prev_hash)
        session.add(AuditEvent(id=seq, at=at, actor=e.actor, action=e.action, object_type=e.object_type,
                               object_id=e.object_id, domain=e.domain, order_id=e.order_id, details=e.details,
                               prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    head.last_id, head.last_hash = seq, prev_hash
    session.flush()
    savepoint = session.get_nested_transaction()
    if savepoint is not None:  # rolled back, the savepoint takes these rows with it: they are queued again
        queue.chained.setdefault(savepoint, []).extend(events)


@sa_event.listens_for(Session, "before_commit")
def _chain_at_commit(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is None:
        chain_pending(session)
        return
    # A savepoint released: what was chained inside it now belongs to the enclosing one.
    queue = session.info.get(_QUEUE)
    if queue is not None:
        queue.marks.pop(savepoint, None)
        moved = queue.chained.pop(savepoint, [])
        parent = savepoint.parent
        if moved and parent is not None and parent.nested:
            queue.chained.setdefault(parent, []).extend(moved)


@sa_event.listens_for(Session, "do_orm_execute")
def _chain_before_reading(state: ORMExecuteState) -> None:
    queue = state.session.info.get(_QUEUE)
    statement = state.statement
    if queue is not None and queue.events and isinstance(statement, ClauseElement) and _AUDIT_TABLES.intersection(
            getattr(t, "name", None) for t in find_tables(statement, check_columns=True, include_crud=True)):
        chain_pending(state.session)


@sa_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        queue = _queue(session)
        queue.marks[transaction] = queue.counter


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    queue = session.info.get(_QUEUE)
    if queue is None:
        return
    if not transaction.nested:
        session.info.pop(_QUEUE, None)
        return
    mark = queue.marks.pop(transaction, queue.counter)
    requeued = [e for e in queue.chained.pop(transaction, []) if e.n <= mark]
    queue.events = sorted(requeued + [e for e in queue.events if e.n <= mark], key=lambda e: e.n)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction is over, committed (all chained) or rolled back
        session.info.pop(_QUEUE, None)


@dataclass(frozen=True)
class Witness:
    """A point of the chain seen from outside the database: `events` events long, ending with `head_hash`.

    Checkpoints that ISPs' clients and off-site copies keep are turned into witnesses (isp_feed/checkpoints.py
    checks their signatures); the core only compares hashes, so that it needs no signing code.
    """

    events: int
    head_hash: str
    label: str


@dataclass(frozen=True)
class ChainStatus:
    """The outcome of checking the whole chain."""

    intact: bool
    events: int
    head_hash: str
    broken_at: int | None = None
    problem: str | None = None
    submissions: int = 0
    witnessed: int = 0

    def describe(self) -> str:
        """One line for operators."""
        if self.intact:
            extra = f", {self.submissions} submissions agree with their events"
            if self.witnessed:
                extra += f", {self.witnessed} witnessed checkpoint(s) match"
            return f"audit chain intact: {self.events} events, head {self.head_hash[:16]}{extra}"
        if self.broken_at is None:
            return f"audit chain BROKEN: {self.problem}"
        return f"audit chain BROKEN at event {self.broken_at}: {self.problem}"


def current_head(session: Session) -> tuple[int, str]:
    """The number of events and the newest hash, as the head row records them (GENESIS for an empty chain)."""
    chain_pending(session)  # a head already loaded in this session is not queried again, so nothing chains it
    head = session.get(AuditHead, 1)
    if head is None:
        raise LookupError("the audit chain has no head row: run `blocklist audit verify`")
    return head.last_id, head.last_hash


def hash_at(session: Session, events: int) -> str | None:
    """The stored hash of event `events` (GENESIS for 0), None when the chain is shorter."""
    if events == 0:
        return GENESIS
    return session.execute(select(AuditEvent.hash).where(AuditEvent.id == events)).scalar_one_or_none()


def _witness_index(witnesses: Sequence[Witness]) -> dict[int, list[Witness]]:
    index: dict[int, list[Witness]] = {}
    for witness in witnesses:
        index.setdefault(witness.events, []).append(witness)
    return index


def _mismatch(event_id: int, witness: Witness, found: str, last_good: int) -> str:
    since = f" and after event {last_good}, the last witnessed point that matches" if last_good else ""
    return (f"it does not match {witness.label}: that checkpoint witnessed head {witness.head_hash[:16]} at "
            f"{witness.events} events, the chain now has {found[:16]}; the history was rewritten at or before "
            f"event {event_id}{since}")


def verify(session: Session, *, batch: int = 5000, witnesses: Sequence[Witness] = ()) -> ChainStatus:
    """Recompute every hash in order; name the first event that is edited, missing, inserted or moved.

    Then the head row must exist and agree (a cut tail), every witnessed checkpoint must lie on the chain (a
    rewritten history whose hashes were all recomputed), and replaying the events must give the submissions
    table exactly (a status set in SQL without its event).
    """
    prev_hash = GENESIS
    expected_seq = 1
    last_id = 0
    replayer = Replay()
    pending = _witness_index(witnesses)
    for witness in pending.get(0, []):
        if witness.head_hash != GENESIS:
            return ChainStatus(False, 0, GENESIS, None, f"{witness.label} gives an empty chain a non-genesis head")
    matched = len(pending.pop(0, []))
    last_witnessed = 0
    # Plain rows, not ORM objects: the whole log is read, and building an object per event would cost most.
    query = select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.object_type,
                   AuditEvent.object_id, AuditEvent.domain, AuditEvent.order_id, AuditEvent.details,
                   AuditEvent.prev_hash, AuditEvent.hash).order_by(AuditEvent.id)
    for event in session.execute(query.execution_options(yield_per=batch)):
        if event.id != expected_seq:
            return ChainStatus(
                False, last_id, prev_hash, expected_seq,
                f"event {expected_seq} is missing (next stored event is {event.id})",
            )
        if event.prev_hash != prev_hash:
            return ChainStatus(
                False, last_id, prev_hash, event.id,
                "its previous-hash does not match the event before it (inserted, deleted or reordered)",
            )
        recomputed = event_hash(
            seq=event.id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            domain=event.domain,
            order_id=event.order_id,
            details=event.details,
            prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            return ChainStatus(False, last_id, prev_hash, event.id, "its content was changed after it was written")
        seen = pending.pop(event.id, None)
        if seen is not None:
            for witness in seen:
                if witness.head_hash != event.hash:
                    return ChainStatus(False, last_id, prev_hash, event.id,
                                       _mismatch(event.id, witness, event.hash, last_witnessed))
            matched += len(seen)
            last_witnessed = event.id
        problem = replayer.event(event)
        if problem is not None:
            return ChainStatus(False, last_id, prev_hash, event.id, problem)
        prev_hash = event.hash
        last_id = event.id
        expected_seq += 1
    head = session.get(AuditHead, 1)
    if head is None:
        # The migration creates the head row and nothing deletes it: without it a cut tail (or a wiped log)
        # would look like a shorter intact chain.
        return ChainStatus(
            False, last_id, prev_hash, last_id + 1,
            f"the chain head row (audit_head) is missing, so events after event {last_id} may have been deleted"
            if last_id else "the chain head row (audit_head) is missing and the log is empty: it was wiped",
        )
    if head.last_id != last_id or head.last_hash != prev_hash:
        return ChainStatus(
            False, last_id, prev_hash, last_id + 1 if head.last_id > last_id else head.last_id,
            f"the chain head records event {head.last_id} but the log ends at event {last_id}",
        )
    if pending:
        witness = pending[min(pending)][0]
        return ChainStatus(
            False, last_id, prev_hash, last_id + 1,
            f"the chain ends at event {last_id} but {witness.label} witnessed {witness.events} events: "
            "events were cut",
        )
    problem, submissions = replayer.compare(session, batch=batch)
    if problem is not None:
        return ChainStatus(False, last_id, prev_hash, None, f"the tables disagree with the events: {problem}",
                           submissions=submissions, witnessed=matched)
    return ChainStatus(True, last_id, prev_hash, submissions=submissions, witnessed=matched)


def events_for_domain(session: Session, domain: str, order_ids: Sequence[int] = ()) -> list[AuditEvent]:
    """Every event about one name, plus those about the orders that blocked or lifted it, in order."""
    condition = AuditEvent.domain == domain
    if order_ids:
        # Order-level events (no single domain: the order itself, its requisitions, feed versions).
        condition = or_(condition, and_(AuditEvent.domain.is_(None), AuditEvent.order_id.in_(list(order_ids))))
    query = select(AuditEvent).where(condition).order_by(AuditEvent.id)
    return list(session.execute(query).scalars())
