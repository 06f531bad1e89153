"""kill -9 at random points of a storm: nothing acknowledged is lost, a retried request is done exactly once.

Each round fires 200 concurrent keyed submissions at a real `blocklist serve` (scheduler on), kills it with
SIGKILL once a random number of them is answered (the rest in flight or queued), restarts it, retries every
unanswered request with its Idempotency-Key; then the same with 100 concurrent keyed approvals. After all
rounds: every acknowledged write is there exactly once, every order has its requisitions (each made and sent
once, to a real SMTP server), the feed serials are gapless
and the audit chain verifies.
Rounds: CRASH_ROUNDS_SQLITE (5) and CRASH_ROUNDS_POSTGRESQL (3), two kills each, at points drawn from CRASH_SEED;
a longer hunt sets more rounds or another seed (`CRASH_ROUNDS_SQLITE=50 CRASH_SEED=2 pytest tests/api/test_crash.py`),
and bench/bench_crash.py counts losses over many kills.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.runtime import Runtime
from blocklist import audit, isps
from blocklist.models import AuditEvent, Order, Submission, utcnow
from isp_feed import jobs as feed_jobs
from isp_feed.models import FeedVersionRow
from requisitions import delivery
from requisitions import jobs as requisition_jobs
from requisitions.models import Requisition
from tests.support.cluster import assert_every_job_ran_once
from tests.support.crash import Request, case, fire
from tests.support.factories import confirmed_token
from tests.support.server import ServerProcess
from tests.support.smtp import SmtpServer

SUBMISSIONS = 200
APPROVALS = 100
Answer = tuple[int, dict[str, Any], bool]  # status, body, replayed


def _rounds(backend: str) -> int:
    return int(os.environ.get(f"CRASH_ROUNDS_{backend.upper()}", {"sqlite": 5, "postgresql": 3}[backend]))


def _json(answers: dict[int, tuple[int, str, bool]]) -> dict[int, Answer]:
    return {i: (status, json.loads(text), replayed) for i, (status, text, replayed) in answers.items()}


def _crash_and_retry(server: ServerProcess, requests: list[Request],
                     rng: random.Random, ok: int) -> tuple[dict[int, Answer], dict[int, Answer], int]:
    """One kill: (answers before the kill, answers to the retries, how many went unanswered)."""
    before = _json(fire(server.base, requests, kill=server, after_answers=rng.randint(1, len(requests) - 20)))
    assert 0 < len(before) < len(requests), "the kill fell outside the storm"
    server.start()
    missing = [i for i in range(len(requests)) if i not in before]
    retried = _json(fire(server.base, [requests[i] for i in missing]))
    retried = {missing[j]: answer for j, answer in retried.items()}
    for i, (status, body, _) in {**before, **retried}.items():
        assert status == ok, f"request {i}: {status} {body}"
    assert len(retried) == len(missing), "a retry went unanswered on a running server"
    # A request answered before the kill, sent again, gets the same answer back (replayed, not redone).
    sample = rng.sample(sorted(before), min(5, len(before)))
    again = _json(fire(server.base, [requests[i] for i in sample]))
    for j, i in enumerate(sample):
        assert again[j][0] == before[i][0] and again[j][1] == before[i][1] and again[j][2], (before[i], again[j])
    return before, retried, len(missing)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_kill_9_loses_nothing_acknowledged(rt: Runtime, db_url: str, tmp_path: Path, smtp: SmtpServer) -> None:
    backend = rt.database.dialect
    rng = random.Random(os.environ.get("CRASH_SEED", "kill-9"))
    with rt.database.transaction() as session:
        officer = {"Authorization": f"Bearer {confirmed_token(session, 'crash-officer', 'officer')}"}
        magistrate = {"Authorization": f"Bearer {confirmed_token(session, 'crash-magistrate', 'magistrate')}"}
        isps.add_isp(session, actor="test", name="Crash ISP", email="noc@crash-isp.example", language="nl")
    server = ServerProcess({
        "DATABASE_URL": db_url, "BLOCKLIST_DATA_DIR": str(rt.settings.data_dir),
        # A real SMTP server: the server's scheduler delivers the requisitions while it is being killed.
        "BLOCKLIST_SCHEDULER": "true", "BLOCKLIST_SMTP_PORT": str(smtp.port),
        "BLOCKLIST_REQUISITION_RENDER_WORKERS": "1", "BLOCKLIST_SESSION_COOKIE_SECURE": "false",
        # Each round approves 100 more names: more than the publication gate lets through unconfirmed.
        "BLOCKLIST_FEED_GATE_MIN_CHANGES": "1000000"})
    rt.settings.feed_gate_min_changes = 1_000_000
    rt.settings.smtp_port = smtp.port
    acknowledged: dict[str, int] = {}
    unanswered = kills = 0
    server.start()
    try:
        for round_no in range(_rounds(backend)):
            names = [f"n{i}.round{round_no}.crash.test" for i in range(SUBMISSIONS)]
            submits = [("/api/v1/submissions", case(n), {**officer, "Idempotency-Key": str(uuid.uuid4())})
                       for n in names]
            before, retried, lost = _crash_and_retry(server, submits, rng, ok=201)
            unanswered, kills = unanswered + lost, kills + 1
            for i, (_, body, _) in {**before, **retried}.items():
                assert body["domain"] == names[i]
                acknowledged[names[i]] = body["id"]
            chosen = rng.sample(names, APPROVALS)
            approvals = [(f"/api/v1/submissions/{acknowledged[n]}/approve", {"reason": "crash test"},
                          {**magistrate, "Idempotency-Key": str(uuid.uuid4())}) for n in chosen]
            _, _, lost = _crash_and_retry(server, approvals, rng, ok=200)
            unanswered, kills = unanswered + lost, kills + 1
    finally:
        server.stop()
    print(f"{backend}: {_rounds(backend)} rounds, {unanswered} requests unanswered at a kill and retried")
    # The next scheduler ticks (run here, in order): the feed carries every order, every order its requisitions.
    feed_jobs.publish_feed(rt.job_context)
    requisition_jobs.issue_pending(rt.job_context)
    # Every requisition still pending (its send cut by a kill waits for its retry time): sent now.
    delivery.deliver_due(rt.database, rt.settings, now=utcnow() + dt.timedelta(days=1))
    with rt.database.reading() as session:
        stored = {domain: id_ for domain, id_ in session.execute(
            select(Submission.domain, Submission.id).where(Submission.domain.like("%.crash.test")))}
        assert stored == acknowledged  # every acknowledged submission, once, with the id it was given
        approved = Counter(session.execute(select(AuditEvent.object_id)
                                           .where(AuditEvent.action == "submission.approved")).scalars())
        assert len(approved) == APPROVALS * _rounds(backend) and set(approved.values()) == {1}
        assert session.execute(select(func.count()).select_from(Submission)
                               .where(Submission.status == "approved")).scalar_one() == len(approved)
        orders = set(session.execute(select(Order.id)).scalars())
        with_requisitions = set(session.execute(select(Requisition.order_id).distinct()).scalars())
        assert orders and orders <= with_requisitions, f"orders without requisitions: {orders - with_requisitions}"
        serials = list(session.execute(select(FeedVersionRow.serial).order_by(FeedVersionRow.serial)).scalars())
        assert serials == list(range(serials[0], serials[0] + len(serials)))
        status = audit.verify(session)
        assert status.intact, status.describe()
    # No order without its requisition, none made or sent twice (a send cut by a kill may reach the SMTP server
    # again, with the same Message-ID), no feed version skipped.
    assert_every_job_ran_once(rt, smtp.inbox, isps=1, resent_at_most=kills)
