"""Appeals: intake rules and privacy, all or nothing, the queue beside each name's record, the decision (four eyes,
a written reason, upheld lifts through the one lift), the history, and the answer's e-mail on a real SMTP server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from blocklist import appeals, workflow
from blocklist.db import Database
from blocklist.errors import Conflict, Forbidden, InvalidInput, NotFound
from blocklist.jobs import JobContext
from blocklist.models import Appeal, AppealAnswerMail, AppealDecision, AuditEvent, Submission, User
from blocklist.settings import Settings
from blocklist.text import FormRefused
from tests.support.factories import approved, lifted, make_user, submitted
from tests.support.smtp import Inbox, smtp_server

A = appeals.AppealIn
TOO_LONG = [("name", A("x" * 2049, "why")), ("text", A("ok.test", "t" * 4001)),
            ("contact", A("ok.test", "why", "c" * 250 + "@x.test"))]


def _count(database: Database, model: type[object]) -> int:
    with database.transaction() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())  # type: ignore[call-overload]


def _actions(database: Database, name: str) -> list[str]:
    with database.transaction() as s:
        return [e.action for e in workflow.history(s, name)]


@pytest.fixture
def blocked(database: Database, people: dict[str, User]) -> int:
    """csam-gallery.test blocked with its subdomains, approved by `magistrate`; the submission's id."""
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
        return workflow.approved_submission(s, "csam-gallery.test").id


def test_an_appeal_is_stored_whole_with_its_receipt_and_nothing_about_the_appellant(
        database: Database, blocked: int) -> None:
    with database.transaction() as s:
        appeal = appeals.receive(s, data=A("WWW.CSAM-Gallery.test.", "This is my bakery's site.\r\nPlease check.",
                                           " Someone@Mail.EXAMPLE ", "nl"))
        assert appeal.receipt.startswith("A-") and len(appeal.receipt) == 12
        assert (appeal.domain, appeal.text, appeal.contact, appeal.language) == (
            "www.csam-gallery.test", "This is my bakery's site.\nPlease check.", "Someone@mail.example", "nl")
        assert appeal.submission_id == blocked  # the parent's block, which covers the name appealed
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "appeal.received")).scalar_one()
        # In the history of the name as blocked; never the appellant's text or contact.
        assert event.domain == "csam-gallery.test" and event.actor == "public"
        assert json.loads(event.details) == {"receipt": appeal.receipt, "name": "www.csam-gallery.test",
                                             "submission_id": blocked, "language": "nl"}
        assert "bakery" not in event.details and "mail.example" not in event.details.lower()
    columns = {c["name"] for c in inspect(database.engine).get_columns("appeals")}
    assert columns == {"id", "receipt", "domain", "unicode", "text", "contact", "language", "submission_id",
                       "received_at"}  # nothing about the connection: no IP address, user agent or cookie


def test_names_never_blocked_are_stored_too(database: Database) -> None:
    with database.transaction() as s:
        appeal = appeals.receive(s, data=A("https://bücher.example/page", "why"))
        assert (appeal.domain, appeal.unicode, appeal.submission_id, appeal.contact) == (
            "xn--bcher-kva.example", "bücher.example", None, None)


@pytest.mark.parametrize(("data", "field", "code"), [
    *[(d, f, "too_long") for f, d in TOO_LONG],
    (A("", "why"), "name", "name_missing"),
    (A("192.0.2.1", "why"), "name", "not_a_name"),
    (A("a..b.test", "why"), "name", "not_a_name"),
    (A("ok.test", "   "), "text", "text_missing"),
    (A("ok.test", "why \x1b[2J"), "text", "bad_characters"),
    (A("ok.test", "why", "not an address"), "contact", "bad_contact"),
    (A("ok.test", "why", language="es"), "language", "bad_language"),
])
def test_bad_input_is_refused_saying_which_field_and_nothing_is_written(
        database: Database, data: appeals.AppealIn, field: str, code: str) -> None:
    with pytest.raises(FormRefused) as refused, database.transaction() as s:
        appeals.receive(s, data=data)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert _count(database, Appeal) == 0
    with database.transaction() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action.like("appeal.%"))).first() is None


def test_prefill_takes_site_names_only() -> None:
    assert appeals.prefill("XN--BCHER-KVA.example") == "bücher.example"
    assert appeals.prefill("192.0.2.1") == appeals.prefill("x" * 3000) == appeals.prefill("<b>") == ""


