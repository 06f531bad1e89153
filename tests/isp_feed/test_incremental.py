"""Incremental publication equals a whole rebuild: for random runs of approvals, lifts and ticks, every version's
list, files, hashes and holds are what rebuilding the whole list from the tables gives; an idle tick does nothing;
holds are closed when overtaken and a confirmation publishes on the next tick."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.db import Database
from blocklist.errors import BlocklistError
from blocklist.jobs import PolicyCache
from blocklist.models import User
from blocklist.settings import Settings
from isp_feed import candidate, publish, versions
from isp_feed.jobs import FeedJobContext, publish_feed
from isp_feed.keys import KeyStore
from isp_feed.models import FeedHold
from isp_feed_client import formats, stored
from tests.support.factories import approved, make_user

NAMES = ["a.test", "a-b.test", "csam-gallery.test", "m.test", "xn--bcher-kva.example", "z.test"]
OPS = st.lists(st.tuples(st.sampled_from(["approve", "lift", "tick"]), st.sampled_from(NAMES),
                         st.sampled_from(formats.SCOPES)), min_size=1, max_size=14)


def _reference_reasons(before: tuple[formats.FeedEntry, ...], after: tuple[formats.FeedEntry, ...],
                       protected: set[str], gate: Settings) -> bool:
    """Whether the gate holds, judged the way a whole rebuild would: from the two whole lists."""
    old, new = {e.name for e in before}, {e.name for e in after}
    changed = len(new - old) + len(old - new)
    return bool((new - old) & protected) or changed > max(gate.feed_gate_min_changes,
                                                           gate.feed_gate_share * len(old))


def _check_latest(database: Database, data_dir: Path) -> None:
    with database.reading() as s:
        latest = versions.latest_version(s)
        assert latest is not None
        whole = candidate.current_candidate(s)
        entries = versions.entries_of(s, latest)
        signed = versions.manifest_of(latest)
        content = versions.content_row(s, latest)
        assert content.content_generated_at is not None
        # the list the deltas built is the list a whole rebuild gives, and what the manifest signs
        rebuilt = formats.FeedVersion(content.serial, content.content_generated_at, whole.entries,
                                      latest.stop_page_name, latest.stop_page_ipv4, latest.stop_page_ipv6)
        assert entries == whole.entries and signed.list_sha256 == whole.set_hash == latest.set_hash
        for ext, body in formats.render_all(rebuilt).items():
            on_disk = versions.file_bytes(s, latest, ext, data_dir)
            assert on_disk == body, ext
            assert hashlib.sha256(on_disk).hexdigest() == signed.files[ext].sha256


@pytest.fixture
def template(sqlite_template: Path) -> Path:
    return sqlite_template


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, strict=st.booleans())
def test_incremental_versions_equal_a_whole_rebuild(template: Path, tmp_path_factory: pytest.TempPathFactory,
                                                    ops: list[tuple[str, str, str]], strict: bool) -> None:
    folder = tmp_path_factory.mktemp("incremental")
    shutil.copyfile(template, folder / "db.sqlite3")
    gate = {"feed_gate_min_changes": 0, "feed_gate_share": 0.34} if strict else {}
    config = Settings(BLOCKLIST_DATA_DIR=folder / "data", DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",  # type: ignore[call-arg]
                      scheduler=False, session_cookie_secure=False, **gate)
    rt = Runtime(config)
    try:
        with rt.database.transaction() as s:
            officer, magistrate, second = (make_user(s, "officer"), make_user(s, "magistrate"),
                                           make_user(s, "magistrate"))
        ctx = rt.job_context
        assert publish_feed(ctx) == 1
        _check_latest(rt.database, config.data_dir)
        for op, name, scope in [*ops, ("tick", "", "")]:
            if op == "approve":
                with rt.database.transaction() as s:
                    if name not in set(s.execute(workflow_blocked()).scalars()):
                        try:
                            with s.begin_nested():
                                approved(s, officer, magistrate, name, scope=scope)
                        except BlocklistError:
                            pass  # e.g. a name the workflow refuses again: not this test's subject
            elif op == "lift":
                with rt.database.transaction() as s:
                    if name in set(s.execute(workflow_blocked()).scalars()):
                        workflow.lift(s, actor=magistrate, domain=name, reason="content removed")
            else:
                _tick_and_check(rt, config, second)
    finally:
        rt.database.dispose()


def workflow_blocked():  # type: ignore[no-untyped-def]
    from blocklist import queries

    return queries.blocked_names()


def _tick_and_check(rt: Runtime, config: Settings, confirmer: User) -> None:
    with rt.database.reading() as s:
        latest = versions.latest_version(s)
        assert latest is not None
        before = versions.entries_of(s, latest)
        after = candidate.current_candidate(s).entries
    policy = PolicyCache(config)
    with rt.database.reading() as s:
        protected = {e.name for e in after if policy(s).protected_match(e.name, e.scope) is not None}
    held = before != after and _reference_reasons(before, after, protected, config)
    serial = publish_feed(rt.job_context)
    with rt.database.transaction() as s:
        pending = publish.pending_holds(s)
        if held:
            assert serial is None and len(pending) == 1  # held exactly when a whole rebuild would be
            publish.confirm_hold(s, actor=confirmer, hold_id=pending[0].id)
        else:
            assert (serial is not None) == (before != after) and pending == []
    if held:
        assert publish_feed(rt.job_context) is not None  # the confirmation publishes on the next tick
    _check_latest(rt.database, config.data_dir)


def test_an_idle_tick_reads_nothing_proportional_to_the_list(
        database: Database, settings: Settings, people: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = FeedJobContext.standalone(database, settings)
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    assert publish_feed(ctx) == 1
    assert publish_feed(ctx) is None  # nothing new: remembered (latest serial, audit head)
    planned: list[object] = []
    real = publish._plan
    monkeypatch.setattr(publish, "_plan", lambda *a, **k: planned.append(a) or real(*a, **k))
    for _ in range(5):
        assert publish_feed(ctx) is None
    assert planned == []  # not even the audit events since the last version were read
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "second-gallery.test")
    assert publish_feed(ctx) == 2 and len(planned) == 1


def test_hourly_reissue_is_a_new_manifest_over_the_same_files(
        database: Database, settings: Settings, people: dict[str, User]) -> None:
    ctx = FeedJobContext.standalone(database, settings)
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    assert publish_feed(ctx) == 1
    files = sorted(p.name for p in (settings.data_dir / "feed" / "files").iterdir())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert publish_feed(ctx, now=later) == 2
    assert sorted(p.name for p in (settings.data_dir / "feed" / "files").iterdir()) == files
    with database.reading() as s:
        one, two = versions.manifest_of(versions.get_version(s, 1)), versions.manifest_of(versions.get_version(s, 2))
        assert (two.content_serial, two.files, two.count) == (1, one.files, one.count)
        assert two.expires_at > one.expires_at and two.previous_sha256 == versions.get_version(s, 1).manifest_sha256


def test_an_overtaken_hold_is_closed_and_a_confirmation_publishes_at_once(
        database: Database, settings: Settings, people: dict[str, User]) -> None:
    strict = settings.model_copy(update={"feed_gate_min_changes": 2, "feed_gate_share": 0.10})
    ctx = FeedJobContext(database, strict, PolicyCache(strict), KeyStore(strict.data_dir / "keys"))
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "a1.test", "a2.test")
    assert publish_feed(ctx) == 1
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "b1.test", "b2.test", "b3.test")
    assert publish_feed(ctx) is None
    with database.transaction() as s:  # more names arrive while the first change waits: a second, larger hold
        approved(s, people["officer"], people["magistrate"], "c1.test")
    assert publish_feed(ctx) is None
    with database.transaction() as s:
        first, second = publish.pending_holds(s)
        assert (first.added, second.added) == (3, 4)
        assert first.listed("added") == ["b1.test", "b2.test", "b3.test"] and first.listed("removed") == []
        publish.confirm_hold(s, actor=people["magistrate2"], hold_id=second.id)
    assert publish_feed(ctx) == 2  # the very next tick publishes the confirmed change
    with database.reading() as s:
        assert versions.get_version(s, 2).count == 6
        assert publish.pending_holds(s) == []  # the first hold was overtaken: closed, with why
        closed = {h.id: h.closed_reason for h in s.query(FeedHold)}
        assert "overtaken" in str(closed[first.id]) and "published as serial 2" in str(closed[second.id])


def test_files_of_older_lists_are_pruned_and_the_latest_kept(
        rt: Runtime, settings: Settings, people: dict[str, User]) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from isp_feed.jobs import reconcile_feed
    from tests.support.factories import make_isp

    keep = settings.model_copy(update={"feed_keep_files": 2})
    ctx = FeedJobContext(rt.database, keep, PolicyCache(keep), rt.keys)
    for serial, name in enumerate(["one.test", "two.test", "three.test", "four.test"], start=1):
        with rt.database.transaction() as s:
            approved(s, people["officer"], people["magistrate"], name)
        assert publish_feed(ctx) == serial
    assert reconcile_feed(ctx) == []
    with rt.database.reading() as s:
        # Serial 2 is neither kept nor part of a kept one; serial 1's whole files are what the pieces of 3 and 4
        # are made of (isp_feed_client/stored.py), so they stay until a format is written whole again.
        assert not stored.is_stored(versions.file_path(s, versions.get_version(s, 2), "rpz", settings.data_dir))
        assert all(stored.intact_size(versions.file_path(s, versions.get_version(s, serial), ext, settings.data_dir))
                   for serial in (1, 3, 4) for ext in formats.EXTENSIONS)
    with rt.database.transaction() as s:
        credential = isps.rotate_credential(s, actor="test", isp=make_isp(s))
    client = TestClient(create_app(rt))
    gone = client.get("/feed/v1/versions/2.rpz", headers={"Authorization": f"Bearer {credential}"})
    assert gone.status_code == 404 and "no longer kept" in gone.json()["reason"]
    assert client.get("/feed/v1/versions/3.rpz", headers={"Authorization": f"Bearer {credential}"}).status_code == 200
