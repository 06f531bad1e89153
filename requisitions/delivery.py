"""Delivery by e-mail with retries: pending -> sent, or failed after the retry budget; evidence kept.

A requisition is claimed (attempt counted and committed) before the SMTP conversation, so a crash can at
worst resend it with the SAME Message-ID, which lets the ISP's mail system recognise the duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from blocklist import audit
from blocklist.db import Database
from blocklist.mail import SmtpConfig
from blocklist.models import Isp, utcnow
from blocklist.settings import Settings
from requisitions.errors import DeliveryError
from requisitions.mail import RETRY_BUDGET, backoff_delay, send_requisition
from requisitions.models import DeliveryAttempt, Requisition

log = logging.getLogger("requisitions.delivery")


def due_ids(database: Database, now: dt.datetime) -> list[int]:
    """Pending requisitions whose next attempt is due, oldest first."""
    with database.transaction() as session:
        return list(session.execute(
            select(Requisition.id).where(Requisition.status == "pending", Requisition.next_attempt_at <= now)
            .order_by(Requisition.id)
        ).scalars())


def deliver_one(database: Database, settings: Settings, requisition_id: int) -> str:
    """Try to deliver one requisition; returns its status afterwards."""
    started = utcnow()
    with database.transaction() as session:
        req = session.get(Requisition, requisition_id)
        if req is None or req.status != "pending":
            return req.status if req else "missing"
        req.attempts += 1
        # Claim: a crash mid-send leaves it due again in a minute, not lost.
        req.next_attempt_at = started + dt.timedelta(seconds=60)
        attempt = req.attempts
        isp = session.get(Isp, req.isp_id)
        assert isp is not None
        to_addr, reference = isp.email, req.reference
        subject, text, pdf, message_id = req.subject, req.body_text, req.pdf, req.message_id
    try:
        receipt = send_requisition(SmtpConfig.from_settings(settings), subject=subject, text=text, pdf=pdf,
                                   to_addr=to_addr, reference=reference, message_id=message_id)
    except DeliveryError as exc:
        return _record_failure(database, requisition_id, attempt, started, exc)
    with database.transaction() as session:
        req = session.get(Requisition, requisition_id)
        assert req is not None
        req.status = "sent"
        req.sent_at = receipt.sent_at
        req.smtp_response = receipt.smtp_response
        req.next_attempt_at = None
        session.add(DeliveryAttempt(requisition_id=req.id, attempt=attempt, started_at=started, outcome="sent",
                                    smtp_response=receipt.smtp_response))
        audit.record(session, actor="system", action="requisition.sent", object_type="requisition",
                     object_id=req.id, order_id=req.order_id,
                     details={"reference": req.reference, "message_id": req.message_id, "attempt": attempt,
                              "smtp_response": receipt.smtp_response})
    return "sent"


def _record_failure(database: Database, requisition_id: int, attempt: int, started: dt.datetime,
                    exc: DeliveryError) -> str:
    with database.transaction() as session:
        req = session.get(Requisition, requisition_id)
        assert req is not None
        outcome = "transient" if exc.transient else "permanent"
        session.add(DeliveryAttempt(requisition_id=req.id, attempt=attempt, started_at=started, outcome=outcome,
                                    smtp_response=str(exc)))
        req.last_error = str(exc)
        if exc.transient and attempt < RETRY_BUDGET:
            req.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff_delay(attempt))
            log.warning("requisition %s: attempt %d failed (%s); retrying", req.reference, attempt, exc)
            return "pending"
        req.status = "failed"
        req.failed_at = utcnow()
        req.next_attempt_at = None
        audit.record(session, actor="system", action="requisition.failed", object_type="requisition",
                     object_id=req.id, order_id=req.order_id,
                     details={"reference": req.reference, "attempts": attempt, "error": str(exc)})
        return "failed"


def deliver_due(database: Database, settings: Settings, now: dt.datetime | None = None) -> dict[str, int]:
    """Deliver every due requisition once; returns how many ended in each status."""
    counts: dict[str, int] = {}
    for requisition_id in due_ids(database, now or utcnow()):
        status = deliver_one(database, settings, requisition_id)
        counts[status] = counts.get(status, 0) + 1
    return counts
