"""Periodic jobs of the requisitions package (registered in api/scheduler.py)."""

from __future__ import annotations

from blocklist.db import Database
from blocklist.models import Isp, Order
from blocklist.settings import Settings
from requisitions import delivery, service


def issue_pending(database: Database, settings: Settings) -> int:
    """Issue requisitions for every order that has none yet, each order in its own transaction."""
    with database.transaction() as session:
        order_ids = [o.id for o in service.orders_awaiting_requisitions(session, settings=settings)]
    issued = 0
    for order_id in order_ids:
        with database.transaction() as session:
            order = session.get(Order, order_id)
            if order is not None:
                issued += len(service.issue_for_order(session, order=order, settings=settings))
    return issued


def catch_up(database: Database, settings: Settings) -> int:
    """Issue catch-up requisitions for ISPs registered after names were blocked."""
    count = 0
    with database.transaction() as session:
        isp_ids = [i.id for i in service.isps_needing_catch_up(session)]
    for isp_id in isp_ids:
        with database.transaction() as session:
            isp = session.get(Isp, isp_id)
            if isp is not None and service.issue_catch_up(session, isp=isp, settings=settings) is not None:
                count += 1
    return count


def deliver(database: Database, settings: Settings) -> dict[str, int]:
    """Send every due requisition (retries included)."""
    return delivery.deliver_due(database, settings)
