"""Requisitions and their delivery evidence (tables of the `requisitions` migration branch)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blocklist.models import Base, Isp, Order, UtcDateTime, utcnow

STATUSES = ("pending", "sent", "acknowledged", "failed")
KINDS = ("blocking", "lifting", "catch_up")


class Requisition(Base):
    """One requisition document addressed to one ISP, and where its delivery stands."""

    __tablename__ = "requisitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    isp_id: Mapped[int] = mapped_column(ForeignKey("isps.id"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    names: Mapped[str] = mapped_column(Text)  # canonical JSON list of {a_label, unicode, scope}
    feed_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
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
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    isp: Mapped[Isp] = relationship()
    order: Mapped[Order | None] = relationship()


class DeliveryAttempt(Base):
    """Evidence of one attempt to hand a requisition to the SMTP server."""

    __tablename__ = "requisition_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("requisitions.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(15))  # sent | transient | permanent
    smtp_response: Mapped[str] = mapped_column(Text, default="")


class OrderIssue(Base):
    """Whether an order's requisitions were issued (to every active ISP) or failed as a whole."""

    __tablename__ = "requisition_order_issues"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # issued | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    isp_count: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