def test_queue_oldest_first_with_a_true_total_and_each_names_record(
        database: Database, people: dict[str, User], blocked: int) -> None:
    with database.transaction() as s:
        submitted(s, people["officer"], "pending.test")
        lifted(s, people["officer"], people["magistrate"], "gone.test")
        for name in ("csam-gallery.test", "pending.test", "gone.test", "never.test", "x.csam-gallery.test"):
            appeals.receive(s, data=A(name, f"about {name}"))
    with database.transaction() as s:
        items, total = appeals.queue(s, actor=people["magistrate2"], page=1, per_page=2)
        assert total == 5 and [i.appeal.domain for i in items] == ["csam-gallery.test", "pending.test"]
        items, _ = appeals.queue(s, actor=people["auditor"], page=2, per_page=2)
        assert [(i.appeal.domain, i.record.status if i.record else None) for i in items] == [
            ("gone.test", "lifted"), ("never.test", None)]
        last, _ = appeals.queue(s, actor=people["magistrate"], page=3, per_page=2)
        record = last[0].record
        assert record is not None and (record.id, record.legal_basis, record.case_number) == (
            blocked, "art39bis", "FCCU-2026-0001") and record.review_due is not None
        for who in ("officer", "admin"):
            with pytest.raises(Forbidden):
                appeals.queue(s, actor=people[who])
        with pytest.raises(InvalidInput):
            appeals.queue(s, actor=people["magistrate"], state="closed")


def test_upheld_lifts_the_block_through_the_one_lift_and_is_in_the_names_history(
        database: Database, people: dict[str, User], blocked: int) -> None:
    with database.transaction() as s:
        appeal_id = appeals.receive(s, data=A("www.csam-gallery.test", "a legal site", "me@mail.example")).id
    with database.transaction() as s:
        decision = appeals.decide(s, actor=people["magistrate2"], appeal_id=appeal_id, outcome="upheld",
                                  reason="the content is gone; a bakery now")
        assert (decision.outcome, decision.answer, decision.submission_id) == ("upheld", "lifted", blocked)
        sub = s.get(Submission, blocked)
        assert sub is not None and sub.status == "lifted" and sub.lift_order_id == decision.lift_order_id
        assert sub.lifted_by == people["magistrate2"].id and "upheld" in (sub.lift_reason or "")
        assert s.execute(select(AppealAnswerMail.status)).scalar_one() == "pending"
    actions = _actions(database, "csam-gallery.test")
    assert actions[-4:] == ["appeal.received", "submission.lifted", "order.created", "appeal.decided"]
    with pytest.raises(Conflict), database.transaction() as s:
        appeals.decide(s, actor=people["magistrate2"], appeal_id=appeal_id, outcome="dismissed", reason="again")


def test_four_eyes_the_approver_may_not_decide(database: Database, people: dict[str, User], blocked: int) -> None:
    with database.transaction() as s:
        appeal_id = appeals.receive(s, data=A("csam-gallery.test", "why")).id
    for actor, refusal in (("magistrate", appeals.AppealFourEyes), ("officer", Forbidden), ("auditor", Forbidden)):
        with pytest.raises(refusal), database.transaction() as s:
            appeals.decide(s, actor=people[actor], appeal_id=appeal_id, outcome="upheld", reason="written reason")
    with database.transaction() as s:  # still blocked, still undecided, nothing written
        assert workflow.approved_submission(s, "csam-gallery.test").id == blocked
        assert s.execute(select(func.count()).select_from(AppealDecision)).scalar_one() == 0
    with database.transaction() as s:  # once lifted, the approver still may not decide the appeal against it
        workflow.lift(s, actor=people["magistrate2"], domain="csam-gallery.test", reason="content removed")
    with pytest.raises(appeals.AppealFourEyes), database.transaction() as s:
        appeals.decide(s, actor=people["magistrate"], appeal_id=appeal_id, outcome="dismissed", reason="a reason")


@pytest.mark.parametrize(("outcome", "reason", "error"), [
    ("upheld", "", InvalidInput), ("dismissed", "  no ", InvalidInput), ("maybe", "a reason", InvalidInput),
    ("upheld", "bad \u202e reason", InvalidInput)])
def test_a_decision_needs_a_known_outcome_and_a_written_reason(
        database: Database, people: dict[str, User], blocked: int, outcome: str, reason: str,
        error: type[Exception]) -> None:
    with database.transaction() as s:
        appeal_id = appeals.receive(s, data=A("csam-gallery.test", "why")).id
    with pytest.raises(error), database.transaction() as s:
        appeals.decide(s, actor=people["magistrate2"], appeal_id=appeal_id, outcome=outcome, reason=reason)
    with database.transaction() as s:
        assert workflow.approved_submission(s, "csam-gallery.test").id == blocked
    assert _count(database, AppealDecision) == 0
    with pytest.raises(NotFound), database.transaction() as s:
        appeals.decide(s, actor=people["magistrate2"], appeal_id=999, outcome="upheld", reason="a reason")


