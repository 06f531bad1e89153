"""SQLAlchemy models of the core. The schema itself comes from the Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as naive UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base shared by every package's models."""




class User(Base):
    """A person with one role: officer, magistrate, auditor or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), default="en")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # Who made the account or last replaced its credential or role, and the second person who confirmed that
    # (None: not yet; the account can do nothing until then). See blocklist/users.py.
    credentialed_by: Mapped[str] = mapped_column(String(100), default="operator")
    confirmed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Enrolment(Base):
    """A one-time link with which a person sets their own password and receives their own API token."""

    __tablename__ = "user_enrolments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """An API bearer token of a user; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    user: Mapped[User] = relationship()


class Isp(Base):
    """A Belgian access provider: receives requisitions, pulls the feed, has resolvers to verify."""

    __tablename__ = "isps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    operator_id: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    policy: Mapped[str] = mapped_column(String(20), default="stoppage")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    feed_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    feed_token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    # The ISP's TSIG key for zone transfers from the hidden primary (isp_feed/primary.py): its secret lives in the
    # data dir (`keys/tsig/`, mode 0600: the primary needs it whole, so it cannot be kept hashed like a token); the
    # row keeps its SHA-256 fingerprint, which names the file and identifies the key in lists.
    tsig_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tsig_created_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    resolvers: Mapped[list[IspResolver]] = relationship(
        back_populates="isp", order_by="IspResolver.id", lazy="selectin"
    )
    secondaries: Mapped[list[IspSecondary]] = relationship(  # the current ones (never deleted: see removed_at)
        order_by="IspSecondary.id", lazy="selectin",
        primaryjoin="and_(Isp.id == IspSecondary.isp_id, IspSecondary.removed_at.is_(None))", viewonly=True,
    )


class IspResolver(Base):
    """A DNS resolver of an ISP that verification rounds query."""

    __tablename__ = "isp_resolvers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"))
    address: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(Integer, default=53)

    isp: Mapped[Isp] = relationship(back_populates="resolvers")


class IspSecondary(Base):
    """A secondary name server of an ISP that transfers the RPZ zone from the hidden primary and gets its NOTIFY.

    Never deleted: replacing an ISP's secondaries marks the old rows removed (`removed_at`)."""

    __tablename__ = "isp_secondaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"))
    address: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(Integer, default=53)
    # False: a secondary that cannot sign its transfers (Unbound 1.17 has no TSIG), allowed by its address alone.
    tsig: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    isp: Mapped[Isp] = relationship()


class Order(Base):
    """One magistrate decision that blocks or lifts names: the occasion for requisitions."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "block" | "lift"
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set by the feed when the first version carrying this order is published; requisitions cite it.
    feed_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)

    magistrate: Mapped[User] = relationship()


class ProtectedOverride(Base):
    """A magistrate's written permission to submit one name on the protected list."""

    __tablename__ = "protected_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    reason: Mapped[str] = mapped_column(Text)
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Submission(Base):
    """A listed domain: submitted by an officer, decided by a magistrate, possibly lifted later."""

    __tablename__ = "submissions"
    __table_args__ = (
        # At most one pending-or-blocked record per name, enforced by the database itself.
        Index(
            "uq_submissions_active_domain",
            "domain",
            unique=True,
            sqlite_where=text("status IN ('submitted', 'approved')"),
            postgresql_where=text("status IN ('submitted', 'approved')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    unicode: Mapped[str] = mapped_column(String(253))
    typed: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(30))
    flags: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(String(20))
    case_number: Mapped[str] = mapped_column(String(100), index=True)
    evidence_ref: Mapped[str] = mapped_column(String(200))
    verified_on: Mapped[dt.date] = mapped_column(Date)
    court: Mapped[str | None] = mapped_column(String(200), nullable=True)
    court_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    court_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    override_id: Mapped[int | None] = mapped_column(ForeignKey("protected_overrides.id"), nullable=True)

    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    review_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    lift_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    # Where the site is hosted (blocklist/hosting.py); None only on records older than the country (core_0005).
    hosting_country: Mapped[str | None] = mapped_column(String(2), nullable=True, index=True)
    hosting_provider: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hosting_abuse_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    notice_language: Mapped[str | None] = mapped_column(String(2), nullable=True)  # Belgium: its removal notice's

    submitter: Mapped[User] = relationship(foreign_keys=[submitted_by])

    @property
    def flag_list(self) -> list[str]:
        """The warning flags raised when the name was checked."""
        return [f for f in self.flags.split(",") if f]


class AuditEvent(Base):
    """One link of the append-only, hash-chained audit log."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))  # ISO-8601 UTC text: hashed exactly as stored
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(253))
    domain: Mapped[str | None] = mapped_column(String(253), nullable=True, index=True)
    order_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest link of the chain (one row): lets `audit verify` notice a deleted tail."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class Partner(Base):
    """A partner hotline (e.g. the national INHOPE member) that forwards reports through the API.

    Not a user account: it holds one bearer credential (only its SHA-256 is kept) and can do nothing but send
    reports, so it takes no part in any decision (the four-eyes rule concerns accounts only).
    """

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Report(Base):
    """A report of an address, from the public or a partner, as received (append-only: evidence).

    No IP address, user agent or cookie is ever stored; `contact` only when the reporter left one.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    host: Mapped[str] = mapped_column(String(253), index=True)  # the normalised host (A-label)
    unicode: Mapped[str] = mapped_column(String(253))
    address: Mapped[str] = mapped_column(Text)  # as typed
    found_at: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str | None] = mapped_column(String(254), nullable=True)
    source: Mapped[str] = mapped_column(String(10))  # "public" | "partner"
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), nullable=True)
    partner_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    partner: Mapped[Partner | None] = relationship(lazy="selectin")


