"""Failover on loopback: a PostgreSQL primary with a synchronous streaming standby (pg_basebackup), a real
`blocklist serve` on a DATABASE_URL that names both. During a storm of keyed submissions the primary is killed with
SIGKILL and the standby promoted (`pg_ctl promote`); the server, never restarted, reconnects by itself. Every request
not answered 201 is retried with its Idempotency-Key: every acknowledged submission is there exactly once, with the
id it was given; the scheduler's lead is taken anew on the promoted server and its jobs go on (the feed serials stay
one gapless sequence, each requisition is made and sent once); the audit chain verifies (the CLI's check).
The procedure is the one docs/operations/scale-out.md gives. PostgreSQL only."""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.runtime import Runtime, upgrade_database
from blocklist.models import Submission
from blocklist.settings import Settings
from tests.conftest import BACKENDS
from tests.support import cluster, postgres
from tests.support.ci import missing
from tests.support.crash import Request, case, fire
from tests.support.server import ServerProcess
from tests.support.smtp import SmtpServer

STORM = 200  # concurrent keyed submissions, during which the primary dies
RETRY_SECONDS = 120  # how long the unanswered may take to be answered once the standby is promoted
DETECTION_SECONDS = 1.0  # between the primary's death and the promotion: requests meet no writable server


@pytest.fixture
def pair() -> Iterator[tuple[postgres.Server, postgres.Server]]:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL not among BLOCKLIST_TEST_DATABASES")
    if not postgres.replication_available():
        missing("PostgreSQL", "install Debian's postgresql package (initdb, pg_ctl, pg_basebackup; .ci/packages)")
    with postgres.replicated_pair() as servers:
        yield servers


def _fail_over(primary: postgres.Server, standby: postgres.Server, *, after: int) -> None:
    """Kill the primary once `after` submissions of the storm are committed on it, then promote the standby. By
    progress, not by a timer: a server fast enough answered the whole storm before a fixed moment came."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{primary.url}/blocklist", isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while time.monotonic() < deadline and conn.execute(text(
                "SELECT count(*) FROM submissions WHERE domain LIKE '%.storm.failover.test'")).scalar_one() < after:
            time.sleep(0.002)
    engine.dispose()
    primary.kill()
    time.sleep(DETECTION_SECONDS)
    standby.promote()


def _answers(base: str, requests: list[Request]) -> dict[int, tuple[int, Any, bool]]:
    return {i: (status, json.loads(text), replayed) for i, (status, text, replayed) in fire(base, requests).items()}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_the_primary_promote_the_standby_nothing_acknowledged_is_lost(
        pair: tuple[postgres.Server, postgres.Server], smtp: SmtpServer, tmp_path: Path) -> None:
    primary, standby = pair
    rng = random.Random(os.environ.get("FAILOVER_SEED", "failover"))
    primary.sql("CREATE DATABASE blocklist")
    url = postgres.multi_host_url([primary, standby], "blocklist")
    upgrade_database(url)
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=tmp_path / "data", DATABASE_URL=url,  # type: ignore[call-arg]
                          scheduler=False, feed_gate_min_changes=1_000_000))
    officer, magistrate = cluster.staff(rt)
    server = ServerProcess(cluster.environment(rt, smtp.port), args=("--workers", "2"), output=tmp_path / "serve.log")
    names = [f"n{i}.storm.failover.test" for i in range(STORM)]
    requests = [("/api/v1/submissions", case(n, "FAILOVER/2026/1"), {**officer, "Idempotency-Key": str(uuid.uuid4())})
                for n in names]
    try:
        server.start()
        cluster.wait_until(partial(cluster.ready, server.base), "the server ready", 60)
        # Work the scheduler finished on the primary: the feed and the requisitions continue from it.
        cluster.submit_and_approve([server.base], officer, magistrate, [f"n{i}.before.failover.test" for i in range(5)])
        cluster.wait_until(lambda: cluster.all_done(rt, smtp.inbox), "the scheduler caught up before the failover")

        failover = threading.Thread(target=_fail_over, args=(primary, standby),
                                    kwargs={"after": rng.randint(10, STORM // 2)})
        failover.start()
        first = _answers(server.base, requests)
        failover.join()
        statuses = Counter(status for status, _, _ in first.values())
        print(f"during the failover: {dict(statuses)}, {STORM - len(first)} unanswered")
        # A request that met the failover is told to come back (503), never given a 500.
        assert set(statuses) <= {201, 503}, [body for status, body, _ in first.values() if status not in (201, 503)]
        acknowledged = {i: body for i, (status, body, _) in first.items() if status == 201}
        assert len(acknowledged) < STORM, "the failover came after the storm: it proved nothing"
        before = sorted(acknowledged)

        pending = [i for i in range(STORM) if i not in acknowledged]
        deadline = time.monotonic() + RETRY_SECONDS
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} requests still unanswered after the promotion"
            for j, (status, body, _) in _answers(server.base, [requests[i] for i in pending]).items():
                assert status in (201, 503), body
                if status == 201:
                    acknowledged[pending[j]] = body
            pending = [i for i in pending if i not in acknowledged]
            time.sleep(1 if pending else 0)
        assert server.process is not None and server.process.poll() is None, "the server had to be restarted"

        # What was answered before the primary died, sent again, gets the same answer back from the promoted one.
        sample = rng.sample(before, min(10, len(before)))
        for j, (status, body, replayed) in _answers(server.base, [requests[i] for i in sample]).items():
            assert (status, body, replayed) == (201, acknowledged[sample[j]], True)
        with rt.database.reading() as session:
            stored = {domain: id_ for domain, id_ in session.execute(
                select(Submission.domain, Submission.id).where(Submission.domain.like("%.storm.failover.test")))}
        assert stored == {names[i]: body["id"] for i, body in acknowledged.items()}  # each once, with its id
        assert standby.sql("SELECT pg_is_in_recovery()") == [(False,)]

        # The lead was lost with the old primary's connection: taken anew on the promoted one, the jobs go on.
        cluster.wait_until(partial(cluster.ready, server.base), "a scheduler leads again", 60)
        cluster.submit_and_approve([server.base], officer, magistrate, [f"n{i}.after.failover.test" for i in range(5)])
        cluster.wait_until(lambda: cluster.all_done(rt, smtp.inbox), "the scheduler caught up after the failover")
    finally:
        server.stop()
    try:
        cluster.assert_every_job_ran_once(rt, smtp.inbox)
    finally:
        rt.database.dispose()
