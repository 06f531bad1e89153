"""The scheduler hands every job the Runtime's one context: the cached name checks and key store, never rebuilt."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

import blocklist.jobs
from api import scheduler
from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from isp_feed import publish, versions
from isp_feed.keys import KeyStore
from isp_feed.models import FeedVersionRow
from tests.support.factories import approved


def _tick(rt: Runtime, name: str) -> Callable[[], None]:
    (job,) = [j for j in scheduler.scheduled_jobs() if j.name == name]
    return scheduler._guarded(job, rt)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[KeyStore, NamePolicy]]:
    """The key store and name policy each feed build was given (the build itself runs as usual)."""
    seen: list[tuple[KeyStore, NamePolicy]] = []
    real = publish.build

    def build(database: Any, *, keys: KeyStore, policy: Callable[[Session], NamePolicy],
              **kwargs: Any) -> FeedVersionRow | None:
        def recording(session: Session) -> NamePolicy:  # the policy is asked for only when a change needs it
            made = policy(session)
            seen.append((keys, made))
            return made

        return real(database, keys=keys, policy=recording, **kwargs)

    monkeypatch.setattr(publish, "build", build)
    return seen


@pytest.fixture
def policies_built(monkeypatch: pytest.MonkeyPatch) -> list[NamePolicy]:
    """Every name policy built from the shipped lists (the costly part: parsing them)."""
    made: list[NamePolicy] = []
    real = workflow.name_policy

    def counted(session: Session, **kwargs: Any) -> NamePolicy:
        made.append(real(session, **kwargs))
        return made[-1]

    monkeypatch.setattr(blocklist.jobs, "name_policy", counted)
    return made


def test_publish_ticks_reuse_the_runtimes_policy_and_key_store(
        rt: Runtime, people: dict[str, User], builds: list[tuple[KeyStore, NamePolicy]],
        policies_built: list[NamePolicy]) -> None:
    tick = _tick(rt, "feed.publish")
    tick()  # serial 1: empty
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    tick()  # serial 2: the new name passed the gate (the first version, empty, had no gate to ask)
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "second-gallery.test")
    tick()  # serial 3: the same policy again
    with rt.database.reading() as s:
        latest = versions.latest_version(s)
        assert latest is not None and latest.serial == 3 and latest.count == 2  # every tick really ran
        assert rt.name_policy(s) is builds[0][1]  # the requests' cache is the jobs' cache
    (keys1, policy1), (keys2, policy2) = builds
    assert keys1 is keys2 is rt.keys
    assert policy1 is policy2
    assert len(policies_built) == 1


def test_the_policy_is_rebuilt_only_when_the_isps_domains_change(
        rt: Runtime, people: dict[str, User], builds: list[tuple[KeyStore, NamePolicy]],
        policies_built: list[NamePolicy]) -> None:
    tick = _tick(rt, "feed.publish")
    tick()  # the first version, empty: no gate to ask
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "first-gallery.test")
    tick()
    with rt.database.transaction() as s:
        isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
        approved(s, people["officer"], people["magistrate"], "second-gallery.test")
    tick()
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "third-gallery.test")
    tick()
    assert len(builds) == 3 and len(policies_built) == 2
    (_, before), (_, after), (_, again) = builds
    assert before is not after and after is again
    assert before.protected_match("isp-one.example", "exact") is None
    assert after.protected_match("isp-one.example", "exact") == "isp-one.example"
    assert len({id(keys) for keys, _ in builds}) == 1


def test_every_job_receives_the_same_context(rt: Runtime) -> None:
    received: list[object] = []
    jobs = [scheduler.ScheduledJob(job.name, received.append, job.every_seconds) for job in scheduler.scheduled_jobs()]
    for job in jobs:
        scheduler._guarded(job, rt)()
        scheduler._guarded(job, rt)()
    assert len(received) == 2 * len(jobs) and all(ctx is rt.job_context for ctx in received)
    assert rt.job_context.database is rt.database and rt.job_context.settings is rt.settings


def test_a_job_runs_at_a_lower_cpu_priority_than_the_requests(rt: Runtime) -> None:
    """A scheduled job's thread yields the CPU to requests (nice 10); the rest of the process keeps its priority."""

    seen: list[int] = []
    job = scheduler.ScheduledJob("test.priority", lambda ctx: seen.append(
        os.getpriority(os.PRIO_PROCESS, threading.get_native_id())), 60)
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=scheduler._guarded(job, rt))
    thread.start()
    thread.join()
    assert seen == [max(before, blocklist.jobs.BACKGROUND_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
