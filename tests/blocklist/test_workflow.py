"""The four-eyes workflow: each transition, each refusal, and two decisions racing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from blocklist import audit, reviews, workflow
from blocklist.db import Database
from blocklist.errors import Conflict, Duplicate, Forbidden, InvalidInput, NameRefused, NotFound
from blocklist.models import AuditEvent, Order, Submission, User
from blocklist.names import NamePolicy
from tests.blocklist.helpers import submission
from tests.support.factories import submitted

POLICY = NamePolicy.build(extra_protected=["portal.gov.example"])


def _snapshot(database: Database) -> tuple[int, int, str]:
    with database.transaction() as s:
        subs = s.execute(select(func.count()).select_from(Submission)).scalar_one()
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        return subs, events, audit.verify(s).head_hash


def test_submit_records_everything_and_audits(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], "Bücher-Verboten.Example", scope="exact", note="seen 3x").id
    with database.transaction() as s:
        sub = workflow.get_submission(s, sub_id)
        assert (sub.domain, sub.unicode, sub.typed) == (
            "xn--bcher-verboten-gsb.example", "bücher-verboten.example", "Bücher-Verboten.Example")
        assert (sub.status, sub.scope, sub.legal_basis, sub.note) == ("submitted", "exact", "art39bis", "seen 3x")
        assert sub.flag_list == ["idn"]
        events = workflow.history(s, "bücher-verboten.example")
        assert [e.action for e in events] == ["submission.created"]
        assert '"evidence_ref":"EVD-0001-sha256:abcdef"' in events[0].details


def test_court_order_needs_its_details() -> None:
    with pytest.raises(ValidationError, match="court order needs"):
        submission(legal_basis="court_order")
    with pytest.raises(ValidationError, match="legal basis is art39bis"):
        submission(court_order={"court": "Tribunal de Bruxelles", "date": "2026-01-05", "reference": "R/1"})
    ok = submission(legal_basis="court_order",
                    court_order={"court": "Tribunal de Bruxelles", "date": "2026-01-05", "reference": "R/1"})
    assert ok.court_order is not None and ok.court_order.reference == "R/1"


def test_bad_input_is_refused_by_the_schema() -> None:
    with pytest.raises(ValidationError):
        submission(legal_basis="gut_feeling")
    with pytest.raises(ValidationError):
        submission(case_number="")
    with pytest.raises(ValidationError, match="future"):
        submission(verified_on=dt.date.today() + dt.timedelta(days=5))
    with pytest.raises(ValidationError):
        submission(scope="everything")


def test_only_officers_submit(database: Database, people: dict[str, User]) -> None:
    before = _snapshot(database)
    for role in ("magistrate", "auditor", "admin"):
        with pytest.raises(Forbidden, match="only an officer"), database.transaction() as s:
            workflow.submit(s, actor=people[role], data=submission(), policy=POLICY)
    assert _snapshot(database) == before


def test_refused_name_writes_nothing(database: Database, people: dict[str, User]) -> None:
    before = _snapshot(database)
    with pytest.raises(NameRefused, match="protected"), database.transaction() as s:
        workflow.submit(s, actor=people["officer"], data=submission("www.portal.gov.example"), policy=POLICY)
    assert _snapshot(database) == before


def test_approve_creates_order_and_review_date(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        a = submitted(s, people["officer"], "one.test").id
        b = submitted(s, people["officer2"], "two.test").id
    with database.transaction() as s:
        order = workflow.approve(s, actor=people["magistrate"], submission_ids=[a, b], reason="verified",
                                 review_days=30)
        order_id = order.id
    with database.transaction() as s:
        subs = [workflow.get_submission(s, i) for i in (a, b)]
        assert {x.status for x in subs} == {"approved"}
        assert {x.order_id for x in subs} == {order_id}
        assert subs[0].review_due == dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
        assert s.get(Order, order_id).kind == "block"  # type: ignore[union-attr]
        assert [e.action for e in workflow.history(s, "one.test")] == [
            "submission.created", "submission.approved", "order.created"]
        assert [x.domain for x in workflow.approved_names(s)] == ["one.test", "two.test"]


def test_batch_approval_is_all_or_nothing(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        a = submitted(s, people["officer"], "one.test").id
        b = submitted(s, people["officer"], "two.test").id
    with database.transaction() as s:
        workflow.reject(s, actor=people["magistrate"], submission_id=b, reason="not verified")
    before = _snapshot(database)
    with pytest.raises(Conflict, match="rejected, not pending"), database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[a, b])
    assert _snapshot(database) == before
    with database.transaction() as s:
        assert workflow.get_submission(s, a).status == "submitted"


def test_four_eyes_and_roles(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], "csam-gallery.test").id
    with pytest.raises(Forbidden, match="only a magistrate"), database.transaction() as s:
        workflow.approve(s, actor=people["officer"], submission_ids=[sub_id])
    with pytest.raises(Forbidden), database.transaction() as s:
        workflow.reject(s, actor=people["auditor"], submission_id=sub_id, reason="no")
    with pytest.raises(Forbidden), database.transaction() as s:
        workflow.approve(s, actor=people["admin"], submission_ids=[sub_id])
    with pytest.raises(Forbidden, match="only the officer who submitted"), database.transaction() as s:
        workflow.withdraw(s, actor=people["officer2"], submission_id=sub_id)


def test_four_eyes_never_own_submission(database: Database, people: dict[str, User]) -> None:
    # A decider who is also the submitter (e.g. an account whose role changed) is refused.
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], "csam-gallery.test").id
    with database.transaction() as s:
        officer = s.get(User, people["officer"].id)
        assert officer is not None
        officer.role = "magistrate"
    with database.transaction() as s:
        same_person = s.get(User, people["officer"].id)
        assert same_person is not None
        with pytest.raises(Forbidden, match="four eyes"):
            workflow.approve(s, actor=same_person, submission_ids=[sub_id])


def test_reject_and_lift_need_a_reason(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], "csam-gallery.test").id
    with pytest.raises(InvalidInput, match="written reason"), database.transaction() as s:
        workflow.reject(s, actor=people["magistrate"], submission_id=sub_id, reason="  ")
    with database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub_id])
    with pytest.raises(InvalidInput, match="written reason"), database.transaction() as s:
        workflow.lift(s, actor=people["magistrate"], domain="csam-gallery.test", reason="")


def test_withdraw_own_pending(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], "csam-gallery.test").id
    with database.transaction() as s:
        assert workflow.withdraw(s, actor=people["officer"], submission_id=sub_id, reason="typo").status == "withdrawn"
    with pytest.raises(Conflict, match="withdrawn, not pending"), database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub_id])


def test_duplicate_points_to_existing_then_resubmit_after_lift(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        first = submitted(s, people["officer"], "csam-gallery.test").id
    with pytest.raises(Duplicate, match=f"pending as submission #{first}") as info, database.transaction() as s:
        submitted(s, people["officer2"], "CSAM-Gallery.test.")
    assert info.value.existing_id == first
    with database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[first])
    with pytest.raises(Duplicate, match="already blocked"), database.transaction() as s:
        submitted(s, people["officer2"], "https://csam-gallery.test/x")
    with database.transaction() as s:
        order = workflow.lift(s, actor=people["magistrate2"], domain="csam-gallery.test", reason="site gone")
        assert order.kind == "lift"
    with database.transaction() as s:
        again = submitted(s, people["officer2"], "csam-gallery.test").id
    assert again != first
    with database.transaction() as s:
        actions = [e.action for e in workflow.history(s, "csam-gallery.test")]
    assert actions == ["submission.created", "submission.approved", "order.created", "submission.lifted",
                       "order.created", "submission.created"]


def test_resubmit_after_rejection(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        first = submitted(s, people["officer"], "csam-gallery.test").id
    with database.transaction() as s:
        workflow.reject(s, actor=people["magistrate"], submission_id=first, reason="insufficient evidence")
    with database.transaction() as s:
        assert submitted(s, people["officer"], "csam-gallery.test").id != first


def test_lift_and_renew_only_blocked(database: Database, people: dict[str, User]) -> None:
    with pytest.raises(NotFound, match="not currently blocked"), database.transaction() as s:
        workflow.lift(s, actor=people["magistrate"], domain="never.test", reason="why not")
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], "csam-gallery.test").id
    with database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub_id], review_days=1)
    today = dt.datetime.now(dt.UTC).date()
    tomorrow = today + dt.timedelta(days=1)
    with database.transaction() as s:
        assert [r.submission.id for r in reviews.due_reviews(s, today=tomorrow, within_days=0)[0]] == [sub_id]
        reviews.attest(s, actor=people["officer2"], domain="csam-gallery.test", checked_on=today,
                       evidence_ref="EVD-R1", content_present=True)
        reviews.renew(s, actor=people["magistrate2"], domain="csam-gallery.test", reason="still online",
                      review_due=today + dt.timedelta(days=90))
    with database.transaction() as s:
        assert reviews.due_reviews(s, today=tomorrow, within_days=0) == ([], 0)


def test_protected_override_by_magistrate(database: Database, people: dict[str, User]) -> None:
    with pytest.raises(NameRefused), database.transaction() as s:
        submitted(s, people["officer"], "portal.gov.example", policy=POLICY)
    with pytest.raises(Forbidden), database.transaction() as s:
        workflow.create_override(s, actor=people["officer"], domain="portal.gov.example", reason="page hosts CSAM")
    with database.transaction() as s:
        workflow.create_override(s, actor=people["magistrate"], domain="portal.gov.example",
                                 reason="court-confirmed exception, see file 12")
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], "portal.gov.example", scope="exact", policy=POLICY).id
    with database.transaction() as s:
        sub = workflow.get_submission(s, sub_id)
        assert "protected_override" in sub.flag_list and sub.override_id is not None
        assert [e.action for e in workflow.history(s, "portal.gov.example")] == [
            "protected.override", "submission.created"]


def test_isp_own_domains_are_protected(database: Database, people: dict[str, User]) -> None:
    from blocklist import isps

    with database.transaction() as s:
        isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
    with database.transaction() as s:
        policy = workflow.name_policy(s)
        with pytest.raises(NameRefused, match="protected"):
            workflow.submit(s, actor=people["officer"], data=submission("www.isp-one.example"), policy=policy)


def _race(database: Database, actions: list) -> list[BaseException | None]:  # type: ignore[type-arg]
    barrier = threading.Barrier(len(actions))
    outcomes: list[BaseException | None] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        try:
            with database.transaction() as s:
                actions[i](s)
        except BaseException as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_two_decisions_race_exactly_one_wins(database: Database, people: dict[str, User], attempt: int) -> None:
    with database.transaction() as s:
        sub_id = submitted(s, people["officer"], f"race{attempt}.test").id
    outcomes = _race(database, [
        lambda s: workflow.approve(s, actor=people["magistrate"], submission_ids=[sub_id]),
        lambda s: workflow.reject(s, actor=people["magistrate2"], submission_id=sub_id, reason="duplicate case"),
    ])
    assert sum(o is None for o in outcomes) == 1, outcomes
    loser = next(o for o in outcomes if o is not None)
    assert isinstance(loser, Conflict)
    assert "already decided" in str(loser) or "not pending" in str(loser)
    with database.transaction() as s:
        status = workflow.get_submission(s, sub_id).status
        decisions = [e.action for e in workflow.history(s, f"race{attempt}.test")
                     if e.action.startswith("submission.")][1:]
        assert audit.verify(s).intact
    assert status in ("approved", "rejected")
    assert decisions == [f"submission.{status}"]


def test_two_submissions_of_one_name_race(database: Database, people: dict[str, User]) -> None:
    outcomes = _race(database, [
        lambda s: workflow.submit(s, actor=people["officer"], data=submission("same.test"), policy=POLICY),
        lambda s: workflow.submit(s, actor=people["officer2"], data=submission("same.test"), policy=POLICY),
    ])
    assert sum(o is None for o in outcomes) == 1, outcomes
    assert isinstance(next(o for o in outcomes if o is not None), Duplicate)
    with database.transaction() as s:
        assert audit.verify(s).intact
