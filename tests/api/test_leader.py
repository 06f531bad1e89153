"""The scheduler's leader on PostgreSQL: kill -9 the leader in the middle of its work, another process takes the
lead within 15 s and resumes what it left (a bulk submission half recorded), and no job's work is done twice; a
SIGTERM hands the lead on only after the running job finished."""

from __future__ import annotations

import signal
import time
import uuid
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.runtime import Runtime
from blocklist.models import Submission, SubmissionBatch
from tests.support import cluster
from tests.support.crash import case
from tests.support.server import ServerProcess
from tests.support.smtp import SmtpServer

TAKEOVER_SECONDS = 15
BATCH_NAMES = 3000  # twelve chunks of 250: seconds of work, so the kill lands in the middle of it


def _batch(base: str, officer: dict[str, str], label: str) -> int:
    body = {k: v for k, v in case("x.test", f"LEADER/2026/{label}").items() if k != "domain"}
    answer = httpx.post(f"{base}/api/v1/submissions/batches", timeout=60, headers={
        **officer, "Idempotency-Key": str(uuid.uuid4())},
        json={**body, "domains": [f"b{i}.{label}.leader.test" for i in range(BATCH_NAMES)]})
    assert answer.status_code == 202, answer.text
    return int(answer.json()["id"])


def _batch_state(rt: Runtime, batch_id: int) -> tuple[str, int]:
    with rt.database.reading() as session:
        batch = session.get(SubmissionBatch, batch_id)
        assert batch is not None
        return batch.status, batch.done


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kill_9_the_leader_another_takes_over_and_nothing_runs_twice(pg_rt: Runtime, smtp: SmtpServer,
                                                                     tmp_path: Path) -> None:
    officer, magistrate = cluster.staff(pg_rt)
    env = cluster.environment(pg_rt, smtp.port)
    servers = [ServerProcess(env, output=tmp_path / f"serve-{n}.log") for n in range(2)]
    scheduler = cluster.SchedulerProcess(env, tmp_path / "scheduler.log")
    killed: list[int] = []
    try:
        scheduler.start()  # the first to ask: it leads, and the serving processes wait
        cluster.wait_until(lambda: cluster.leader(pg_rt) is not None, "a first leader", 60)
        for server in servers:
            server.start()
            cluster.wait_until(partial(cluster.ready, server.base), f"{server.base} ready", 60)
        bases = [s.base for s in servers]
        cluster.submit_and_approve(bases, officer, magistrate, [f"n{i}.first.leader.test" for i in range(10)])

        for round_no, victim in enumerate(("scheduler", "server")):
            holder = cluster.leader(pg_rt)
            assert holder is not None
            batch_id = _batch(bases[-1], officer, f"r{round_no}")
            cluster.wait_until(lambda b=batch_id: _batch_state(pg_rt, b)[1] > 0, "the batch started", 60)  # type: ignore[misc]
            # The leader is killed between two of the batch's chunks or in one (which then rolls back whole).
            leading = next(p for p in [scheduler, *servers] if p.pid == holder[0])
            assert (victim == "scheduler") == (leading is scheduler), f"round {round_no}: {holder} leads"
            leading.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            leading.process.wait(timeout=10)  # type: ignore[union-attr]
            killed.append(holder[0])
            died = time.monotonic()
            assert _batch_state(pg_rt, batch_id)[0] == "running"
            took = cluster.wait_until(lambda: _new_leader(pg_rt, killed), "another process leads", 30)
            print(f"round {round_no}: {holder[0]} killed; the lead taken over in {time.monotonic() - died:.1f} s")
            assert took < TAKEOVER_SECONDS
            alive = [s for s in servers if s.pid not in killed]
            # Work goes on through the processes that remain, and the next leader resumes the batch.
            cluster.submit_and_approve([s.base for s in alive], officer, magistrate,
                                       [f"n{i}.after{round_no}.leader.test" for i in range(10)])
            cluster.wait_until(lambda b=batch_id: _batch_state(pg_rt, b)[0] == "done", "the batch resumed", 180)  # type: ignore[misc]
        cluster.wait_until(lambda: cluster.all_done(pg_rt, smtp.inbox), "the scheduler caught up with every order", 180)
    finally:
        for server in servers:
            server.stop()
        scheduler.stop()
    with pg_rt.database.reading() as session:
        for batch in session.execute(select(SubmissionBatch)).scalars():
            assert (batch.status, batch.done, batch.submitted) == ("done", BATCH_NAMES, BATCH_NAMES)
        batched = session.execute(select(func.count()).select_from(Submission)
                                  .where(Submission.case_number.like("LEADER/%"))).scalar_one()
        assert batched == 2 * BATCH_NAMES  # each name of each batch once, though its leader died midway
    # A kill during an SMTP conversation may make the next leader send that message again, with its Message-ID.
    cluster.assert_every_job_ran_once(pg_rt, smtp.inbox, resent_at_most=len(killed))


def _new_leader(rt: Runtime, killed: list[int]) -> bool:
    holder = cluster.leader(rt)
    return holder is not None and holder[0] not in killed and cluster.fresh(holder[1], within=4)


@pytest.mark.timeout(300)
def test_sigterm_finishes_the_running_job_then_hands_the_lead_on(pg_rt: Runtime, smtp: SmtpServer,
                                                                   tmp_path: Path) -> None:
    officer, _ = cluster.staff(pg_rt)
    env = cluster.environment(pg_rt, smtp.port)
    first = cluster.SchedulerProcess(env, tmp_path / "first.log")
    server = ServerProcess(env, output=tmp_path / "serve.log")
    try:
        first.start()
        cluster.wait_until(lambda: cluster.leader(pg_rt) is not None, "a first leader", 60)
        server.start()
        batch_id = _batch(server.base, officer, "term")
        cluster.wait_until(lambda: _batch_state(pg_rt, batch_id)[1] > 0, "the batch started", 60)
        assert first.stop() == 0  # SIGTERM: a clean exit...
        log = (tmp_path / "first.log").read_text()
        assert "stopped; the running jobs finished, the lead is free" in log  # ...after the job in hand
        assert first.pid is not None
        took = cluster.wait_until(lambda: _new_leader(pg_rt, [first.pid]), "the server leads", 30)  # type: ignore[list-item]
        assert took < cluster_lead_interval()
        cluster.wait_until(lambda: _batch_state(pg_rt, batch_id)[0] == "done", "the batch finished", 180)
    finally:
        server.stop()
        first.stop()


def cluster_lead_interval() -> float:
    """A freed lead is taken at the next ask of a waiting process (plus a heartbeat's write)."""
    from api.scheduler import LEAD_SECONDS

    return LEAD_SECONDS + 2


def test_the_leader_lock_has_one_holder_at_a_time(rt: Runtime) -> None:
    """On both backends: a second process's lock is refused while the first holds it, granted once it is free."""
    from api.leader import leader_lock

    url = rt.settings.resolved_database_url()
    first, second = leader_lock(url), leader_lock(url)
    try:
        assert first.try_acquire() and first.try_acquire()  # asking again while holding it: still held
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