def test_a_name_not_blocked_is_answered_not_blocked_either_way(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        lifted(s, people["officer"], people["magistrate"], "gone.test")
        first = appeals.receive(s, data=A("gone.test", "why")).id
        second = appeals.receive(s, data=A("never.test", "why")).id
    with database.transaction() as s:
        upheld = appeals.decide(s, actor=people["magistrate2"], appeal_id=first, outcome="upheld", reason="lifted")
        dismissed = appeals.decide(s, actor=people["magistrate"], appeal_id=second, outcome="dismissed",
                                   reason="never blocked by us")
        assert (upheld.answer, upheld.lift_order_id, dismissed.answer) == ("not_blocked", None, "not_blocked")
        assert s.execute(select(func.count()).select_from(AppealAnswerMail)).scalar_one() == 0  # no contact left
    assert _actions(database, "never.test") == ["appeal.received", "appeal.decided"]


def test_appeals_and_decisions_are_append_only(database: Database, people: dict[str, User], blocked: int) -> None:
    with database.transaction() as s:
        appeal_id = appeals.receive(s, data=A("csam-gallery.test", "why", "me@mail.example")).id
        appeals.decide(s, actor=people["magistrate2"], appeal_id=appeal_id, outcome="dismissed", reason="a reason")
    for statement in ("UPDATE appeals SET text = 'x'", "DELETE FROM appeals", "UPDATE appeal_decisions SET "
                      "outcome = 'upheld'", "DELETE FROM appeal_decisions", "DELETE FROM appeal_answer_mails"):
        with pytest.raises(DBAPIError, match="append-only"), database.transaction() as s:
            s.execute(text(statement))


@pytest.mark.parametrize(("language", "words"), [("fr", "Votre recours est rejeté"), ("nl", "Uw bezwaar is ongegrond"),
                                                 ("de", "Ihr Widerspruch wird zurückgewiesen"),
                                                 ("en", "Your appeal is dismissed")])
def test_the_answer_is_mailed_in_the_appellants_language(
        database: Database, settings: Settings, people: dict[str, User], blocked: int, language: str,
        words: str) -> None:
    with database.transaction() as s:
        appeal = appeals.receive(s, data=A("csam-gallery.test", "why", "appellant@mail.example", language))
        receipt, appeal_id = appeal.receipt, appeal.id
        appeals.decide(s, actor=people["magistrate2"], appeal_id=appeal_id, outcome="dismissed",
                       reason="the material is still there (EVD-0001)")
    with smtp_server() as server:
        ctx = JobContext.standalone(database, settings.model_copy(update={"smtp_port": server.port}))
        assert appeals.send_answers(ctx) == {"sent": 1}
        assert appeals.send_answers(ctx) == {}  # sent once
    (message,) = server.inbox.messages
    assert server.inbox.envelopes[0][1] == ["appellant@mail.example"]
    assert receipt in message["Subject"] and message["X-Appeal-Receipt"] == receipt
    body = message.get_content()
    assert words in body and "the material is still there (EVD-0001)" in body and "+32 2 000 00 00" in body
    with database.transaction() as s:
        mail = s.execute(select(AppealAnswerMail)).scalar_one()
        assert (mail.status, mail.attempts, mail.message_id) == ("sent", 1, message["Message-ID"])
        sent = s.execute(select(AuditEvent).where(AuditEvent.action == "appeal.answer_sent")).scalar_one()
        assert json.loads(sent.details)["smtp_response"].startswith("250")
        assert "appellant@" not in sent.details


def test_a_refused_answer_is_retried_then_failed_and_audited(
        database: Database, settings: Settings, people: dict[str, User], blocked: int) -> None:
    with database.transaction() as s:
        appeal_id = appeals.receive(s, data=A("csam-gallery.test", "why", "appellant@mail.example", "en")).id
        appeals.decide(s, actor=people["magistrate2"], appeal_id=appeal_id, outcome="dismissed", reason="a reason")
    inbox = Inbox(rcpt_reply="450 4.2.0 greylisted, try later")
    with smtp_server(inbox=inbox) as server:
        ctx = JobContext.standalone(database, settings.model_copy(update={"smtp_port": server.port}))
        assert appeals.send_answers(ctx) == {"pending": 1}
        assert appeals.send_answers(ctx) == {}  # not due again before ANSWER_RETRY
        inbox.rcpt_reply = "550 5.1.1 no such mailbox"
        later = appeals.utcnow() + appeals.ANSWER_RETRY
        assert appeals.send_answers(ctx, now=later) == {"failed": 1}
    with database.transaction() as s:
        mail = s.execute(select(AppealAnswerMail)).scalar_one()
        assert (mail.status, mail.attempts) == ("failed", 2) and "550" in (mail.last_error or "")
        failed = s.execute(select(AuditEvent).where(AuditEvent.action == "appeal.answer_failed")).scalar_one()
        assert failed.domain == "csam-gallery.test"


def test_a_new_magistrate_account_is_not_the_approver(database: Database, people: dict[str, User],
                                                      blocked: int) -> None:
    with database.transaction() as s:
        appeal_id = appeals.receive(s, data=A("csam-gallery.test", "why")).id
        third = make_user(s, "magistrate")
        decision = appeals.decide(s, actor=third, appeal_id=appeal_id, outcome="dismissed", reason="still there")
        assert decision.answer == "kept" and decision.magistrate.username == third.username
