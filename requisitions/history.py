"""What the requisitions' tables add to a name's or a case's history: the requisitions of its orders, the catch-up
requisitions that listed it (they belong to no order), and every delivery attempt of them.

The audit chain records a requisition's creation, its final delivery (sent or failed) and its acknowledgement; the
attempts in between (greylisting, an unreachable server) are evidence kept here only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from requisitions.models import DeliveryAttempt, Requisition


def _listing(domain: str) -> str:
    # `names` is canonical JSON ({"a_label":...,"scope":...,"unicode":...}, sorted keys, no spaces).
    return f'"a_label":"{domain}"'


def requisitions_for(session: Session, *, order_ids: Sequence[int], domains: Sequence[str]) -> list[Requisition]:
    """The requisitions of these orders, and the catch-up requisitions that list any of these names, by id."""
    conditions: list[ColumnElement[bool]] = []
    if order_ids:
        conditions.append(Requisition.order_id.in_(list(order_ids)))
    conditions.extend(and_(Requisition.kind == "catch_up",
                           Requisition.names.contains(_listing(d), autoescape=True)) for d in domains)
    if not conditions:
        return []
    return list(session.execute(select(Requisition).where(or_(*conditions)).order_by(Requisition.id)).scalars())


def attempts_for(session: Session, requisition_ids: Sequence[int]) -> list[DeliveryAttempt]:
    """Every delivery attempt of these requisitions, in the order they were made."""
    if not requisition_ids:
        return []
    return list(session.execute(select(DeliveryAttempt).where(DeliveryAttempt.requisition_id.in_(
        list(requisition_ids))).order_by(DeliveryAttempt.started_at, DeliveryAttempt.id)).scalars())
