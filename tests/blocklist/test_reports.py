"""Reports and the triage queue: intake rules, privacy, all-or-nothing batches, grouping, merging, linking."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError

from blocklist import partners, reports
from blocklist.db import Database
from blocklist.errors import Conflict, Forbidden, InvalidInput, NotFound
from blocklist.models import AuditEvent, Report, ReportOutcome, Submission, User
from tests.support.factories import POLICY, approved, submitted
from tests.support.reserved_names import PLATFORM_SUFFIXES, use_reserved_suffixes

R = reports.ReportIn


def _events(s: object, action: str) -> list[AuditEvent]:
    return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())  # type: ignore[attr-defined]


def test_public_report_is_stored_with_an_unguessable_receipt(database: Database) -> None:
    with database.transaction() as s:
        first = reports.receive_public(s, data=R("https://WWW.Bad-Gallery.test/path?x=1", "a forum", "seen", ""))
        second = reports.receive_public(s, data=R("bad-gallery.test"))
        assert first.host == "www.bad-gallery.test" and second.host == "bad-gallery.test"
        assert first.contact is None and first.source == "public"
        for receipt in (first.receipt, second.receipt):
            assert receipt.startswith("R-") and len(receipt) == 12
            assert set(receipt[2:]) <= set(reports.RECEIPT_ALPHABET)
        assert first.receipt != second.receipt


def test_privacy_no_ip_user_agent_or_cookie_and_audit_without_contact_or_text(database: Database) -> None:
    columns = {c["name"] for c in inspect(database.engine).get_columns("reports")}
    # Exactly these: nothing about the reporter's connection (IP address, user agent, cookie, session).
    assert columns == {"id", "receipt", "host", "unicode", "address", "found_at", "description", "contact", "source",
                       "partner_id", "partner_reference", "received_at"}
    with database.transaction() as s:
        report = reports.receive_public(s, data=R("gallery.test", "somewhere secret", "my description text",
                                                  "me@reporter.example"))
        event = _events(s, "report.received")[0]
        assert event.actor == "public" and event.object_id == str(report.id) and event.domain == "gallery.test"
        assert json.loads(event.details) == {"host": "gallery.test"}
        for secret in ("me@reporter.example", "my description", "somewhere secret"):
            assert secret not in event.details


@pytest.mark.parametrize(("data", "code", "field"), [
    (R(""), "address_missing", "address"),
    (R("   "), "address_missing", "address"),
    (R("192.0.2.1"), "not_a_host", "address"),
    (R("http://[2001:db8::1]/x"), "not_a_host", "address"),
    (R("x" * 2049), "too_long", "address"),
    (R("ok.test", description="d" * 2001), "too_long", "description"),
    (R("ok.test", contact="c" * 255), "too_long", "contact"),
    (R("ok.test", found_at="f" * 2049), "too_long", "found_at"),
    (R("ok.test", description="a\x1bb"), "bad_characters", "description"),
])
def test_refused_report_writes_nothing(database: Database, data: reports.ReportIn, code: str, field: str) -> None:
    with database.transaction() as s:
        with pytest.raises(reports.ReportRefused) as refused:
            reports.receive_public(s, data=data)
        assert refused.value.code == code and refused.value.field == field
    with database.transaction() as s:
        assert s.execute(select(Report)).first() is None
        assert _events(s, "report.received") == []


def test_unblockable_names_are_stored_and_shown_as_such(database: Database, people: dict[str, User],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    use_reserved_suffixes(monkeypatch)
    with database.transaction() as s:
        # A protected name, a bare TLD, a platform suffix: inputs that are never blocked.
        for address in ("google.com/some/page", "com", PLATFORM_SUFFIXES[0]):
            reports.receive_public(s, data=R(address))
        groups, total = reports.triage_queue(s, actor=people["officer"], policy=POLICY)
        assert total == 3
        assert all(not g.blockable and g.refusal for g in groups)


def test_partner_bulk_all_or_nothing(database: Database) -> None:
    with database.transaction() as s:
        partner, token = partners.add_partner(s, actor="test", name="Child Focus")
        assert token.startswith("partner_") and partners.partner_by_token(s, token).id == partner.id
        assert _events(s, "partner.created")[0].details.find(token) == -1
        stored = reports.receive_from_partner(s, partner=partner, reports=[
            R(f"site-{i}.example", reference=f"CF-{i}") for i in range(1000)])
        assert len(stored) == 1000 and stored[7].partner_reference == "CF-7"
        with pytest.raises(InvalidInput):
            reports.receive_from_partner(s, partner=partner, reports=[R("a.example")] * 1001)
        with pytest.raises(reports.ReportRefused) as refused:
            reports.receive_from_partner(s, partner=partner, reports=[R("a.example"), R("192.0.2.7")])
        assert refused.value.field == "reports[1].address"
        assert s.execute(select(Report).where(Report.host == "a.example")).first() is None
        partners.set_active(s, actor="test", partner=partner, active=False)
        with pytest.raises(Forbidden):
            reports.receive_from_partner(s, partner=partner, reports=[R("b.example")])


def test_triage_groups_sorts_and_pages(database: Database, people: dict[str, User]) -> None:
    officer = people["officer"]
    with database.transaction() as s:
        reports.receive_public(s, data=R("old.test"))
        for address in ("http://many.test/a", "MANY.test", "many.test:8080/x"):
            reports.receive_public(s, data=R(address))
        reports.receive_public(s, data=R("two.test"))
        reports.receive_public(s, data=R("two.test/again"))
        submitted(s, officer, "two.test")
        by_count, total = reports.triage_queue(s, actor=officer, policy=POLICY, sort="count")
        assert total == 3
        assert [(g.host, g.count) for g in by_count] == [("many.test", 3), ("two.test", 2), ("old.test", 1)]
        assert by_count[1].status == "submitted" and by_count[2].status is None
        assert by_count[0].first_seen <= by_count[0].last_seen
        by_age, _ = reports.triage_queue(s, actor=officer, policy=POLICY, sort="age")
        assert [g.host for g in by_age] == ["old.test", "many.test", "two.test"]
        page2, total = reports.triage_queue(s, actor=officer, policy=POLICY, sort="count", page=2, per_page=2)
        assert total == 3 and [g.host for g in page2] == ["old.test"]
        with pytest.raises(Forbidden):
            reports.triage_queue(s, actor=people["magistrate"], policy=POLICY)


def test_reports_of_a_blocked_name_are_merged_not_lost(database: Database, people: dict[str, User]) -> None:
    officer, magistrate = people["officer"], people["magistrate"]
    with database.transaction() as s:
        pending = reports.receive_public(s, data=R("later.test/page"))
        under = reports.receive_public(s, data=R("cdn.later.test"))
        approved(s, officer, magistrate, "blocked.test")
        at_intake = reports.receive_public(s, data=R("www.blocked.test/x"))  # under a name blocked with subdomains
        sub = submitted(s, officer, "later.test")
        from blocklist import workflow
        workflow.approve(s, actor=magistrate, submission_ids=[sub.id])
        outcomes = {o.report_id: o for o in s.execute(select(ReportOutcome)).scalars()}
        blocked = s.execute(select(Submission).where(Submission.domain == "blocked.test")).scalar_one()
        assert outcomes[at_intake.id].outcome == "merged" and outcomes[at_intake.id].submission_id == blocked.id
        assert {outcomes[pending.id].submission_id, outcomes[under.id].submission_id} == {sub.id}
        assert len(_events(s, "report.merged")) == 2
        assert reports.triage_queue(s, actor=officer, policy=POLICY) == ([], 0)
        assert s.execute(select(Report)).scalars().all().__len__() == 3  # all kept


def test_dismiss_with_reason(database: Database, people: dict[str, User]) -> None:
    officer = people["officer"]
    with database.transaction() as s:
        ids = [reports.receive_public(s, data=R("junk.test")).id for _ in range(2)]
        with pytest.raises(InvalidInput):
            reports.dismiss(s, actor=officer, host="junk.test", reason=" x ")
        with pytest.raises(Forbidden):
            reports.dismiss(s, actor=people["auditor"], host="junk.test", reason="not abuse material")
        dismissed = reports.dismiss(s, actor=officer, host="JUNK.test", reason="not abuse material")
        assert [r.id for r in dismissed] == ids
        event = _events(s, "report.dismissed")[0]
        assert json.loads(event.details) == {"report_ids": ids, "reason": "not abuse material"}
        with pytest.raises(NotFound):
            reports.dismiss(s, actor=officer, host="junk.test", reason="again please")


def test_submission_links_reports(database: Database, people: dict[str, User]) -> None:
    officer = people["officer"]
    with database.transaction() as s:
        mine = [reports.receive_public(s, data=R(a)).id for a in ("linked.test", "www.linked.test/p")]
        other = reports.receive_public(s, data=R("other.test")).id
        with pytest.raises(InvalidInput), s.begin_nested():
            submitted(s, officer, "linked.test", report_ids=[*mine, other])
        with pytest.raises(InvalidInput), s.begin_nested():
            submitted(s, officer, "linked.test", report_ids=[999_999])
        sub = submitted(s, officer, "linked.test", report_ids=mine)
        linked = s.execute(select(ReportOutcome).where(ReportOutcome.submission_id == sub.id)).scalars().all()
        assert sorted(o.report_id for o in linked) == mine and {o.outcome for o in linked} == {"linked"}
        assert json.loads(_events(s, "report.linked")[0].details) == {"report_ids": mine}
        workflow_sub = submitted(s, officer, "other.test", report_ids=[other])
        assert workflow_sub.id
        with pytest.raises(Conflict), s.begin_nested():
            reports.link(s, actor=officer, submission=sub, report_ids=[mine[0]])


def test_reports_are_append_only(database: Database) -> None:
    with database.transaction() as s:
        reports.receive_public(s, data=R("evidence.test"))
    for statement in ("UPDATE reports SET host = 'x.test'", "DELETE FROM reports"):
        with pytest.raises(DBAPIError), database.transaction() as s:
            s.execute(__import__("sqlalchemy").text(statement))
