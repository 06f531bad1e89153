"""Bulk submissions as background jobs: stored at once (every name, in order), processed by the scheduler in chunks.

A pasted batch of thousands of names takes seconds to check and record; done in the request, the officer waited
with no feedback and a second press recorded nothing twice but reported every name as "already pending". So the
request only stores the batch (one row, one row per name: what was acknowledged is never lost) and answers 202;
the job `submissions.batches` (api/scheduler.py) records the names chunk by chunk, each chunk in its own
transaction (other writers get the database's lock between chunks), and the batch shows its progress
(done/total), each name's result and a CSV of them. The same form sent twice by the same officer (its
`form_token`) is one batch; an Idempotency-Key does the same for API clients (api/transaction.py).

Each name goes through exactly the steps of the synchronous bulk submission (workflow.submit_one): the name
checks, the duplicate check, the audit event of its submission.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blocklist import audit, workflow
from blocklist.db import Database
from blocklist.errors import BlocklistError, Conflict, InvalidInput, NotFound
from blocklist.i18n import N_
from blocklist.jobs import JobContext
from blocklist.models import SubmissionBatch, SubmissionBatchItem, User, utcnow
from blocklist.permissions import READ_CASES, require
from blocklist.roles import actor_label
from blocklist.schemas import BatchCreate, CaseDetails

CSV_COLUMNS = ("position", "typed", "state", "submission_id", "a_label", "code", "reason")
MAX_PER_PAGE = 1000
_HEADERS = {"domain", "domains", "name", "names", "host", "hostname"}


def names_from_text(text: str) -> list[str]:
    """The names of pasted text or a CSV file: the first column of each line, without blank lines, `#` comments
    and a header line."""
    names = []
    for number, row in enumerate(csv.reader(io.StringIO(text))):
        cell = next((c.strip() for c in row if c.strip()), "")
        if not cell or cell.startswith("#") or (number == 0 and cell.lower() in _HEADERS):
            continue
        names.append(cell)
    return names


def _content_hash(case: CaseDetails, names: Sequence[str]) -> str:
    body = case.model_dump_json(include=set(CaseDetails.model_fields)) + "\n" + "\n".join(names)
    return hashlib.sha256(body.encode()).hexdigest()


def create(session: Session, *, actor: User, data: BatchCreate, max_names: int) -> tuple[SubmissionBatch, bool]:
    """Store a bulk submission to process in the background; returns it and whether it is new.

    The case details are checked now (a bad one refuses the whole batch, 422), the names one by one later. The
    same form token from the same officer gives back the batch it made, whatever was sent the second time: a
    second press of the button is harmless. Another content under a used token is refused (409).
    """
    shared = workflow.check_case(data, actor=actor)
    if data.domains and data.text.strip():
        raise InvalidInput(N_("send the names as a list or as text, not both"), field="domains")
    names = list(data.domains) if data.domains else names_from_text(data.text)
    if not names:
        raise InvalidInput(N_("the batch has no name"), field="domains")
    if len(names) > max_names:
        raise InvalidInput(N_("the batch has %(count)s names; at most %(limit)s go in one batch: split it",
                              count=len(names), limit=max_names), field="domains")
    digest = _content_hash(data, names)
    if data.form_token is not None:
        existing = _by_token(session, actor, data.form_token)
        if existing is not None:
            return _same_form(existing, digest), False
    batch = SubmissionBatch(created_by=actor.id, created_at=utcnow(), form_token=data.form_token,
                            content_sha256=digest, case_details=CaseDetails(**shared).model_dump_json(),
                            case_number=str(shared["case_number"])[:100], total=len(names), done=0, submitted=0,
                            refused=0, status="queued")
    try:
        with session.begin_nested():
            session.add(batch)
            session.flush()
    except IntegrityError:
        # The same form, sent at the same moment by a second request that stored it first.
        raced = _by_token(session, actor, data.form_token or "")
        if raced is None:
            raise
        return _same_form(raced, digest), False
    session.execute(insert(SubmissionBatchItem), [
        {"batch_id": batch.id, "position": number, "typed": typed, "state": "pending"}
        for number, typed in enumerate(names, start=1)])
    audit.record(session, actor=actor_label(actor), action="submission_batch.created", object_type="submission_batch",
                 object_id=batch.id, details={"total": batch.total, "case_number": batch.case_number,
                                              "content_sha256": digest})
    return batch, True


def _by_token(session: Session, actor: User, token: str) -> SubmissionBatch | None:
    return session.execute(select(SubmissionBatch).where(SubmissionBatch.created_by == actor.id,
                                                         SubmissionBatch.form_token == token)).scalar_one_or_none()


def _same_form(batch: SubmissionBatch, digest: str) -> SubmissionBatch:
    if batch.content_sha256 != digest:
        raise Conflict(N_("this form token was already used for batch #%(id)s with other names or case details; "
                          "reload the form to send a new batch", id=batch.id))
    return batch


def get(session: Session, *, actor: User, batch_id: int) -> SubmissionBatch:
    """A batch, for those who read cases, or NotFound."""
    require(actor, READ_CASES)
    batch = session.get(SubmissionBatch, batch_id)
    if batch is None:
        raise NotFound(N_("no submission batch #%(id)s", id=batch_id))
    return batch


def items(session: Session, batch: SubmissionBatch, *, page: int = 1, per_page: int = 100,
          state: str | None = None) -> tuple[list[SubmissionBatchItem], int]:
    """One page of a batch's names in the order sent (only those in `state`, if given), and how many there are."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    query = select(SubmissionBatchItem).where(SubmissionBatchItem.batch_id == batch.id)
    if state is not None:
        query = query.where(SubmissionBatchItem.state == state)
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar() or 0)
    rows = session.execute(query.order_by(SubmissionBatchItem.position)
                           .limit(per_page).offset((page - 1) * per_page)).scalars()
    return list(rows), total


