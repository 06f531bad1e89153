"""The submissions table must be what replaying the audit events gives: a change made in SQL, without its event,
fails `audit verify` with the first submission that differs, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from blocklist import audit, reviews, workflow
from blocklist.db import Database
from blocklist.models import User
from blocklist.names import NamePolicy
from blocklist.replay import TRANSITIONS
from tests.blocklist.helpers import submission
from tests.blocklist.test_audit import attacker
from tests.support.insider import rehash_chain

POLICY = NamePolicy.build()


@pytest.fixture
def cases(database: Database, people: dict[str, User]) -> dict[str, int]:
    """One submission in each state (ids by name)."""
    with database.transaction() as s:
        ids = {d: workflow.submit(s, actor=people["officer"], data=submission(f"{d}.test"), policy=POLICY).id
               for d in ("pending", "blocked", "rejected", "withdrawn", "lifted", "renewed")}
    with database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[ids["blocked"], ids["lifted"], ids["renewed"]])
        workflow.reject(s, actor=people["magistrate"], submission_id=ids["rejected"], reason="no evidence")
        workflow.withdraw(s, actor=people["officer"], submission_id=ids["withdrawn"])
    with database.transaction() as s:
        workflow.lift(s, actor=people["magistrate2"], domain="lifted.test", reason="site taken down")
        reviews.attest(s, actor=people["officer"], domain="renewed.test", checked_on=dt.date.today(),
                       evidence_ref="EVD-R1", content_present=True)
        reviews.renew(s, actor=people["magistrate2"], domain="renewed.test", reason="still online",
                      review_due=dt.date.today() + dt.timedelta(days=90))
    return ids


def _verify(database: Database) -> audit.ChainStatus:
    with database.transaction() as s:
        return audit.verify(s)


def _sql(database: Database, statement: str, **params: object) -> None:
    with database.engine.begin() as conn:  # the submissions table has no trigger: any writer can do this
        conn.execute(text(statement), params)


def test_every_state_replays_to_the_table(database: Database, cases: dict[str, int]) -> None:
    status = _verify(database)
    assert status.intact and status.submissions == 6
    assert "6 submissions agree with their events" in status.describe()


def test_status_set_in_sql_without_an_event_is_found(database: Database, cases: dict[str, int]) -> None:
    sub = cases["pending"]
    _sql(database, "UPDATE submissions SET status = 'approved' WHERE id = :i", i=sub)
    status = _verify(database)
    assert not status.intact and status.broken_at is None
    assert f"submission {sub} is 'approved' in the table but its events say 'submitted'" in (status.problem or "")
    assert "BROKEN" in status.describe()


@pytest.mark.parametrize(("case", "statement", "message"), [
    ("lifted", "UPDATE submissions SET status = 'approved' WHERE id = :i", "is 'approved' in the table but its "
     "events say 'lifted'"),
    ("rejected", "UPDATE submissions SET status = 'submitted' WHERE id = :i", "its events say 'rejected'"),
    ("blocked", "UPDATE submissions SET domain = 'victim.test' WHERE id = :i", "is for 'victim.test' in the table but "
     "its events say 'blocked.test'"),
    ("blocked", "UPDATE submissions SET scope = 'exact' WHERE id = :i", "has scope 'exact' in the table but its "
     "events say 'domain_and_subdomains'"),
    ("blocked", "UPDATE submissions SET order_id = NULL WHERE id = :i", "cites blocking order None"),
    ("blocked", "DELETE FROM submissions WHERE id = :i", "has events but is missing from the table"),
])
def test_each_kind_of_table_edit_is_found(database: Database, cases: dict[str, int], case: str, statement: str,
                                          message: str) -> None:
    _sql(database, statement, i=cases[case])
    status = _verify(database)
    assert not status.intact and f"submission {cases[case]} " in (status.problem or "")
    assert message in (status.problem or "")


def test_a_row_inserted_in_sql_has_no_creation_event(database: Database, cases: dict[str, int],
                                                     people: dict[str, User]) -> None:
    _sql(database, "INSERT INTO submissions (domain, unicode, typed, scope, flags, legal_basis, case_number, "
         "evidence_ref, verified_on, note, status, version, submitted_by, submitted_at) SELECT 'forged.test', "
         "'forged.test', 'forged.test', scope, flags, legal_basis, case_number, evidence_ref, verified_on, note, "
         "'approved', 1, submitted_by, submitted_at FROM submissions WHERE id = :i", i=cases["blocked"])
    status = _verify(database)
    assert not status.intact and "(forged.test) is in the table but no event records its creation" in (
        status.problem or "")


def test_impossible_transition_in_a_rehashed_chain_is_named(database: Database, cases: dict[str, int]) -> None:
    # An insider re-labels the rejection as an approval and recomputes every hash: each link checks, the story not.
    with database.engine.connect() as conn:
        event = conn.execute(text("SELECT id FROM audit_events WHERE action = 'submission.withdrawn'")).scalar_one()
    with attacker(database) as conn:
        rows = conn.execute(text("SELECT id, at, actor, action, object_type, object_id, domain, order_id, details "
                                 "FROM audit_events WHERE id >= :i ORDER BY id"), {"i": event}).mappings().all()
        prev = conn.execute(text("SELECT hash FROM audit_events WHERE id = :i"), {"i": event - 1}).scalar_one()
        for row in rows:
            fields = {**row, "prev_hash": prev}
            if row["id"] == event:
                fields["action"] = "submission.lifted"
            digest = audit.event_hash(seq=fields.pop("id"), **fields)
            conn.execute(text("UPDATE audit_events SET action = :a, prev_hash = :p, hash = :h WHERE id = :i"),
                         {"a": fields["action"], "p": prev, "h": digest, "i": row["id"]})
            prev = digest
        conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
        conn.execute(text("UPDATE submissions SET status = 'lifted' WHERE id = :i"), {"i": cases["withdrawn"]})
    status = _verify(database)
    assert not status.intact and status.broken_at == event
    assert f"it lifts submission {cases['withdrawn']}, which its earlier events leave 'submitted'" in (
        status.problem or "")


def test_chains_without_the_order_column_still_replay(database: Database, cases: dict[str, int]) -> None:
    # Events written before core_0002 carry their order only in the details; replay reads it from there.
    with attacker(database) as conn:
        conn.execute(text("UPDATE audit_events SET order_id = NULL"))
        rehash_chain(conn)
    assert _verify(database).intact


def test_every_status_changing_action_of_the_workflow_is_replayed() -> None:
    import inspect

    source = inspect.getsource(workflow) + inspect.getsource(reviews)  # reviews.renew: "submission.renewed"
    recorded = {part.split('"')[0] for part in source.split('action="submission.')[1:]}
    assert {f"submission.{a}" for a in recorded} == set(TRANSITIONS)
