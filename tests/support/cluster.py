"""Several real `blocklist` processes on one database (tests/api/test_workers.py, test_leader.py): their environment,
work driven through all of them over loopback HTTP, who leads the scheduler, and the proof that every job's work
was done exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from api.models import SchedulerHeartbeat
from api.runtime import Runtime
from blocklist import isps
from blocklist.models import AuditEvent, Order, Submission, SubmissionBatch, utcnow
from isp_feed import versions
from isp_feed.models import FeedVersionRow
from requisitions.models import Requisition
from tests.support.crash import case
from tests.support.factories import confirmed_token
from tests.support.processes import stop as stop_process
from tests.support.smtp import Inbox

BLOCKLIST = str(Path(sys.executable).with_name("blocklist"))
ISPS = 2  # ISPs `staff` registers: every order gets a requisition for each


def staff(rt: Runtime) -> tuple[dict[str, str], dict[str, str]]:
    """An officer's and a magistrate's Authorization headers; and ISPS ISPs registered."""
    with rt.database.transaction() as session:
        officer = confirmed_token(session, "cluster-officer", "officer")
        magistrate = confirmed_token(session, "cluster-magistrate", "magistrate")
        for n in range(ISPS):
            isps.add_isp(session, actor="test", name=f"Cluster ISP {n}", email=f"noc@isp{n}.example",
                         language=("fr", "nl")[n % 2])
    return {"Authorization": f"Bearer {officer}"}, {"Authorization": f"Bearer {magistrate}"}


def environment(rt: Runtime, smtp_port: int) -> dict[str, str]:
    """What every process of the cluster is started with: the same database, data directory and SMTP server, and
    the scheduler on everywhere (they elect its leader)."""
    return {"DATABASE_URL": rt.settings.resolved_database_url(), "BLOCKLIST_DATA_DIR": str(rt.settings.data_dir),
            "BLOCKLIST_SCHEDULER": "true", "BLOCKLIST_SMTP_HOST": "127.0.0.1", "BLOCKLIST_SMTP_PORT": str(smtp_port),
            "BLOCKLIST_REQUISITION_RENDER_WORKERS": "1", "BLOCKLIST_SESSION_COOKIE_SECURE": "false",
            "BLOCKLIST_LOG_FORMAT": "text", "BLOCKLIST_FEED_GATE_MIN_CHANGES": "1000000"}


class SchedulerProcess:
    """`blocklist scheduler` as a child process (it serves nothing: started, killed, stopped)."""

    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.env, self.output = {**os.environ, **env}, output
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        with self.output.open("ab") as log:
            self.process = subprocess.Popen([BLOCKLIST, "scheduler"], env=self.env, stdout=subprocess.DEVNULL,
                                            stderr=log)

    def stop(self) -> int | None:
        """SIGTERM, and its exit status."""
        return stop_process(self.process, grace=30)


def leader(rt: Runtime) -> tuple[int, dt.datetime] | None:
    """The process id in the scheduler's heartbeat and when it beat last (None before any beat)."""
    with rt.database.reading() as session:
        row = session.execute(select(SchedulerHeartbeat.holder, SchedulerHeartbeat.beat_at)).one_or_none()
    return (int(row[0].rsplit(":", 1)[1]), row[1]) if row is not None else None


