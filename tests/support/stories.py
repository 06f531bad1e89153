"""Histories with everything in them, for the pages and exports that show a name's whole story."""

from __future__ import annotations

import datetime as dt

from api.runtime import Runtime
from blocklist import isps
from blocklist.jobs import JobContext
from blocklist.models import User
from isp_feed import checkpoints, publish
from isp_feed.jobs import publish_feed
from requisitions import delivery, jobs
from tests.support.factories import approved
from tests.support.ports import free_port
from tests.support.smtp import smtp_server


def held_block_and_catch_up(rt: Runtime, people: dict[str, User], *, case_number: str) -> None:
    """csam-gallery.test blocked (held by the gate first, confirmed by another magistrate, published); an ISP
    registered afterwards ("Late ISP") gets a catch-up requisition, delivered on the second attempt."""
    port = free_port()
    config = rt.settings.model_copy(update={"feed_gate_min_changes": 0, "feed_gate_share": 0.0,
                                            "requisitions_wait_for_feed": False, "smtp_port": port,
                                            "smtp_timeout": 2.0})
    ctx = JobContext.standalone(rt.database, config)
    assert publish_feed(rt.job_context) == 1
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test", case_number=case_number)
    held = type(rt.job_context)(rt.database, config, rt.job_context.policy, rt.job_context.keys)
    assert publish_feed(held) is None  # the gate holds any change
    with rt.database.transaction() as s:
        publish.confirm_hold(s, actor=people["magistrate2"], hold_id=publish.pending_holds(s)[0].id)
    assert publish_feed(held) == 2
    with rt.database.transaction() as s:
        isps.add_isp(s, actor="test", name="Late ISP", email="noc@late-isp.example", language="nl")
        checkpoints.make(s, rt.keys, trigger="cli")
    assert jobs.catch_up(ctx) == 1
    assert delivery.deliver_due(rt.database, config) == {"pending": 1}  # nobody listens yet: retried later
    with smtp_server(port=port):
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        assert delivery.deliver_due(rt.database, config, now=later) == {"sent": 1}
