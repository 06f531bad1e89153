"""Tables of the api package: idempotency records of POST requests, stop-page hits, the scheduler's heartbeat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from blocklist.models import Base, UtcDateTime, utcnow


class IdempotencyRecord(Base):
    """The first answer to a POST carrying an Idempotency-Key, replayed to retries of the same request."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(principal, key): api/transaction.py
    method_path: Mapped[str] = mapped_column(String(300))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: a claim of the former scheme
    content_type: Mapped[str] = mapped_column(String(100), default="application/json")
    body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class StopPageHit(Base):
    """How many times the stop page was shown for a listed name on a day (no visitor data at all)."""

    __tablename__ = "stop_page_hits"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)  # index: the metrics' recent total
    count: Mapped[int] = mapped_column(Integer)


class SchedulerHeartbeat(Base):
    """The one row the running scheduler rewrites every few seconds: readiness and metrics read how recent it is.

    Operational state like the feed's fetch log, not a decision: it is not an audit event.
    """

    __tablename__ = "scheduler_heartbeats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    holder: Mapped[str] = mapped_column(String(200))  # host name and process id of the scheduler's process
    beat_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