def wait_until(check: Callable[[], object], what: str, timeout: float = 90) -> float:
    """Poll `check` until it is truthy; how long that took (fails naming `what` after `timeout` seconds)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)
    return time.monotonic() - started


async def _post_all(bases: Sequence[str], requests: list[tuple[str, dict[str, Any], dict[str, str]]]
                    ) -> list[httpx.Response]:
    # Request i goes to process i mod n: every process takes its share of the same storm.
    async with httpx.AsyncClient(timeout=120) as client:
        return await asyncio.gather(*(client.post(f"{bases[i % len(bases)]}{path}", json=body, headers=headers)
                                      for i, (path, body, headers) in enumerate(requests)))


def submit_and_approve(bases: Sequence[str], officer: dict[str, str], magistrate: dict[str, str],
                       names: Sequence[str]) -> list[int]:
    """Submit every name and approve each submission, spread over the processes at `bases`; the submission ids."""
    submitted = asyncio.run(_post_all(bases, [("/api/v1/submissions", case(n, "CLUSTER/2026/1"),
                                               {**officer, "Idempotency-Key": str(uuid.uuid4())}) for n in names]))
    assert [r.status_code for r in submitted] == [201] * len(names), [r.text for r in submitted if r.status_code != 201]
    ids = [int(r.json()["id"]) for r in submitted]
    # The other way round: what one process recorded, another approves.
    approved = asyncio.run(_post_all(list(reversed(bases)), [
        (f"/api/v1/submissions/{i}/approve", {"reason": "cluster test"},
         {**magistrate, "Idempotency-Key": str(uuid.uuid4())}) for i in ids]))
    assert [r.status_code for r in approved] == [200] * len(ids), [r.text for r in approved if r.status_code != 200]
    return ids


def all_done(rt: Runtime, inbox: Inbox, isps: int = ISPS) -> bool:
    """Whether the scheduler has caught up: the latest feed version lists every approved name, every order has a
    requisition per ISP, every requisition was sent and reached the SMTP server, no batch waits."""
    with rt.database.reading() as session:
        latest = versions.latest_version(session)
        listed = latest.count if latest is not None else -1
        approved = session.execute(select(func.count()).select_from(Submission)
                                   .where(Submission.status == "approved")).scalar_one()
        orders = session.execute(select(func.count()).select_from(Order)).scalar_one()
        requisitions = session.execute(select(Requisition.status)).scalars().all()
        batches = session.execute(select(func.count()).select_from(SubmissionBatch)
                                  .where(SubmissionBatch.status.in_(("queued", "running")))).scalar_one()
    return (listed == approved and len(requisitions) == orders * isps
            and set(requisitions) <= {"sent"} and len(inbox.messages) >= len(requisitions) and batches == 0)


def assert_every_job_ran_once(rt: Runtime, inbox: Inbox, isps: int = ISPS, *, resent_at_most: int = 0) -> None:
    """The work of every job, done once: one gapless sequence of feed serials; one requisition per order and ISP,
    created once, sent once (a send cut by a kill may reach the SMTP server again, with the same Message-ID:
    at most `resent_at_most` such); each batch's names submitted once; the audit chain verifies (the CLI's check)."""
    with rt.database.reading() as session:
        serials = list(session.execute(select(FeedVersionRow.serial).order_by(FeedVersionRow.serial)).scalars())
        assert serials == list(range(1, len(serials) + 1)), f"feed serials not one gapless sequence: {serials}"
        orders = set(session.execute(select(Order.id)).scalars())
        per_order = Counter(session.execute(select(Requisition.order_id, Requisition.isp_id)).all())
        assert set(per_order.values()) == {1} and {o for o, _ in per_order} == orders, per_order
        assert len(per_order) == len(orders) * isps
        events = Counter(session.execute(select(AuditEvent.action, AuditEvent.object_id).where(
            AuditEvent.action.in_(("requisition.created", "requisition.sent")))).all())
        requisition_ids = set(session.execute(select(Requisition.id)).scalars())
        for action in ("requisition.created", "requisition.sent"):
            done = {object_id: n for (act, object_id), n in events.items() if act == action}
            assert {int(k) for k in done} == requisition_ids and set(done.values()) == {1}, (action, done)
        message_ids = set(session.execute(select(Requisition.message_id)).scalars())
        submitted = Counter(session.execute(select(Submission.domain)).scalars())
        assert set(submitted.values()) == {1}, [d for d, n in submitted.items() if n > 1]
    received = Counter(str(m["Message-ID"]) for m in inbox.messages)
    assert set(received) == message_ids, "a requisition never reached the SMTP server, or one no requisition sent"
    assert sum(received.values()) - len(received) <= resent_at_most, received
    verified = subprocess.run([BLOCKLIST, "audit", "verify"], env={**os.environ, **{
        "DATABASE_URL": rt.settings.resolved_database_url(), "BLOCKLIST_DATA_DIR": str(rt.settings.data_dir)}},
        capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def ready(base: str) -> bool:
    """Whether the process at `base` answers /readyz with 200 (a scheduler is known to run, among the rest)."""
    try:
        return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def fresh(beat_at: dt.datetime, within: float = 10) -> bool:
    """Whether a heartbeat is recent."""
    return utcnow() - beat_at < dt.timedelta(seconds=within)
