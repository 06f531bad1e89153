"""Requisitions and their delivery evidence (tables of the `requisitions` migration branch)."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blocklist.models import Base, Isp, Order, UtcDateTime, utcnow

STATUSES = ("pending", "sent", "acknowledged", "failed")
KINDS = ("blocking", "lifting", "catch_up")


class MailedDocument:
    """The columns of a document sent by e-mail with its PDF (requisitions, removal notices): what was rendered,
    and where its delivery stands (requisitions/delivery.py moves it on)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(200))  # fixed at creation: a resend after a crash dedupes
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    deadline: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(15), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    smtp_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AttemptEvidence:
    """The columns of the evidence of one attempt to hand a document to the SMTP server."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(15))  # sent | transient | permanent
    smtp_response: Mapped[str] = mapped_column(Text, default="")


class Requisition(MailedDocument, Base):
    """One requisition document addressed to one ISP, and where its delivery stands."""

    __tablename__ = "requisitions"

    kind: Mapped[str] = mapped_column(String(10))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    names: Mapped[str] = mapped_column(Text)  # canonical JSON list of {a_label, unicode, scope}
    feed_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    isp: Mapped[Isp] = relationship()
    order: Mapped[Order | None] = relationship()


class DeliveryAttempt(AttemptEvidence, Base):
    """Evidence of one attempt to hand a requisition to the SMTP server."""

    __tablename__ = "requisition_delivery_attempts"

    requisition_id: Mapped[int] = mapped_column(ForeignKey("requisitions.id"), index=True)


class OrderIssue(Base):
    """Whether an order's requisitions were issued (to every active ISP) or failed as a whole."""

    __tablename__ = "requisition_order_issues"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # issued | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    isp_count: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


# --- removal notices (issue 13): to the hosting provider of a site hosted in Belgium (requisitions/removal.py) ---

# pending -> sent | failed (delivery, requisitions/delivery.py); no_address: delivered by hand; then acknowledged
# and removed as an officer records them.
NoticeStatus = Literal["pending", "sent", "no_address", "failed", "acknowledged", "removed"]
NOTICE_STATUSES: tuple[NoticeStatus, ...] = get_args(NoticeStatus)
OutcomeKind = Literal["acknowledged", "removed"]
OUTCOME_KINDS: tuple[OutcomeKind, ...] = get_args(OutcomeKind)


class RemovalNotice(MailedDocument, Base):
    """The notice to remove a site hosted in Belgium, under the e-commerce law: one per approved submission.

    Its provider and abuse address are copied from the submission when it is issued (what the notice was sent to
    stays what it was). No address: `no_address`, delivered by hand. Then `acknowledged` and `removed` as an
    officer records them (RemovalOutcome).
    """

    __tablename__ = "removal_notices"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)  # the approval that produced it
    domain: Mapped[str] = mapped_column(String(253), index=True)
    unicode: Mapped[str] = mapped_column(String(253))
    language: Mapped[str] = mapped_column(String(2))
    provider: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # None: deliver by hand

    order: Mapped[Order] = relationship()
    outcomes: Mapped[list[RemovalOutcome]] = relationship(order_by="RemovalOutcome.id", lazy="selectin",
                                                          viewonly=True)

    def outcome(self, kind: str) -> RemovalOutcome | None:
        """What an officer recorded of this kind (acknowledged, removed), if anything."""
        return next((o for o in self.outcomes if o.kind == kind), None)


class RemovalDeliveryAttempt(AttemptEvidence, Base):
    """Evidence of one attempt to hand a removal notice to the SMTP server (append-only)."""

    __tablename__ = "removal_notice_attempts"

    notice_id: Mapped[int] = mapped_column(ForeignKey("removal_notices.id"), index=True)


class RemovalOutcome(Base):
    """What an officer recorded of a notice: the provider acknowledged it, or the site was removed (append-only;
    at most one of each kind per notice)."""

    __tablename__ = "removal_notice_outcomes"
    __table_args__ = (UniqueConstraint("notice_id", "kind", name="uq_removal_outcome_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("removal_notices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(15))  # acknowledged | removed
    happened_on: Mapped[dt.date] = mapped_column(Date)  # when, as the officer established it
    reference: Mapped[str] = mapped_column(String(200), default="")  # the provider's, or the removal's evidence
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