def results_csv(session: Session, batch: SubmissionBatch) -> Iterator[str]:
    """The batch's per-name results as CSV lines (a header first), read in pages: a 10,000-name batch is never
    held in memory whole."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue()
    after = 0
    while True:
        rows = list(session.execute(
            select(SubmissionBatchItem).where(SubmissionBatchItem.batch_id == batch.id,
                                              SubmissionBatchItem.position > after)
            .order_by(SubmissionBatchItem.position).limit(MAX_PER_PAGE)).scalars())
        if not rows:
            return
        out.seek(0)
        out.truncate()
        for row in rows:
            writer.writerow([row.position, _cell(row.typed), row.state, row.submission_id or "", row.a_label or "",
                             row.code or "", _cell(row.reason or "")])
        yield out.getvalue()
        after = rows[-1].position


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, - or @ would be read as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- the job ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """What one chunk did: the batch, how many of its names it settled, whether the batch is finished."""

    batch_id: int
    settled: int
    finished: bool


def process_chunk(database: Database, ctx: JobContext) -> Progress | None:
    """Settle the next chunk of the oldest unfinished batch in one transaction; None when no batch waits."""
    with database.transaction() as session:
        # FOR UPDATE SKIP LOCKED on PostgreSQL: two processes never take the same batch at once (SQLite's writer
        # lock serialises them anyway, and the pending rows are read inside it).
        batch = session.execute(
            select(SubmissionBatch).where(SubmissionBatch.status.in_(("queued", "running")))
            .order_by(SubmissionBatch.id).limit(1).with_for_update(skip_locked=True)).scalar_one_or_none()
        if batch is None:
            return None
        pending = list(session.execute(
            select(SubmissionBatchItem).where(SubmissionBatchItem.batch_id == batch.id,
                                              SubmissionBatchItem.state == "pending")
            .order_by(SubmissionBatchItem.position).limit(ctx.settings.batch_chunk_names)).scalars())
        if batch.status == "queued":
            batch.status, batch.started_at = "running", utcnow()
        if not pending:
            _finish(session, batch, "done")
            return Progress(batch.id, 0, True)
        actor = session.get(User, batch.created_by)
        try:
            assert actor is not None
            shared = workflow.check_case(CaseDetails.model_validate_json(batch.case_details), actor=actor)
        except BlocklistError as exc:  # e.g. the officer's account was disabled since: the rest stays pending
            batch.error = exc.message
            _finish(session, batch, "failed")
            return Progress(batch.id, 0, True)
        policy = ctx.policy(session)
        seen = _seen(session, batch, before=pending[0].position)
        for item in pending:
            result = workflow.submit_one(session, actor=actor, shared=shared, typed=item.typed, policy=policy,
                                         seen=seen)
            item.a_label = result.a_label
            if result.submission is not None:
                item.state, item.submission_id = "submitted", result.submission.id
                batch.submitted += 1
            else:
                item.state, item.code, item.reason = "refused", result.code, result.reason
                batch.refused += 1
            batch.done += 1
        finished = batch.done >= batch.total
        if finished:
            _finish(session, batch, "done")
        return Progress(batch.id, len(pending), finished)


def _seen(session: Session, batch: SubmissionBatch, *, before: int) -> set[str]:
    """The names earlier chunks of the batch met: a name met again later in it is refused as repeated."""
    return {name for name in session.execute(select(SubmissionBatchItem.a_label).where(
        SubmissionBatchItem.batch_id == batch.id, SubmissionBatchItem.position < before,
        SubmissionBatchItem.a_label.is_not(None))).scalars() if name is not None}


def _finish(session: Session, batch: SubmissionBatch, status: str) -> None:
    batch.status, batch.finished_at = status, utcnow()
    session.flush()
    audit.record(session, actor="system", action=f"submission_batch.{status}", object_type="submission_batch",
                 object_id=batch.id, details={"total": batch.total, "done": batch.done, "submitted": batch.submitted,
                                              "refused": batch.refused, "error": batch.error})


def process_batches(ctx: JobContext, *, budget_seconds: float = 10.0) -> int:
    """The scheduled job: settle chunks until no batch waits or the time budget is spent (the next run goes on);
    returns how many names it settled."""
    settled, started = 0, time.monotonic()
    while time.monotonic() - started < budget_seconds:
        progress = process_chunk(ctx.database, ctx)
        if progress is None:
            break
        settled += progress.settled
    return settled
