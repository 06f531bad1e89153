"""The magistrates' weekly e-mail digest of the reviews due (blocklist/reviews.py), in each one's language.

When: the scheduler's job `reviews.digest` runs hourly (api/scheduler.py). A week's digest is due from Monday
DIGEST_HOUR:00 UTC (before office hours in Brussels) and goes out at the first run after that on which any block is
due within reviews.DUE_WITHIN_DAYS or overdue (or proposed for lifting): a week with nothing due sends nothing, and
a block falling due later in the week brings that week's digest then. It only informs: nothing is renewed or
lifted by it.
Who: every active, confirmed magistrate with an e-mail address. What: those blocks, oldest review date first (at
most MAX_NAMES listed, with the total), through the one sender (blocklist.mail) and the shared mail layout
(blocklist/mail_templates.py, templates/mail/review_digest/).

At most once per ISO week and magistrate: the row (week, magistrate) is written and COMMITTED before the message
goes out, under a unique key, so that a second process, or this one after a restart, finds it and sends nothing.
A refusal the mail server gave as transient (unreachable, greylisting) is retried at later runs that week, up to
ATTEMPTS; a permanent one is not. A process that died during the SMTP conversation left no outcome: that digest is
never sent again, since it may have gone out. Each outcome is an audit event.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.utils import make_msgid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from blocklist import audit, labels, mail, mail_templates, reviews
from blocklist.db import Database
from blocklist.errors import MailError
from blocklist.jobs import JobContext
from blocklist.models import ReviewDigest, User, utcnow
from blocklist.reports import SYSTEM_ACTOR
from blocklist.settings import Settings
from blocklist.vocab import LANGUAGES

log = logging.getLogger("blocklist.review_digest")
DIGEST_WEEKDAY = 0  # Monday (ISO weekday 1)
DIGEST_HOUR = 6  # UTC
MAX_NAMES = 200  # listed in one message; the total is always given
ATTEMPTS = 12  # at most, counting the first, while the server refuses it for a while
RETRY_AFTER = dt.timedelta(minutes=30)
MESSAGE_ID_DOMAIN = "reviews.invalid"  # never resolves: a Message-ID names no real host


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    username: str
    email: str
    language: str


def week_of(moment: dt.datetime) -> str:
    """The ISO week of a moment (UTC), as stored: "2026-W49"."""
    year, week, _ = moment.astimezone(dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


def is_due(moment: dt.datetime) -> bool:
    """Whether this week's digest may go out at `moment`: from Monday DIGEST_HOUR:00 UTC on."""
    utc = moment.astimezone(dt.UTC)
    start = dt.datetime.combine(utc.date() - dt.timedelta(days=utc.weekday() - DIGEST_WEEKDAY),
                                dt.time(DIGEST_HOUR), tzinfo=dt.UTC)
    return utc >= start


def _recipients(database: Database) -> list[_Recipient]:
    with database.transaction() as session:
        rows = session.execute(select(User).where(
            User.role == "magistrate", User.active.is_(True), User.confirmed_at.is_not(None),
            User.email.is_not(None), User.email != "").order_by(User.id)).scalars()
        return [_Recipient(u.id, u.username, u.email or "", u.language if u.language in LANGUAGES else "en")
                for u in rows]


def render(language: str, *, items: list[reviews.DueReview], total: int, overdue: int, week: str, today: dt.date,
           settings: Settings) -> mail_templates.RenderedMail:
    """The digest in one language."""
    listed = [{"name": r.submission.unicode, "a_label": r.submission.domain, "case": r.submission.case_number,
               "basis": labels.label("legal_basis", r.submission.legal_basis, language),
               "review_due": r.submission.review_due.isoformat() if r.submission.review_due else "",
               "days": abs(r.days_left), "overdue": r.overdue, "today": r.days_left == 0,
               "proposed": r.proposed_for_lifting} for r in items]
    return mail_templates.render(
        "review_digest", language, items=listed, total=total, more=total - len(listed), week=week,
        today=today.isoformat(), within=reviews.DUE_WITHIN_DAYS, overdue=overdue,
        authority={"name": settings.authority_name, "address": settings.authority_address,
                   "email": settings.authority_email, "phone": settings.authority_phone})


