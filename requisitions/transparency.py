"""Transparency figures of the documents sent: requisitions to ISPs and removal notices to hosting providers.

Counts and median delays only, over a period of blocklist/transparency.py; never a reference, a name or a case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from blocklist.transparency import BRUSSELS, Period, median, median_seconds, within
from requisitions.models import KINDS, RemovalNotice, RemovalOutcome, Requisition


@dataclass(frozen=True)
class RequisitionFigures:
    """Requisitions sent and acknowledged in the period, and how long ISPs took to acknowledge."""

    sent: dict[str, int]  # kind (blocking, lifting, catch_up) -> count
    acknowledged: int
    acknowledged_late: int  # after the requisition's deadline
    median_ack_seconds: float | None  # from issue to acknowledgement, of those acknowledged in the period

    @property
    def sent_total(self) -> int:
        """Requisitions sent in the period, every kind."""
        return sum(self.sent.values())


def requisitions(session: Session, span: Period) -> RequisitionFigures:
    """Requisitions handed to the mail server in the period, those acknowledged in it, and the median delay from
    a requisition's issue (its order) to the ISP's acknowledgement."""
    sent = dict.fromkeys(KINDS, 0)
    for kind, count in session.execute(select(Requisition.kind, func.count()).where(
            within(Requisition.sent_at, span)).group_by(Requisition.kind)):
        sent[kind] = int(count)
    acked = [(created, at, deadline) for created, at, deadline in session.execute(
        select(Requisition.created_at, Requisition.acknowledged_at, Requisition.deadline).where(
            within(Requisition.acknowledged_at, span))) if at is not None]
    late = sum(at > deadline for _, at, deadline in acked)
    return RequisitionFigures(sent, len(acked), late, median_seconds(at - created for created, at, _ in acked))


@dataclass(frozen=True)
class RemovalFigures:
    """Removal notices sent to hosting providers in Belgium, sites confirmed removed, and the median delay."""

    sent: int
    removed: int
    median_removal_days: float | None  # from the notice's day to the day the site was gone, in Brussels days


def _issued_on(notice: RemovalNotice) -> dt.date:
    """The Brussels day a notice went out: its hand-over to the mail server, or its issue when delivered by hand."""
    return (notice.sent_at or notice.created_at).astimezone(BRUSSELS).date()


def removal_notices(session: Session, span: Period) -> RemovalFigures:
    """Notices sent in the period (by e-mail, or issued for delivery by hand), sites recorded removed in it (on the
    day the officer established), and the median number of days from notice to removal."""
    sent = session.execute(select(func.count()).select_from(RemovalNotice).where(or_(
        within(RemovalNotice.sent_at, span),
        and_(RemovalNotice.email.is_(None), within(RemovalNotice.created_at, span))))).scalar_one()
    removed = session.execute(select(RemovalNotice, RemovalOutcome.happened_on).join(
        RemovalOutcome, RemovalOutcome.notice_id == RemovalNotice.id).where(
        RemovalOutcome.kind == "removed", RemovalOutcome.happened_on >= span.first_day,
        RemovalOutcome.happened_on <= span.last_day)).all()
    days = [max(0, (gone - _issued_on(notice)).days) for notice, gone in removed]
    return RemovalFigures(int(sent), len(removed), median(days))