class ReportOutcome(Base):
    """What triage made of a report (at most one per report; append-only): dismissed, linked or merged."""

    __tablename__ = "report_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(10))  # "dismissed" | "linked" | "merged"
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


# --- reviews (issue 13): models of blocklist/reviews.py below this line ---


class Attestation(Base):
    """An officer's re-attestation of a block at review (append-only): the day the content was checked, where the
    evidence of that check is kept (a reference, never the content), and whether the content is still there."""

    __tablename__ = "review_attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    checked_on: Mapped[dt.date] = mapped_column(Date)
    evidence_ref: Mapped[str] = mapped_column(String(200))
    content_present: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()
    officer: Mapped[User] = relationship(lazy="selectin")


class Renewal(Base):
    """A magistrate's renewal of a block at review (append-only): its new review date, the reason, and the
    re-attestation it rests on; each attestation carries one renewal at most (the unique key holds it)."""

    __tablename__ = "review_renewals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    attestation_id: Mapped[int] = mapped_column(ForeignKey("review_attestations.id"), unique=True)
    previous_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    review_due: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()


class ReviewDigest(Base):
    """One magistrate's weekly e-mail of the reviews due, for one ISO week ("2026-W49"; unique with the magistrate).

    The row is written and committed BEFORE the message goes out, so that a restart or a second process never sends
    that week's digest again. Its delivery state changes (pending -> sent | failed), so it is not append-only; it
    is never deleted.
    """

    __tablename__ = "review_digests"
    __table_args__ = (UniqueConstraint("week", "user_id", name="uq_review_digests_week_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_addr: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    names: Mapped[int] = mapped_column(Integer)  # how many blocks it lists
    status: Mapped[str] = mapped_column(String(10), index=True)  # vocab.MailStatus
    message_id: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    smtp_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


# --- appeals (issue 13): models of blocklist/appeals.py below this line ---


class Appeal(Base):
    """An appeal of a member of the public against the block of a name, as received (append-only).

    Like a report, nothing about the appellant is kept but what they typed: no IP address, user agent or cookie;
    `contact` (an e-mail address) only when they left one, for the answer in their `language`.
    """

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)  # the normalised name (A-label)
    unicode: Mapped[str] = mapped_column(String(253))
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(254), nullable=True)
    language: Mapped[str] = mapped_column(String(2))
    # The block covering the name when the appeal came in (None: it was not blocked then).
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    decision: Mapped[AppealDecision | None] = relationship(lazy="selectin", viewonly=True)


class AppealDecision(Base):
    """A magistrate's decision on an appeal (at most one per appeal; append-only)."""

    __tablename__ = "appeal_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(10))  # vocab.AppealOutcome
    answer: Mapped[str] = mapped_column(String(20))  # vocab.AppealAnswer: what the appellant is told
    reason: Mapped[str] = mapped_column(Text)
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The record decided on (the block, or the name's latest record) and the lifting order an upheld appeal made.
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    lift_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    magistrate: Mapped[User] = relationship(lazy="selectin")
    mail: Mapped[AppealAnswerMail | None] = relationship(lazy="selectin", viewonly=True)


class AppealAnswerMail(Base):
    """The e-mail answering an appeal whose appellant left a contact: queued at the decision, sent with retries.

    Its delivery state changes (pending -> sent | failed), so it is not append-only; it is never deleted, and the
    decision it answers is. The Message-ID is fixed when it is queued, so a resend after a crash carries the same.
    """

    __tablename__ = "appeal_answer_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("appeal_decisions.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # vocab.MailStatus
    message_id: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    smtp_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


# --- bulk submissions (issue 14): models of blocklist/batches.py below this line ---


class SubmissionBatch(Base):
    """A bulk submission stored as a job: many names under one case, processed in chunks by the scheduler.

    Its state moves queued -> running -> done (or failed, with `error`); the counts move with it. Never deleted.
    `form_token` (unique per officer) makes the same form sent twice one batch.
    """

    __tablename__ = "submission_batches"
    __table_args__ = (UniqueConstraint("created_by", "form_token", name="uq_submission_batches_form_token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    form_token: Mapped[str | None] = mapped_column(String(100), nullable=True)
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the case details and the names, as sent
    case_details: Mapped[str] = mapped_column(Text)  # CaseDetails as JSON, checked when the batch was stored
    case_number: Mapped[str] = mapped_column(String(100), index=True)
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), index=True)  # vocab.BatchStatus
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    creator: Mapped[User] = relationship(lazy="selectin")


class SubmissionBatchItem(Base):
    """One name of a batch, in the order sent, and what became of it: submitted (its submission) or refused (a
    reason code and the reason)."""

    __tablename__ = "submission_batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "position", name="uq_submission_batch_items_position"),
                      Index("ix_submission_batch_items_state", "batch_id", "state", "position"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("submission_batches.id"))
    position: Mapped[int] = mapped_column(Integer)
    typed: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))  # vocab.BatchItemState
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True, index=True)
    a_label: Mapped[str | None] = mapped_column(String(253), nullable=True)
    code: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
