"""Removal notices to Belgian hosting providers: issued at approval, delivered to a real SMTP server (aiosmtpd on
loopback) with their PDF, retried, kept as evidence; acknowledged and removed as officers record it; a removed
site is proposed for lifting and stays blocked until a magistrate lifts it."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from blocklist import audit, workflow
from blocklist.db import Database
from blocklist.errors import Conflict, Forbidden, InvalidInput, NotFound
from blocklist.i18n import pgettext
from blocklist.jobs import JobContext
from blocklist.models import AuditEvent, User
from blocklist.settings import Settings
from requisitions import delivery, jobs, removal
from requisitions.models import RemovalDeliveryAttempt, RemovalNotice, RemovalOutcome
from requisitions.render import TITLES, render_texts
from tests.support.binaries import require_binary
from tests.support.factories import approved, submitted
from tests.support.smtp import Inbox, smtp_server

ABUSE = "abuse@hosting.example"
BELGIAN = {"hosting_country": "BE", "hosting_provider": "Hébergeur Démo SA", "hosting_abuse_email": ABUSE}
BASIS = {"fr": "Loi du 11 mars 2003", "nl": "Wet van 11 maart 2003", "de": "Gesetz vom 11. März 2003",
         "en": "Law of 11 March 2003"}


@pytest.fixture
def ctx(database: Database, mail_settings: Settings) -> JobContext:
    return JobContext.standalone(database, mail_settings)


def pdftotext(pdf: bytes) -> str:
    binary = require_binary("pdftotext", "poppler-utils")
    out = subprocess.run([binary, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)
    return " ".join(out.stdout.decode().split())


def _block(database: Database, people: dict[str, User], domain: str, **hosting: Any) -> int:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], domain, case_number="FCCU-2026-0500", **hosting)
        return workflow.approved_submission(s, domain).id


def _notices(database: Database) -> list[RemovalNotice]:
    with database.transaction() as s:
        found = removal.list_notices(s)
        for notice in found:
            _ = notice.outcomes  # loaded before the session closes
        return found


def _counts(database: Database) -> tuple[int, int, int]:
    with database.transaction() as s:
        return (s.execute(select(func.count()).select_from(RemovalNotice)).scalar_one(),
                s.execute(select(func.count()).select_from(RemovalOutcome)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def test_approval_of_a_belgian_name_delivers_a_notice_with_its_pdf(
    database: Database, people: dict[str, User], ctx: JobContext, mailbox: Inbox
) -> None:
    _block(database, people, "hosted-here.test", **BELGIAN)
    _block(database, people, "hosted-abroad.test", hosting_country="NL", hosting_abuse_email=ABUSE)
    with database.transaction() as s:
        pending = submitted(s, people["officer"], "not-yet-approved.test", **BELGIAN)
        assert pending.status == "submitted"
    assert jobs.issue_removal_notices(ctx) == 1  # the Belgian approved name only
    assert jobs.issue_removal_notices(ctx) == 0  # one notice per submission
    assert jobs.deliver_removal_notices(ctx) == {"sent": 1}
    assert jobs.deliver_removal_notices(ctx) == {}
    (message,) = mailbox.messages
    assert message["To"] == ABUSE and message["X-Removal-Notice-Reference"].startswith("RN-")
    (pdf,) = [p.get_payload(decode=True) for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert isinstance(pdf, bytes)
    words = pdftotext(pdf)
    for phrase in ("hosted-here.test", BASIS["fr"], TITLES["removal"].translate("fr"), "Hébergeur Démo SA", ABUSE,
                   "FCCU-2026-0500", message["X-Removal-Notice-Reference"]):
        assert phrase in words, phrase
    assert "hosted-abroad.test" not in words and "not-yet-approved.test" not in words
    assert "Hébergeur Démo SA" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (notice,) = _notices(database)
    assert (notice.domain, notice.status, notice.language, notice.email) == ("hosted-here.test", "sent", "fr", ABUSE)
    assert notice.message_id == message["Message-ID"] and notice.smtp_response and "250" in notice.smtp_response
    assert hashlib.sha256(pdf).hexdigest() == notice.pdf_sha256
    with database.transaction() as s:
        attempts = s.execute(select(RemovalDeliveryAttempt.outcome)).scalars().all()
        assert attempts == ["sent"]
        history = [(e.action, e.details) for e in workflow.history(s, "hosted-here.test")]
        actions = [a for a, _ in history]
        assert actions[-2:] == ["removal_notice.created", "removal_notice.sent"]
        created = dict(history)["removal_notice.created"]
        assert notice.pdf_sha256 in created and '"legal_basis":"ecommerce_law"' in created
        # The submission's own legal record carries where it is hosted, in the audit chain.
        assert '"hosting_country":"BE"' in dict(history)["submission.created"]
        assert not [e for e in workflow.history(s, "hosted-abroad.test") if e.action.startswith("removal_notice")]
        assert audit.verify(s).intact


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_officer_picks_the_language_and_every_language_has_its_template(
    database: Database, people: dict[str, User], ctx: JobContext, mailbox: Inbox
) -> None:
    _block(database, people, "vlaams.test", **BELGIAN, notice_language="nl")
    jobs.issue_removal_notices(ctx)
    (notice,) = _notices(database)
    assert notice.language == "nl"
    words = pdftotext(notice.pdf)
    assert BASIS["nl"] in words and TITLES["removal"].translate("nl") in words and "vlaams.test" in words
    with database.transaction() as s:
        draft = removal.draft(s, submission_id=notice.submission_id, settings=ctx.settings)
        assert draft is None  # it has its notice
    for language in ("fr", "nl", "de", "en"):
        doc = notice_document(language)
        subject, body, html = render_texts(doc)
        assert doc.reference in subject and TITLES["removal"].translate(language) in subject
        for part in (body, html):
            assert BASIS[language] in part and "vlaams.test" in part


def notice_document(language: str) -> Any:
    from requisitions.document import Addressee, Authority, CaseRef, NamedDomain, RequisitionDocument

    issued = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    return RequisitionDocument(
        kind="removal", reference=f"RN-2026-000001-{language}", language=language,  # type: ignore[arg-type]
        issued_at=issued, deadline=issued + dt.timedelta(hours=24),
        authority=Authority("Federal Prosecutor's Office", "Rue des Quatre Bras 19, 1000 Bruxelles",
                            "blocking@federal-prosecutor.example", "+32 2 000 00 00"),
        magistrate="Anne Example", isp=Addressee("Hébergeur Démo SA", "", ""),
        names=(NamedDomain("vlaams.test", "vlaams.test", "domain_and_subdomains"),),
        cases=(CaseRef("FCCU-2026-0500", "ecommerce_law"),), feed_serial=None, stop_page_name="stop.blocklist.example")


def test_no_address_is_generated_and_left_to_deliver_by_hand(
    database: Database, people: dict[str, User], ctx: JobContext, mailbox: Inbox
) -> None:
    _block(database, people, "no-address.test", hosting_country="be")  # the code in any case
    assert jobs.issue_removal_notices(ctx) == 1
    assert jobs.deliver_removal_notices(ctx) == {}
    assert mailbox.messages == []
    (notice,) = _notices(database)
    assert (notice.status, notice.email, notice.attempts, notice.provider) == ("no_address", None, 0, None)
    words = pdftotext(notice.pdf)
    addressee = pgettext("fr", "addressee", "Hosting provider")
    assert "no-address.test" in words and addressee in words and BASIS["fr"] in words
    with database.transaction() as s:
        (created,) = [e for e in workflow.history(s, "no-address.test") if e.action == "removal_notice.created"]
        assert '"deliver_by_hand":true' in created.details


def test_smtp_failures_are_retried_with_evidence_then_fail(
    database: Database, people: dict[str, User], ctx: JobContext, smtp_port: int
) -> None:
    _block(database, people, "retried.test", **BELGIAN)
    jobs.issue_removal_notices(ctx)
    # Nothing listens yet: transient, retried later.
    assert jobs.deliver_removal_notices(ctx) == {"pending": 1}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert delivery.deliver_due(database, ctx.settings, now=later, outbox=delivery.NOTICES) == {"pending": 1}
    with smtp_server(port=smtp_port) as server:
        server.inbox.rcpt_reply = "450 4.2.0 mailbox busy, try later"  # greylisting: still transient
        assert delivery.deliver_due(database, ctx.settings, now=later + dt.timedelta(hours=1),
                                    outbox=delivery.NOTICES) == {"pending": 1}
        server.inbox.rcpt_reply = "250 OK"
        assert delivery.deliver_due(database, ctx.settings, now=later + dt.timedelta(hours=5),
                                    outbox=delivery.NOTICES) == {"sent": 1}
    assert len(server.inbox.messages) == 1
    (notice,) = _notices(database)
    assert notice.status == "sent" and notice.attempts == 4
    with database.transaction() as s:
        rows = s.execute(select(RemovalDeliveryAttempt).order_by(RemovalDeliveryAttempt.id)).scalars().all()
        assert [r.outcome for r in rows] == ["transient", "transient", "transient", "sent"]
        assert "450" in rows[2].smtp_response and "250" in rows[3].smtp_response
    # A second notice whose mailbox does not exist: permanent, failed at once, audited.
    _block(database, people, "unknown-mailbox.test", **BELGIAN)
    jobs.issue_removal_notices(ctx)
    with smtp_server(port=smtp_port) as server:
        server.inbox.rcpt_reply = "550 5.1.1 no such mailbox"
        assert jobs.deliver_removal_notices(ctx) == {"failed": 1}
    with database.transaction() as s:
        failed = next(n for n in removal.list_notices(s) if n.domain == "unknown-mailbox.test")
        assert failed.status == "failed" and failed.last_error and "550" in failed.last_error
        assert [e.action for e in workflow.history(s, "unknown-mailbox.test")][-1] == "removal_notice.failed"


def test_retry_budget_ends_in_failed(database: Database, people: dict[str, User], ctx: JobContext) -> None:
    _block(database, people, "never-delivered.test", **BELGIAN)
    jobs.issue_removal_notices(ctx)
    moment = dt.datetime.now(dt.UTC)
    for _ in range(delivery.RETRY_BUDGET + 2):
        moment += dt.timedelta(days=1)
        delivery.deliver_due(database, ctx.settings, now=moment, outbox=delivery.NOTICES)
    (notice,) = _notices(database)
    assert (notice.status, notice.attempts) == ("failed", delivery.RETRY_BUDGET)


def test_acknowledged_then_removed_each_audited_and_proposed_for_lifting(
    database: Database, people: dict[str, User], ctx: JobContext, mailbox: Inbox
) -> None:
    _block(database, people, "taken-down.test", **BELGIAN)
    jobs.issue_removal_notices(ctx)
    jobs.deliver_removal_notices(ctx)
    (notice,) = _notices(database)
    today = dt.date.today()
    with database.transaction() as s:
        removal.acknowledge(s, actor=people["officer2"], notice_id=notice.id, reference="TICKET-77")
        assert removal.proposed_for_lifting(s) == []
    with database.transaction() as s:
        done = removal.record_removed(s, actor=people["officer"], notice_id=notice.id, on=today,
                                      evidence_ref="EVD-REMOVED-1")
        assert done.status == "removed"
        ((sub, proposed),) = removal.proposed_for_lifting(s)
        assert (sub.domain, sub.status, proposed.id) == ("taken-down.test", "approved", notice.id)  # still blocked
        events = [e for e in workflow.history(s, "taken-down.test") if e.action.startswith("removal_notice")]
        assert [e.action for e in events] == ["removal_notice.created", "removal_notice.sent",
                                              "removal_notice.acknowledged", "removal_notice.removed"]
        assert events[2].actor == "user:officer2" and "TICKET-77" in events[2].details
        assert "EVD-REMOVED-1" in events[3].details and today.isoformat() in events[3].details
    # A magistrate lifts it with the ordinary lift: it is no longer proposed.
    with database.transaction() as s:
        workflow.lift(s, actor=people["magistrate2"], domain="taken-down.test", reason="removed by its host")
    with database.transaction() as s:
        assert removal.proposed_for_lifting(s) == []
        assert audit.verify(s).intact
    (notice,) = _notices(database)
    ack, gone = notice.outcome("acknowledged"), notice.outcome("removed")
    assert ack is not None and (ack.happened_on, ack.reference) == (today, "TICKET-77")
    assert gone is not None and gone.reference == "EVD-REMOVED-1"


def test_refusals_write_nothing(database: Database, people: dict[str, User], ctx: JobContext) -> None:
    _block(database, people, "refused.test", hosting_country="BE")
    jobs.issue_removal_notices(ctx)
    (notice,) = _notices(database)
    future = dt.date.today() + dt.timedelta(days=5)
    with database.transaction() as s:
        removal.acknowledge(s, actor=people["officer"], notice_id=notice.id)
    before = _counts(database)
    attempts: list[tuple[type[Exception], Any]] = [
        (Forbidden, lambda s: removal.acknowledge(s, actor=people["magistrate"], notice_id=notice.id)),
        (Forbidden, lambda s: removal.record_removed(s, actor=people["auditor"], notice_id=notice.id,
                                                     on=dt.date.today(), evidence_ref="E")),
        (Conflict, lambda s: removal.acknowledge(s, actor=people["officer"], notice_id=notice.id)),
        (NotFound, lambda s: removal.acknowledge(s, actor=people["officer"], notice_id=notice.id + 99)),
        (InvalidInput, lambda s: removal.record_removed(s, actor=people["officer"], notice_id=notice.id,
                                                        on=future, evidence_ref="E")),
        (InvalidInput, lambda s: removal.record_removed(s, actor=people["officer"], notice_id=notice.id,
                                                        on=dt.date.today(), evidence_ref="  ")),
        (InvalidInput, lambda s: removal.record_removed(s, actor=people["officer"], notice_id=notice.id,
                                                        on=None, evidence_ref="E")),
        (InvalidInput, lambda s: removal.record_removed(s, actor=people["officer"], notice_id=notice.id,
                                                        on=dt.date.today(), evidence_ref="E\x1b[2J")),
        (InvalidInput, lambda s: removal.list_notices(s, status="lost")),
    ]
    for error, call in attempts:
        with pytest.raises(error), database.transaction() as s:
            call(s)
    assert _counts(database) == before
    (notice,) = _notices(database)
    assert notice.status == "acknowledged" and notice.outcome("removed") is None


def test_an_acknowledgement_stops_the_retries(database: Database, people: dict[str, User], ctx: JobContext) -> None:
    _block(database, people, "known-already.test", **BELGIAN)
    jobs.issue_removal_notices(ctx)
    assert jobs.deliver_removal_notices(ctx) == {"pending": 1}  # no SMTP server: retried later
    (notice,) = _notices(database)
    with database.transaction() as s:
        removal.acknowledge(s, actor=people["officer"], notice_id=notice.id, reference="by phone")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert delivery.deliver_due(database, ctx.settings, now=later, outbox=delivery.NOTICES) == {}


def test_a_name_lifted_before_its_notice_gets_none(database: Database, people: dict[str, User],
                                                   ctx: JobContext) -> None:
    _block(database, people, "lifted-fast.test", **BELGIAN)
    with database.transaction() as s:
        workflow.lift(s, actor=people["magistrate"], domain="lifted-fast.test", reason="mistaken identity")
    assert jobs.issue_removal_notices(ctx) == 0


def test_notices_and_their_history_are_never_deleted(database: Database, people: dict[str, User],
                                                     ctx: JobContext) -> None:
    _block(database, people, "kept.test", hosting_country="BE")
    jobs.issue_removal_notices(ctx)
    (notice,) = _notices(database)
    with database.transaction() as s:
        removal.record_removed(s, actor=people["officer"], notice_id=notice.id, on=dt.date.today(), evidence_ref="E")
    for statement in ("DELETE FROM removal_notices", "DELETE FROM removal_notice_outcomes",
                      "UPDATE removal_notice_outcomes SET reference = 'forged'"):
        with pytest.raises(DBAPIError, match="append-only"), database.transaction() as s:
            s.execute(text(statement))
    assert _counts(database)[:2] == (1, 1)
