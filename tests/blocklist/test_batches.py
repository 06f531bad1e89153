"""Bulk submissions as background jobs: stored whole, recorded chunk by chunk with progress, each name's result kept
with a reason code, the same form sent twice stored once."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import func, select

from api.runtime import Runtime
from blocklist import audit, batches, users
from blocklist.errors import Conflict, Forbidden, InvalidInput
from blocklist.jobs import JobContext
from blocklist.models import SubmissionBatchItem, User
from blocklist.schemas import BatchCreate
from tests.support.factories import submitted

CASE: dict[str, Any] = {"legal_basis": "art39bis", "case_number": "FCCU-2026-0042", "evidence_ref": "EVD-42",
                        "verified_on": dt.date.today().isoformat(), "hosting_country": "NL"}


def _batch(**fields: Any) -> BatchCreate:
    return BatchCreate(**{**CASE, **fields})


def _items(rt: Runtime, batch_id: int) -> list[tuple[str, str, str | None]]:
    with rt.database.reading() as s:
        rows = s.execute(select(SubmissionBatchItem.typed, SubmissionBatchItem.state, SubmissionBatchItem.code)
                         .where(SubmissionBatchItem.batch_id == batch_id)
                         .order_by(SubmissionBatchItem.position))
        return [(typed, state, code) for typed, state, code in rows]


def test_names_from_pasted_text_or_csv() -> None:
    text = "domain,note\ncsam-one.test,first\n\n# a comment\n  csam-two.test  \n,csam-three.test\n"
    assert batches.names_from_text(text) == ["csam-one.test", "csam-two.test", "csam-three.test"]
    assert batches.names_from_text("a.test\r\nb.test") == ["a.test", "b.test"]


def test_a_batch_is_recorded_chunk_by_chunk_with_each_names_result(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        submitted(s, people["officer2"], "already.test")
    names = ["one.test", "two.test", "test", "already.test", "Three.test", "one.test", "www.protected.example",
             "four.test", "192.0.2.1", "two.test"]
    with rt.database.transaction() as s:
        batch, new = batches.create(s, actor=people["officer"], data=_batch(domains=names), max_names=100)
        batch_id = batch.id
        assert new and (batch.status, batch.total, batch.done) == ("queued", 10, 0)
    small = JobContext(rt.database, rt.settings.model_copy(update={"batch_chunk_names": 4}), rt.job_context.policy)
    progress = [batches.process_chunk(rt.database, small) for _ in range(3)]
    assert [(p.settled, p.finished) for p in progress if p] == [(4, False), (4, False), (2, True)]
    assert batches.process_chunk(rt.database, small) is None  # nothing waits any more
    assert _items(rt, batch_id) == [
        ("one.test", "submitted", None), ("two.test", "submitted", None), ("test", "refused", "tld"),
        ("already.test", "refused", "duplicate"), ("Three.test", "submitted", None),
        ("one.test", "refused", "repeated"),  # met in the first chunk, refused in the second
        ("www.protected.example", "refused", "protected"), ("four.test", "submitted", None),
        ("192.0.2.1", "refused", "ip_literal"), ("two.test", "refused", "repeated")]
    with rt.database.reading() as s:
        batch = batches.get(s, actor=people["auditor"], batch_id=batch_id)
        assert (batch.status, batch.done, batch.submitted, batch.refused) == ("done", 10, 4, 6)
        page, matching = batches.items(s, batch, state="refused", per_page=2, page=2)
        assert matching == 6 and [i.typed for i in page] == ["one.test", "www.protected.example"]
        rows = list(csv.reader(io.StringIO("".join(batches.results_csv(s, batch)))))
        assert rows[0] == list(batches.CSV_COLUMNS) and len(rows) == 11
        assert rows[3][:3] == ["3", "test", "refused"] and rows[1][3].isdigit()
        assert audit.verify(s).intact
        actions = [a for (a,) in s.execute(select(audit.AuditEvent.action).where(
            audit.AuditEvent.object_type == "submission_batch"))]
        assert actions == ["submission_batch.created", "submission_batch.done"]


def test_the_same_form_sent_twice_is_one_batch(rt: Runtime, people: dict[str, User]) -> None:
    form = _batch(text="a.test\nb.test\n", form_token="form-token-1234")
    with rt.database.transaction() as s:
        first, new = batches.create(s, actor=people["officer"], data=form, max_names=100)
        again, repeated = batches.create(s, actor=people["officer"], data=form, max_names=100)
        assert new and not repeated and again.id == first.id
        with pytest.raises(Conflict, match="already used"):
            batches.create(s, actor=people["officer"], data=_batch(text="c.test", form_token="form-token-1234"),
                           max_names=100)
        # Another officer's token is theirs.
        other, other_new = batches.create(s, actor=people["officer2"], data=form, max_names=100)
        assert other_new and other.id != first.id
        assert s.execute(select(func.count()).select_from(SubmissionBatchItem)).scalar() == 4


def test_refusals_of_the_whole_batch(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        with pytest.raises(InvalidInput, match="at most 3"):
            batches.create(s, actor=people["officer"], data=_batch(domains=["a.test"] * 4), max_names=3)
        with pytest.raises(InvalidInput, match="no name"):
            batches.create(s, actor=people["officer"], data=_batch(text="# nothing\n"), max_names=3)
        with pytest.raises(InvalidInput, match="not both"):
            batches.create(s, actor=people["officer"], data=_batch(domains=["a.test"], text="b.test"), max_names=3)
        with pytest.raises(InvalidInput):
            batches.create(s, actor=people["officer"], data=_batch(domains=["a.test"], hosting_country=""),
                           max_names=3)
        with pytest.raises(Forbidden):
            batches.create(s, actor=people["magistrate"], data=_batch(domains=["a.test"]), max_names=3)
        assert s.execute(select(func.count()).select_from(SubmissionBatchItem)).scalar() == 0


def test_a_batch_of_a_disabled_officer_stops_and_keeps_the_rest_pending(rt: Runtime,
                                                                       people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        batch_id = batches.create(s, actor=people["officer"], data=_batch(domains=["a.test", "b.test"]),
                                  max_names=3)[0].id
        users.set_active(s, actor="test", user=users.get_user(s, "officer"), active=False)
    progress = batches.process_chunk(rt.database, rt.job_context)
    assert progress is not None and progress.finished and progress.settled == 0
    with rt.database.reading() as s:
        batch = batches.get(s, actor=people["auditor"], batch_id=batch_id)
        assert batch.status == "failed" and "disabled" in (batch.error or "")
    assert [state for _, state, _ in _items(rt, batch_id)] == ["pending", "pending"]