def _claim(database: Database, person: _Recipient, *, week: str, names: int,
           now: dt.datetime) -> tuple[int, int, str] | None:
    """This week's digest of one magistrate, claimed for sending now: (id, attempt, Message-ID), or None when it
    was sent, failed, is being sent, or was interrupted (it may have gone out)."""
    try:
        with database.transaction() as session:
            row = ReviewDigest(week=week, user_id=person.user_id, to_addr=person.email, language=person.language,
                               names=names, status="pending", attempts=1, claimed_at=now,
                               message_id=make_msgid(idstring=f"reviews.{week}", domain=MESSAGE_ID_DOMAIN))
            session.add(row)
            session.flush()
            return row.id, 1, row.message_id
    except IntegrityError:
        pass  # claimed before: by an earlier run, or by another process just now
    with database.transaction() as session:
        row = session.execute(select(ReviewDigest).where(ReviewDigest.week == week,
                                                         ReviewDigest.user_id == person.user_id)).scalar_one()
        # Only a refusal the server reported is retried: a claim without an outcome may have been delivered.
        if row.status != "pending" or row.last_error is None or row.claimed_at > now - RETRY_AFTER:
            return None
        claimed = session.execute(
            update(ReviewDigest).where(ReviewDigest.id == row.id, ReviewDigest.attempts == row.attempts)
            .values(attempts=row.attempts + 1, claimed_at=now, last_error=None, to_addr=person.email,
                    language=person.language, names=names)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another process retried it first
        return row.id, row.attempts + 1, row.message_id


def _record(database: Database, digest_id: int, person: _Recipient, *, attempt: int,
            sent: mail.DeliveryReceipt | None, error: MailError | None, domains: list[str]) -> str:
    with database.transaction() as session:
        row = session.get(ReviewDigest, digest_id)
        assert row is not None
        details: dict[str, object] = {"week": row.week, "magistrate": person.username, "names": row.names,
                                      "message_id": row.message_id, "attempt": attempt}
        if sent is not None:
            row.status, row.sent_at, row.smtp_response = "sent", sent.sent_at, sent.smtp_response
            audit.record(session, actor=SYSTEM_ACTOR, action="review.digest_sent", object_type="review_digest",
                         object_id=row.id, details={**details, "domains": domains,
                                                    "smtp_response": sent.smtp_response})
            return "sent"
        assert error is not None
        row.last_error = error.message
        if error.transient and attempt < ATTEMPTS:
            log.warning("review digest %s to %s: attempt %d failed (%s); retrying", row.week, person.username,
                        attempt, error.message)
            return "pending"
        row.status = "failed"
        audit.record(session, actor=SYSTEM_ACTOR, action="review.digest_failed", object_type="review_digest",
                     object_id=row.id, details={**details, "error": error.message})
        return "failed"


def send_digests(database: Database, settings: Settings, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Send this week's digest to each magistrate who has not had it; how many ended in each status."""
    moment = now or utcnow()
    if not is_due(moment):
        return {}
    week, today = week_of(moment), moment.astimezone(dt.UTC).date()
    people = _recipients(database)
    if not people:
        return {}
    with database.transaction() as session:
        items, total = reviews.due_reviews(session, today=today, per_page=MAX_NAMES)
        if total == 0:
            return {}
        overdue = reviews.due_reviews(session, today=today, overdue_only=True, per_page=1)[1]
        domains = [r.submission.domain for r in items]
        texts = {lang: render(lang, items=items, total=total, overdue=overdue, week=week, today=today,
                              settings=settings)
                 for lang in {p.language for p in people}}
    config = mail.SmtpConfig.from_settings(settings)
    counts: dict[str, int] = {}
    for person in people:
        claimed = _claim(database, person, week=week, names=total, now=moment)
        if claimed is None:
            continue
        digest_id, attempt, message_id = claimed
        what = f"the review digest {week} to {person.username} ({person.email!r})"
        sent: mail.DeliveryReceipt | None = None
        error: MailError | None = None
        try:
            message = mail_templates.text_message(texts[person.language], sender=config.sender, to_addr=person.email,
                                                  message_id=message_id, headers={"X-Review-Digest": week})
            sent = mail.send(config, message, what=what)
        except ValueError as exc:
            error = MailError(f"{what} cannot be written as an e-mail: {exc}", transient=False)
        except MailError as exc:
            error = exc
        status = _record(database, digest_id, person, attempt=attempt, sent=sent, error=error, domains=domains)
        counts[status] = counts.get(status, 0) + 1
    return counts


def send_weekly(ctx: JobContext, *, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic job (hourly): this week's digest, once it is due."""
    return send_digests(ctx.database, ctx.settings, now=now)
