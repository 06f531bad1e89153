"""Scale-out on PostgreSQL: two `blocklist serve` processes (one of them with two uvicorn workers) on one database,
submissions and approvals driven through both over loopback HTTP. Three processes compete for the scheduler's
leader lock and exactly one runs the jobs: every feed version, requisition and delivery is made once, the feed
serials form one gapless sequence and the audit chain verifies."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.runtime import Runtime
from blocklist.models import Order
from tests.support import cluster
from tests.support.server import ServerProcess
from tests.support.smtp import SmtpServer


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_processes_one_postgresql_every_job_once(pg_rt: Runtime, smtp: SmtpServer, tmp_path: Path) -> None:
    officer, magistrate = cluster.staff(pg_rt)
    env = cluster.environment(pg_rt, smtp.port)
    logs = tmp_path / "logs"
    logs.mkdir()
    servers = [ServerProcess(env, args=("--workers", "2"), output=logs / "a.log"),
               ServerProcess(env, output=logs / "b.log")]
    try:
        for server in servers:
            server.start()
        for server in servers:  # every process, leader or not, knows a scheduler runs
            cluster.wait_until(partial(cluster.ready, server.base), f"{server.base} ready", 60)
        for round_no in range(2):
            names = [f"n{i}.round{round_no}.cluster.test" for i in range(15)]
            cluster.submit_and_approve([s.base for s in servers], officer, magistrate, names)
        cluster.wait_until(lambda: cluster.all_done(pg_rt, smtp.inbox), "the scheduler caught up with every order")
        holder = cluster.leader(pg_rt)
        said = "".join(p.read_text() for p in sorted(logs.iterdir()))  # before the shutdown hands the lead on
    finally:
        for server in servers:
            server.stop()
    # Three processes competed (two workers of the first server, the second server): one led, all along. (Stopping
    # the servers one after another hands the lead on to the next, as it should: that is after this reading.)
    leads = [line for line in said.splitlines() if "is the leader and runs the jobs" in line]
    assert len(leads) == 1, leads
    assert holder is not None and f":{holder[0]} is the leader" in leads[0]
    cluster.assert_every_job_ran_once(pg_rt, smtp.inbox)
    with pg_rt.database.reading() as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 30  # one per approval


@pytest.mark.timeout(120)
def test_serve_trusts_forwarded_headers_only_from_configured_proxies(pg_rt: Runtime, tmp_path: Path) -> None:
    """Behind a reverse proxy, X-Forwarded-Proto/-For say how the client came; `serve` believes them only from
    BLOCKLIST_TRUSTED_PROXIES (default: nobody). Seen in an absolute URL the app builds (a redirect)."""
    base_env = {"DATABASE_URL": pg_rt.settings.resolved_database_url(),
                "BLOCKLIST_DATA_DIR": str(pg_rt.settings.data_dir), "BLOCKLIST_SCHEDULER": "false"}
    forwarded = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    untrusting = ServerProcess(base_env, output=tmp_path / "untrusting.log")
    trusting = ServerProcess({**base_env, "BLOCKLIST_TRUSTED_PROXIES": "127.0.0.1"}, args=("--workers", "2"),
                             output=tmp_path / "trusting.log")
    try:
        untrusting.start()
        trusting.start()
        for server, scheme in ((untrusting, "http"), (trusting, "https")):
            answer = httpx.get(f"{server.base}/api/v1/submissions/", headers=forwarded)
            assert answer.status_code == 307
            assert answer.headers["location"] == f"{scheme}://127.0.0.1:{server.port}/api/v1/submissions"
    finally:
        untrusting.stop()
        trusting.stop()
