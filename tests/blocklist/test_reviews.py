"""Reviews (blocklist/reviews.py): the due list, re-attestations, renewals and their rule, and the magistrates'
weekly digest (blocklist/review_digest.py) delivered to a real SMTP server, once per ISO week.

Time is given, never waited for: the services take `today` (the digest `now`), and review dates are set directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from blocklist import audit, review_digest, reviews, users, workflow
from blocklist.db import Database
from blocklist.errors import Forbidden, InvalidInput, NotFound
from blocklist.models import Attestation, AuditEvent, Renewal, ReviewDigest, Submission, User
from blocklist.settings import Settings
from tests.blocklist.test_workflow import _race
from tests.support.clock import today
from tests.support.factories import approved, make_user
from tests.support.smtp import Inbox, smtp_server


def _block(database: Database, people: dict[str, User], domain: str, *, due_in: int | None = None) -> int:
    """`domain` blocked today; its review date `due_in` days from today() (negative: overdue) when given."""
    with database.transaction() as s:
        order = approved(s, people["officer"], people["magistrate"], domain)
        sub_id = s.execute(select(Submission.id).where(Submission.order_id == order.id)).scalar_one()
        if due_in is not None:
            s.execute(update(Submission).where(Submission.id == sub_id)
                      .values(review_due=today() + dt.timedelta(days=due_in)))
    return sub_id


def _attest(database: Database, people: dict[str, User], domain: str, *, present: bool = True,
            checked_on: dt.date = today(), today: dt.date | None = None, officer: str = "officer2") -> int:
    with database.transaction() as s:
        return reviews.attest(s, actor=people[officer], domain=domain, checked_on=checked_on,
                              evidence_ref=f"EVD-R-{domain}", content_present=present, today=today).id


def _counts(database: Database) -> tuple[int, int, int, list[dt.date | None]]:
    with database.transaction() as s:
        return (s.execute(select(func.count(Attestation.id))).scalar_one(),
                s.execute(select(func.count(Renewal.id))).scalar_one(),
                s.execute(select(func.count(AuditEvent.id))).scalar_one(),
                list(s.execute(select(Submission.review_due).order_by(Submission.id)).scalars()))


def _refused(database: Database, action: Callable[[Session], Any], error: type[Exception] = InvalidInput) -> Any:
    """The refusal of `action`, after checking it wrote nothing at all."""
    before = _counts(database)
    with database.transaction() as s, pytest.raises(error) as refused:
        action(s)
    assert _counts(database) == before
    return refused.value


# --- the due list ---------------------------------------------------------------------------------------------------

def test_due_list_pages_oldest_first_with_days_left_and_a_true_total(database: Database,
                                                                    people: dict[str, User]) -> None:
    for domain, due_in in [("soon.test", 5), ("late.test", -3), ("today.test", 0), ("edge.test", 14),
                           ("far.test", 15), ("later.test", 180)]:
        _block(database, people, domain, due_in=due_in)
    with database.transaction() as s:
        first, total = reviews.due_reviews(s, today=today(), per_page=2)
        second, again = reviews.due_reviews(s, today=today(), per_page=2, page=2)
        assert total == again == 4  # within 14 days, overdue included; far.test and later.test are not due
        listed = [(r.submission.domain, r.days_left, r.overdue) for r in first + second]
        assert listed == [("late.test", -3, True), ("today.test", 0, False), ("soon.test", 5, False),
                          ("edge.test", 14, False)]
        # Seen from another day: the same blocks, other days left.
        moved, total = reviews.due_reviews(s, today=today() + dt.timedelta(days=10), per_page=50)
        assert total == 5 and moved[0].days_left == -13 and moved[-1].submission.domain == "far.test"
        overdue, count = reviews.due_reviews(s, today=today(), overdue_only=True)
        assert count == 1 and [r.submission.domain for r in overdue] == ["late.test"]
        assert reviews.due_reviews(s, today=today(), within_days=0)[1] == 2
        bad_pages: list[dict[str, Any]] = [{"page": 0}, {"per_page": 201}, {"within_days": -1}]
        for bad in bad_pages:
            with pytest.raises(InvalidInput):
                reviews.due_reviews(s, today=today(), **bad)
        lifted = workflow.lift(s, actor=people["magistrate2"], domain="late.test", reason="content removed")
        assert lifted.kind == "lift" and reviews.due_reviews(s, today=today())[1] == 3  # a lifted name is no review


def test_content_gone_proposes_for_lifting_whatever_the_date(database: Database, people: dict[str, User]) -> None:
    _block(database, people, "gone.test", due_in=120)
    _block(database, people, "kept.test", due_in=120)
    _attest(database, people, "gone.test", present=True)
    _attest(database, people, "gone.test", present=False)  # the newest re-attestation counts
    _attest(database, people, "kept.test", present=True)
    with database.transaction() as s:
        (due,), total = reviews.due_reviews(s, today=today())
        assert total == 1 and due.submission.domain == "gone.test" and due.days_left == 120
        assert due.proposed_for_lifting and not due.renewable and due.attestation is not None
        assert not due.attestation.content_present
    refusal = _refused(database, lambda s: reviews.renew(s, actor=people["magistrate2"], domain="gone.test",
                                                         review_due=today() + dt.timedelta(days=90),
                                                         reason="still online"), reviews.ReviewConflict)
    assert refusal.code == "content_gone" and refusal.status == 409
    _attest(database, people, "gone.test", present=True)  # an officer finds it again: renewable, no longer proposed
    with database.transaction() as s:
        assert reviews.due_reviews(s, today=today())[1] == 0


# --- re-attestations ------------------------------------------------------------------------------------------------

def test_attestation_is_recorded_and_audited(database: Database, people: dict[str, User]) -> None:
    sub_id = _block(database, people, "csam-gallery.test", due_in=7)
    with database.transaction() as s:
        found = reviews.attest(s, actor=people["officer2"], domain="https://CSAM-gallery.test/page",
                               checked_on=today(), evidence_ref="  EVD-2026-77 ", content_present=True,
                               note="checked\r\nwith the unit's tools")
        assert (found.submission_id, found.evidence_ref, found.note) == (sub_id, "EVD-2026-77",
                                                                          "checked\nwith the unit's tools")
    with database.transaction() as s:
        event = workflow.history(s, "csam-gallery.test")[-1]
        assert (event.action, event.actor, event.object_type) == ("review.attested", "user:officer2", "attestation")
        assert '"content_present":true' in event.details and '"evidence_ref":"EVD-2026-77"' in event.details
        assert [a.id for a in reviews.attestations(s, sub_id)] == [found.id]
        assert audit.verify(s).intact


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"checked_on": today() + dt.timedelta(days=2)}, "checked_future"),
    ({"checked_on": today() - dt.timedelta(days=1)}, "checked_before_block"),
    ({"evidence_ref": "   "}, "evidence_missing"),
])
def test_bad_attestation_is_refused_and_writes_nothing(database: Database, people: dict[str, User],
                                                       kwargs: dict[str, Any], code: str) -> None:
    _block(database, people, "csam-gallery.test")
    fields: dict[str, Any] = {"checked_on": today(), "evidence_ref": "EVD-1", "content_present": True, **kwargs}
    refusal = _refused(database, lambda s: reviews.attest(s, actor=people["officer"], domain="csam-gallery.test",
                                                          **fields))
    assert isinstance(refusal, reviews.ReviewRefused) and refusal.code == code and refusal.status == 422


def test_only_an_officer_attests_only_a_block(database: Database, people: dict[str, User]) -> None:
    _block(database, people, "csam-gallery.test")
    fields: dict[str, Any] = {"checked_on": today(), "evidence_ref": "EVD-1", "content_present": True}
    _refused(database, lambda s: reviews.attest(s, actor=people["magistrate"], domain="csam-gallery.test", **fields),
             Forbidden)
    _refused(database, lambda s: reviews.attest(s, actor=people["officer"], domain="never.test", **fields), NotFound)
    _refused(database, lambda s: reviews.attest(s, actor=people["officer"], domain="csam-gallery.test",
                                                **{**fields, "note": "bad\x1bnote"}))


# --- renewals -------------------------------------------------------------------------------------------------------

def test_renewal_on_a_current_attestation_moves_the_review_on(database: Database, people: dict[str, User]) -> None:
    sub_id = _block(database, people, "csam-gallery.test", due_in=3)
    attestation_id = _attest(database, people, "csam-gallery.test")
    new_date = today() + dt.timedelta(days=90)
    with database.transaction() as s:
        renewal = reviews.renew(s, actor=people["magistrate2"], domain="csam-gallery.test", review_due=new_date,
                                reason="still online, evidence EVD-R")
        assert (renewal.previous_due, renewal.review_due, renewal.attestation_id) == (
            today() + dt.timedelta(days=3), new_date, attestation_id)
    with database.transaction() as s:
        sub = workflow.get_submission(s, sub_id)
        assert sub.review_due == new_date and sub.status == "approved"
        event = workflow.history(s, "csam-gallery.test")[-1]
        assert event.action == "submission.renewed" and f'"attestation_id":{attestation_id}' in event.details
        assert f'"previous_review_due":"{today() + dt.timedelta(days=3)}"' in event.details
        assert reviews.due_reviews(s, today=today())[1] == 0
        assert audit.verify(s).intact  # the replay knows renewals: the table agrees with the events
    # The renewal consumed its re-attestation: the next one needs a new check.
    again = _refused(database, lambda s: reviews.renew(s, actor=people["magistrate2"], domain="csam-gallery.test",
                                                       review_due=new_date, reason="again"), reviews.ReviewConflict)
    assert again.code == "no_attestation" and "since its last renewal" in again.message


@pytest.mark.parametrize(("review_due", "reason", "code"), [
    (today(), "still online", "date_not_future"),
    (today() - dt.timedelta(days=1), "still online", "date_not_future"),
    (today() + dt.timedelta(days=367), "still online", "date_too_far"),
    (today() + dt.timedelta(days=30), "  ", "reason_missing"),
    (today() + dt.timedelta(days=30), "", "reason_missing"),
])
def test_renewal_refuses_a_bad_date_or_no_reason(database: Database, people: dict[str, User], review_due: dt.date,
                                                 reason: str, code: str) -> None:
    _block(database, people, "csam-gallery.test", due_in=3)
    _attest(database, people, "csam-gallery.test")
    refusal = _refused(database, lambda s: reviews.renew(s, actor=people["magistrate"], domain="csam-gallery.test",
                                                         review_due=review_due, reason=reason))
    assert isinstance(refusal, reviews.ReviewRefused) and refusal.code == code and refusal.status == 422


def test_renewal_needs_a_recent_attestation(database: Database, people: dict[str, User]) -> None:
    _block(database, people, "csam-gallery.test", due_in=3)

    def renew(s: Session, today: dt.date) -> Renewal:
        return reviews.renew(s, actor=people["magistrate"], domain="csam-gallery.test", reason="still online",
                             review_due=today + dt.timedelta(days=60), today=today)

    none = _refused(database, lambda s: renew(s, today()), reviews.ReviewConflict)
    assert none.code == "no_attestation" and "since its approval" in none.message
    _attest(database, people, "csam-gallery.test")
    stale = _refused(database, lambda s: renew(s, today() + dt.timedelta(days=31)), reviews.ReviewConflict)
    assert stale.code == "attestation_stale" and stale.values["days"] == 30
    with database.transaction() as s:  # 30 days after the check is still current
        assert reviews.due_reviews(s, today=today() + dt.timedelta(days=30))[0][0].renewable
        renew(s, today() + dt.timedelta(days=30))
    _refused(database, lambda s: reviews.renew(s, actor=people["officer"], domain="csam-gallery.test",
                                               review_due=today() + dt.timedelta(days=9), reason="x" * 5), Forbidden)


def test_two_renewals_on_one_attestation_exactly_one_wins(database: Database, people: dict[str, User]) -> None:
    _block(database, people, "csam-gallery.test", due_in=3)
    _attest(database, people, "csam-gallery.test")
    outcomes = _race(database, [
        lambda s, who=who, days=days: reviews.renew(s, actor=people[who], domain="csam-gallery.test",
                                                    reason=f"kept by {who}",
                                                    review_due=today() + dt.timedelta(days=days))
        for who, days in (("magistrate", 60), ("magistrate2", 90))])
    assert sum(o is None for o in outcomes) == 1, outcomes
    loser = next(o for o in outcomes if o is not None)
    assert isinstance(loser, reviews.ReviewConflict) and loser.code in ("no_attestation", "raced")
    with database.transaction() as s:
        assert s.execute(select(func.count(Renewal.id))).scalar_one() == 1
        renewals = [e for e in workflow.history(s, "csam-gallery.test") if e.action == "submission.renewed"]
        assert len(renewals) == 1 and audit.verify(s).intact


def test_review_records_are_append_only(database: Database, people: dict[str, User]) -> None:
    _block(database, people, "csam-gallery.test", due_in=3)
    _attest(database, people, "csam-gallery.test")
    with database.transaction() as s:
        reviews.renew(s, actor=people["magistrate"], domain="csam-gallery.test", reason="still online",
                      review_due=today() + dt.timedelta(days=60))
        s.add(ReviewDigest(week="2026-W49", user_id=people["magistrate"].id, to_addr="m@parquet.example",
                           language="fr", names=1, status="sent", message_id="<x@reviews.invalid>", attempts=1,
                           claimed_at=dt.datetime.now(dt.UTC)))
    for statement in ("UPDATE review_attestations SET content_present = false", "DELETE FROM review_attestations",
                      "UPDATE review_renewals SET reason = 'x'", "DELETE FROM review_renewals",
                      "DELETE FROM review_digests"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(statement))


# --- the weekly digest ----------------------------------------------------------------------------------------------

MONDAY = dt.datetime.combine(today() + dt.timedelta(days=7 - today().weekday()), dt.time(6, 30), tzinfo=dt.UTC)
DAY = (MONDAY.date() - today()).days  # days from today() to that Monday


@pytest.fixture
def digest_world(database: Database, people: dict[str, User]) -> dict[str, User]:
    """Blocks due (one overdue on MONDAY, one in 5 days, one proposed for lifting) and one far off; magistrates
    reading French and Dutch with an e-mail address, one without, one disabled."""
    _block(database, people, "late.test", due_in=DAY - 2)
    _block(database, people, "soon.test", due_in=DAY + 5)
    _block(database, people, "gone.test", due_in=DAY + 100)
    _block(database, people, "far.test", due_in=DAY + 100)
    _attest(database, people, "gone.test", present=False)
    with database.transaction() as s:
        found = {
            "fr": make_user(s, "magistrate", "juge-fr", language="fr", email="juge-fr@parquet.example"),
            "nl": make_user(s, "magistrate", "rechter-nl", language="nl", email="rechter-nl@parquet.example"),
            "none": make_user(s, "magistrate", "no-mail", language="de"),
            "off": make_user(s, "magistrate", "gone-away", language="en", email="away@parquet.example"),
        }
        users.set_active(s, actor="test", user=found["off"], active=False)
    return found


def _smtp(settings: Settings, port: int) -> Settings:
    return settings.model_copy(update={"smtp_port": port})


def _body(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


def test_digest_goes_once_a_week_in_each_magistrates_language(database: Database, settings: Settings,
                                                             digest_world: dict[str, User]) -> None:
    with smtp_server() as server:
        config = _smtp(settings, server.port)
        assert review_digest.send_digests(database, config, now=MONDAY - dt.timedelta(hours=1)) == {}  # Monday 05:30
        assert review_digest.send_digests(database, config, now=MONDAY) == {"sent": 2}
        # Later the same week, a restart, or a second process: nothing more.
        assert review_digest.send_digests(database, config, now=MONDAY + dt.timedelta(days=3)) == {}
        other = Database(database.url)
        try:
            assert review_digest.send_digests(other, config, now=MONDAY + dt.timedelta(hours=2)) == {}
        finally:
            other.dispose()
        assert len(server.inbox.messages) == 2
        by_address = {env[1][0]: msg for env, msg in zip(server.inbox.envelopes, server.inbox.messages, strict=True)}
        assert set(by_address) == {"juge-fr@parquet.example", "rechter-nl@parquet.example"}
        french, dutch = by_address["juge-fr@parquet.example"], by_address["rechter-nl@parquet.example"]
        week = review_digest.week_of(MONDAY)
        assert str(french["Subject"]) == f"Réexamens, semaine {week} : 3 blocage(s), dont 1 en retard"
        assert str(dutch["Subject"]) == f"Herzieningen, week {week}: 3 blokkering(en), waarvan 1 te laat"
        text_fr = _body(french)
        assert "late.test" in text_fr and "EN RETARD de 2 jour(s)" in text_fr and "dans 5 jour(s)" in text_fr
        assert "gone.test" in text_fr and "PROPOSÉ À LA LEVÉE" in text_fr and "far.test" not in text_fr
        assert text_fr.index("late.test") < text_fr.index("soon.test") < text_fr.index("gone.test")
        assert "Federal Prosecutor's Office" in text_fr  # the shared layout's signature
        assert "2 dag(en) TE LAAT" in _body(dutch) and french["X-Review-Digest"] == week
        # The next week's digest goes again.
        assert review_digest.send_digests(database, config, now=MONDAY + dt.timedelta(days=7)) == {"sent": 2}
        assert len(server.inbox.messages) == 4
    with database.transaction() as s:
        rows = list(s.execute(select(ReviewDigest).order_by(ReviewDigest.id)).scalars())
        assert [(r.week, r.status, r.attempts, r.names) for r in rows[:2]] == [(week, "sent", 1, 3)] * 2
        sent = s.execute(select(AuditEvent).where(AuditEvent.action == "review.digest_sent")).scalars().all()
        assert len(sent) == 4 and '"domains":["late.test","soon.test","gone.test"]' in sent[0].details
        assert audit.verify(s).intact


def test_no_digest_when_nothing_is_due(database: Database, settings: Settings, people: dict[str, User]) -> None:
    _block(database, people, "far.test", due_in=DAY + 100)
    with database.transaction() as s:
        make_user(s, "magistrate", "juge-fr", language="fr", email="juge-fr@parquet.example")
    with smtp_server() as server:
        assert review_digest.send_digests(database, _smtp(settings, server.port), now=MONDAY) == {}
        assert server.inbox.messages == []
    with database.transaction() as s:
        assert s.execute(select(func.count(ReviewDigest.id))).scalar_one() == 0


def test_a_refused_digest_is_retried_that_week_a_lost_one_never_resent(database: Database, settings: Settings,
                                                                        digest_world: dict[str, User]) -> None:
    inbox = Inbox(rcpt_reply="451 4.7.1 greylisted, try again later")
    with smtp_server(inbox=inbox) as server:
        config = _smtp(settings, server.port)
        assert review_digest.send_digests(database, config, now=MONDAY) == {"pending": 2}
        assert review_digest.send_digests(database, config, now=MONDAY + dt.timedelta(minutes=10)) == {}  # too soon
        inbox.rcpt_reply = "250 OK"
        assert review_digest.send_digests(database, config, now=MONDAY + dt.timedelta(hours=1)) == {"sent": 2}
        assert len(inbox.messages) == 2
    with database.transaction() as s:
        rows = list(s.execute(select(ReviewDigest)).scalars())
        assert {(r.status, r.attempts, r.last_error) for r in rows} == {("sent", 2, None)}
        ids = {r.message_id for r in rows}
    assert {str(m["Message-ID"]) for m in inbox.messages} == ids  # the same Message-ID as the first attempt
    # A claim that never got its outcome (the process died mid-conversation) may have gone out: never resent.
    with smtp_server() as server:
        config = _smtp(settings, server.port)
        people = review_digest._recipients(database)
        claimed = review_digest._claim(database, people[0], week=review_digest.week_of(MONDAY + dt.timedelta(days=7)),
                                       names=3, now=MONDAY + dt.timedelta(days=7))
        assert claimed is not None
        assert review_digest.send_digests(database, config, now=MONDAY + dt.timedelta(days=7, hours=2)) == {"sent": 1}
        assert [env[1] for env in server.inbox.envelopes] == [[people[1].email]]


def test_a_permanently_refused_digest_fails_once(database: Database, settings: Settings,
                                                 digest_world: dict[str, User]) -> None:
    with smtp_server(inbox=Inbox(rcpt_reply="550 5.1.1 no such mailbox")) as server:
        config = _smtp(settings, server.port)
        assert review_digest.send_digests(database, config, now=MONDAY) == {"failed": 2}
        assert review_digest.send_digests(database, config, now=MONDAY + dt.timedelta(hours=2)) == {}
    with database.transaction() as s:
        failed = s.execute(select(AuditEvent).where(AuditEvent.action == "review.digest_failed")).scalars().all()
        assert len(failed) == 2 and "no such mailbox" in failed[0].details
