"""Delivery by e-mail with retries: pending -> sent, or failed after the retry budget; evidence kept.

Two kinds of document go this way, each an `Outbox`: requisitions to ISPs, and removal notices to hosting
providers (requisitions/removal.py). A document is claimed (attempt counted and committed) before the SMTP
conversation, so a crash can at worst resend it with the SAME Message-ID, which lets the recipient's mail system
recognise the duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.db import Database
from blocklist.jobs import claim
from blocklist.mail import SmtpConfig
from blocklist.models import Isp, utcnow
from blocklist.settings import Settings
from requisitions.errors import DeliveryError
from requisitions.mail import REFERENCE_HEADER, RETRY_BUDGET, backoff_delay, send_requisition
from requisitions.models import DeliveryAttempt, RemovalDeliveryAttempt, RemovalNotice, Requisition

log = logging.getLogger("requisitions.delivery")

__all__ = ["NOTICES", "REQUISITIONS", "RETRY_BUDGET", "Outbox", "deliver_due", "deliver_one", "due_ids"]


def _isp_address(session: Session, row: Any) -> str:
    isp = session.get(Isp, row.isp_id)
    assert isp is not None
    return isp.email


@dataclass(frozen=True)
class Outbox:
    """One kind of document sent by e-mail: its table (a MailedDocument with an order_id), how an attempt's
    evidence is written, where a row goes, and its names in the audit chain (`kind`) and in errors (`what`)."""

    kind: str
    what: str
    table: Any
    evidence: Callable[..., Any]  # (row id, attempt=, started_at=, outcome=, smtp_response=) -> an evidence row
    recipient: Callable[[Session, Any], str]
    header: str = REFERENCE_HEADER
    domain: Callable[[Any], str | None] = lambda row: None  # events about one name go into its history


REQUISITIONS = Outbox(
    kind="requisition", what="requisition", table=Requisition,
    evidence=lambda row_id, **fields: DeliveryAttempt(requisition_id=row_id, **fields), recipient=_isp_address)
NOTICES = Outbox(
    kind="removal_notice", what="removal notice", table=RemovalNotice,
    evidence=lambda row_id, **fields: RemovalDeliveryAttempt(notice_id=row_id, **fields),
    recipient=lambda session, row: str(row.email), header="X-Removal-Notice-Reference", domain=lambda row: row.domain)


def due_ids(database: Database, now: dt.datetime, outbox: Outbox = REQUISITIONS) -> list[int]:
    """Pending documents whose next attempt is due, oldest first."""
    table = outbox.table
    with database.transaction() as session:
        return list(session.execute(
            select(table.id).where(table.status == "pending", table.next_attempt_at <= now).order_by(table.id)
        ).scalars())


def deliver_one(database: Database, settings: Settings, row_id: int, outbox: Outbox = REQUISITIONS,
                due_at: dt.datetime | None = None) -> str:
    """Try to deliver one document (if still due at `due_at`, default now); returns its status afterwards ("sent"
    when the server took it)."""
    started = utcnow()
    with database.transaction() as session:
        row = claim(session, outbox.table, row_id)
        if row is None:
            return "claimed elsewhere"  # (or missing) another process is sending it: never twice at once
        if row.status != "pending":
            return str(row.status)
        if row.next_attempt_at is not None and row.next_attempt_at > (due_at or started):
            return "pending"  # claimed and tried by another process since it was found due
        row.attempts += 1
        # Claim: a crash mid-send leaves it due again in a minute, not lost.
        row.next_attempt_at = started + dt.timedelta(seconds=60)
        attempt: int = row.attempts
        to_addr = outbox.recipient(session, row)
        reference: str = row.reference
        subject, text, pdf, message_id = row.subject, row.body_text, row.pdf, row.message_id
    try:
        receipt = send_requisition(SmtpConfig.from_settings(settings), subject=subject, text=text, pdf=pdf,
                                   to_addr=to_addr, reference=reference, message_id=message_id, kind=outbox.what,
                                   header=outbox.header)
    except DeliveryError as exc:
        return _record_failure(database, outbox, row_id, attempt, started, exc)
    with database.transaction() as session:
        row = session.get(outbox.table, row_id)
        assert row is not None
        if row.status == "pending":  # an acknowledgement recorded meanwhile stands; the send is its evidence
            row.status = "sent"
        row.sent_at = receipt.sent_at
        row.smtp_response = receipt.smtp_response
        row.next_attempt_at = None
        session.add(outbox.evidence(row.id, attempt=attempt, started_at=started, outcome="sent",
                                    smtp_response=receipt.smtp_response))
        audit.record(session, actor="system", action=f"{outbox.kind}.sent", object_type=outbox.kind,
                     object_id=row.id, domain=outbox.domain(row), order_id=row.order_id,
                     details={"reference": row.reference, "message_id": row.message_id, "attempt": attempt,
                              "smtp_response": receipt.smtp_response})
    return "sent"


def _record_failure(database: Database, outbox: Outbox, row_id: int, attempt: int, started: dt.datetime,
                    exc: DeliveryError) -> str:
    with database.transaction() as session:
        row = session.get(outbox.table, row_id)
        assert row is not None
        outcome = "transient" if exc.transient else "permanent"
        session.add(outbox.evidence(row.id, attempt=attempt, started_at=started, outcome=outcome,
                                    smtp_response=str(exc)))
        row.last_error = str(exc)
        if row.status != "pending":  # acknowledged meanwhile: nothing left to send
            row.next_attempt_at = None
            return str(row.status)
        if exc.transient and attempt < RETRY_BUDGET:
            row.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff_delay(attempt))
            log.warning("%s %s: attempt %d failed (%s); retrying", outbox.what, row.reference, attempt, exc)
            return "pending"
        row.status = "failed"
        row.failed_at = utcnow()
        row.next_attempt_at = None
        audit.record(session, actor="system", action=f"{outbox.kind}.failed", object_type=outbox.kind,
                     object_id=row.id, domain=outbox.domain(row), order_id=row.order_id,
                     details={"reference": row.reference, "attempts": attempt, "error": str(exc)})
        return "failed"


def deliver_due(database: Database, settings: Settings, now: dt.datetime | None = None,
                outbox: Outbox = REQUISITIONS) -> dict[str, int]:
    """Deliver every due document of the outbox once; returns how many ended in each status."""
    counts: dict[str, int] = {}
    moment = now or utcnow()
    for row_id in due_ids(database, moment, outbox):
        status = deliver_one(database, settings, row_id, outbox, due_at=moment)
        counts[status] = counts.get(status, 0) + 1
    return counts
