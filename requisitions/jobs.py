"""Periodic jobs of the requisitions package (registered in api/scheduler.py)."""

from __future__ import annotations

import logging
import time

from blocklist import queries
from blocklist.jobs import JobContext, claim_all
from blocklist.models import Isp, Order
from blocklist.settings import Settings
from requisitions import delivery, removal, service
from requisitions.errors import RenderError
from requisitions.render import RenderedRequisition, render

log = logging.getLogger("requisitions.jobs")


# Orders drafted per pass, and how long rendered requisitions wait before they are stored together: during an
# approval storm every order waited for three transactions of its own (a fifth of the server's work at 60 approvals
# a second, with no ISP to write to), while one big order's minutes of PDF work must not delay the rest for long.
ISSUE_BATCH = 500
STORE_EVERY_SECONDS = 1.0
# An order rendered: its id, each draft with its requisition, and the error that failed it (None: rendered).
_Rendered = tuple[int, list[tuple[service.Draft, RenderedRequisition]], str | None]


def issue_pending(ctx: JobContext) -> int:
    """Issue requisitions for every order that has none yet.

    The orders are drafted in one transaction and rendered outside any (a big order takes minutes of PDF work and
    must not hold the database's write lock); what was rendered is stored in short transactions, each re-checking
    its orders, a second's worth of orders at a time.
    """
    database, settings = ctx.database, ctx.settings
    issued = 0
    while True:
        with database.transaction() as session:
            orders = service.orders_awaiting_requisitions(session, settings=settings, limit=ISSUE_BATCH)
            isps = queries.active_isps(session)
            drafted = list(service.draft_orders(session, orders=orders, settings=settings, isps=isps).items())
        ready: list[_Rendered] = []
        since = time.monotonic()
        for order_id, drafts in drafted:
            try:
                ready.append((order_id, service.render_drafts(drafts, workers=_workers(settings, drafts)), None))
            except RenderError as exc:
                ready.append((order_id, [], str(exc)))
            if time.monotonic() - since >= STORE_EVERY_SECONDS:
                issued += _store_issued(ctx, ready)
                ready, since = [], time.monotonic()
        issued += _store_issued(ctx, ready)
        if len(drafted) < ISSUE_BATCH:
            return issued


def _store_issued(ctx: JobContext, ready: list[_Rendered]) -> int:
    """Store rendered orders in one transaction; an order another process issued meanwhile is left alone."""
    if not ready:
        return 0
    issued = 0
    with ctx.database.transaction() as session:
        # The orders locked first: a second process storing the same orders skips them, then sees them issued.
        ids = [order_id for order_id, _, _ in ready]
        mine = claim_all(session, Order, ids) - service.processed_orders(session, ids)
        for order_id, rendered, error in ready:
            if order_id not in mine:
                continue  # another worker issued it meanwhile (or is storing it now)
            rows = service.store_rendered(session, rendered) if error is None else []
            service.record_order_outcome(session, order_id=order_id, requisitions=rows, error=error)
            issued += len(rows)
    return issued


def _workers(settings: Settings, drafts: list[service.Draft]) -> int:
    # Worth a process pool only when there is real PDF work (hundreds of table rows in all).
    work = sum(len(d.doc.names) for d in drafts)
    return settings.requisition_render_workers if work >= 2000 else 1


def catch_up(ctx: JobContext) -> int:
    """Issue catch-up requisitions for ISPs registered after names were blocked."""
    database, settings = ctx.database, ctx.settings
    count = 0
    with database.transaction() as session:
        isp_ids = [i.id for i in service.isps_needing_catch_up(session)]
    for isp_id in isp_ids:
        with database.transaction() as session:
            isp = session.get(Isp, isp_id)
            if isp is not None and service.issue_catch_up(session, isp=isp, settings=settings) is not None:
                count += 1
    return count


def deliver(ctx: JobContext) -> dict[str, int]:
    """Send every due requisition (retries included)."""
    return delivery.deliver_due(ctx.database, ctx.settings)


def issue_removal_notices(ctx: JobContext) -> int:
    """Issue a removal notice for every approved name hosted in Belgium that has none yet.

    As for requisitions, rendering runs outside any transaction and the notice is stored in a short one that
    re-checks it is still owed. A notice that cannot be rendered is logged and tried again on the next tick.
    """
    database, settings = ctx.database, ctx.settings
    with database.transaction() as session:
        submission_ids = removal.awaiting_notice(session)
    issued = 0
    for submission_id in submission_ids:
        with database.transaction() as session:
            notice_draft = removal.draft(session, submission_id=submission_id, settings=settings)
        if notice_draft is None:
            continue
        try:
            rendered = render(notice_draft.doc)
        except RenderError:
            log.exception("removal notice %s cannot be rendered; retried next time", notice_draft.doc.reference)
            continue
        with database.transaction() as session:
            if removal.store(session, notice_draft, rendered) is not None:
                issued += 1
    return issued


def deliver_removal_notices(ctx: JobContext) -> dict[str, int]:
    """Send every due removal notice (retries included); those without an address wait for an officer."""
    return delivery.deliver_due(ctx.database, ctx.settings, outbox=delivery.NOTICES)
