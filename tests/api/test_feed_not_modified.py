"""The feed's 304 from memory (api/feed_not_modified.py): only where the route would answer 304, never stale."""

from __future__ import annotations

import threading

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import feed_not_modified
from api.app import create_app
from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.models import Isp, User
from blocklist.names import NamePolicy
from isp_feed import serving
from isp_feed.jobs import publish_feed
from isp_feed.models import FeedFetch
from tests.blocklist.helpers import submission
from tests.support.statements import counted

MANIFEST = "/feed/v1/latest.manifest.json"


@pytest.fixture
def app(rt: Runtime) -> FastAPI:
    return create_app(rt)  # no lifespan: each test refreshes the cache itself (no timing)


@pytest.fixture
def credential(rt: Runtime) -> str:
    with rt.database.transaction() as s:
        token = isps.add_isp(s, actor="test", name="ISP One", email="noc@one.example", language="fr")[1]
    publish_feed(rt.job_context)
    return token


def _refreshed(app: FastAPI) -> feed_not_modified.LatestManifest:
    latest: feed_not_modified.LatestManifest = app.state.latest_manifest
    latest.refresh()
    return latest


def test_a_current_client_is_answered_304_without_a_statement(rt: Runtime, app: FastAPI, credential: str) -> None:
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {credential}"}
    etag = client.get(MANIFEST, headers=auth).headers["etag"]
    by_route = client.get(MANIFEST, headers={**auth, "If-None-Match": etag})  # the cache was never read
    assert by_route.status_code == 304
    _refreshed(app)
    with counted(rt.database.engine) as statements:
        fast = client.get(MANIFEST, headers={**auth, "If-None-Match": etag, "X-Request-ID": "poll-1"})
    assert fast.status_code == 304 and statements == []
    for header in ("etag", "x-feed-serial", "cache-control", "x-content-type-options"):
        assert fast.headers[header] == by_route.headers[header], header
    assert fast.headers["x-request-id"] == "poll-1"
    rt.job_context.fetch_log.flush(rt.database)
    with rt.database.reading() as s:
        logged = s.execute(select(FeedFetch.status, FeedFetch.ext)).all()
    assert logged.count((304, "manifest.json")) == 2  # both 304s, the route's and the cache's


def test_anything_the_route_would_not_answer_304_goes_to_the_route(rt: Runtime, app: FastAPI, credential: str,
                                                                    people: dict[str, User],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {credential}"}
    etag = client.get(MANIFEST, headers=auth).headers["etag"]
    _refreshed(app)
    assert client.get(MANIFEST, headers={**auth, "If-None-Match": '"other"'}).status_code == 200
    assert client.get(MANIFEST, headers={"Authorization": "Bearer isp_wrong", "If-None-Match": etag}
                      ).status_code == 401
    assert client.get(MANIFEST, headers={"Authorization": f"Basic {credential}", "If-None-Match": etag}
                      ).status_code == 401
    # A new version: the old ETag gets the new manifest.
    with rt.database.transaction() as s:
        sub = workflow.submit(s, actor=people["officer"], data=submission(), policy=NamePolicy.build())
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub.id])
    assert publish_feed(rt.job_context) == 2
    # At once, before the cache read the database again: the publisher's marker no longer gives the old ETag.
    assert client.get(MANIFEST, headers={**auth, "If-None-Match": etag}).status_code == 200
    _refreshed(app)
    newer = client.get(MANIFEST, headers={**auth, "If-None-Match": etag})
    assert newer.status_code == 200 and newer.headers["x-feed-serial"] == "2"
    etag = newer.headers["etag"]
    assert client.get(MANIFEST, headers={**auth, "If-None-Match": etag}).status_code == 304
    # The ISP disabled (an audit event): refused, as the route refuses it.
    with rt.database.transaction() as s:
        isp = s.execute(select(Isp).where(Isp.name == "ISP One")).scalar_one()
        isps.set_active(s, actor="test", isp=isp, active=False)
    _refreshed(app)
    assert client.get(MANIFEST, headers={**auth, "If-None-Match": etag}).status_code == 403
    # No marker (another host published, or none ever did here): the route answers.
    marker = serving.latest_marker(rt.settings.data_dir)
    kept = marker.read_bytes()
    marker.unlink()
    with counted(rt.database.engine) as statements:
        assert client.get(MANIFEST, headers={**auth, "If-None-Match": etag}).status_code == 403
    assert statements
    marker.write_bytes(kept)
    # A cache that went stale (its task stopped, the database gone): every request goes to the route.
    with rt.database.transaction() as s:
        isp = s.execute(select(Isp).where(Isp.name == "ISP One")).scalar_one()
        isps.set_active(s, actor="test", isp=isp, active=True)
    _refreshed(app)
    monkeypatch.setattr(feed_not_modified, "STALE_SECONDS", -1.0)
    with counted(rt.database.engine) as statements:
        assert client.get(MANIFEST, headers={**auth, "If-None-Match": etag}).status_code == 304
    assert statements  # answered by the route


def test_the_cache_is_kept_fresh_by_the_apps_own_task(rt: Runtime, credential: str) -> None:
    with TestClient(create_app(rt)) as client:  # the lifespan runs keep_fresh
        auth = {"Authorization": f"Bearer {credential}"}
        etag = client.get(MANIFEST, headers=auth).headers["etag"]
        latest: feed_not_modified.LatestManifest = client.app.state.latest_manifest  # type: ignore[attr-defined]
        assert latest.not_modified(credential, etag) is not None


@pytest.mark.parametrize(("prefer", "seconds"), [
    (None, 0.0), ("wait=5", 5.0), ("respond-async, wait=100", feed_not_modified.WAIT_LIMIT), ("wait=abc", 0.0),
    ("handling=lenient; Wait = 2.5", 2.5), ('wait="3"', 3.0), ("waiting=4", 0.0), ("wait=-1", 0.0)])
def test_prefer_wait_is_read_as_rfc_7240_says_and_capped(prefer: str | None, seconds: float) -> None:
    assert feed_not_modified.asked_wait(prefer) == seconds


def _fresh_for_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    # No lifespan here, so no keep_fresh: the one read of _refreshed must not go stale (STALE_SECONDS) while the test
    # holds a poll, or a loaded machine (the whole suite) ends the hold early and the route answers in its place.
    monkeypatch.setattr(feed_not_modified, "STALE_SECONDS", 60.0)


def test_a_held_poll_is_answered_with_the_version_published_meanwhile(rt: Runtime, app: FastAPI, credential: str,
                                                                       people: dict[str, User],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_for_the_test(monkeypatch)
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {credential}"}
    etag = client.get(MANIFEST, headers=auth).headers["etag"]
    _refreshed(app)
    answers: list[object] = []
    held = threading.Thread(target=lambda: answers.append(client.get(
        MANIFEST, headers={**auth, "If-None-Match": etag, "Prefer": f"wait={feed_not_modified.WAIT_LIMIT:g}"})))
    held.start()
    held.join(0.5)
    assert held.is_alive() and answers == []  # held: nothing was published
    with rt.database.transaction() as s:
        sub = workflow.submit(s, actor=people["officer"], data=submission(), policy=NamePolicy.build())
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub.id])
    assert publish_feed(rt.job_context) == 2  # its marker tells the held request at once
    held.join(feed_not_modified.WAIT_LIMIT - 5)
    assert not held.is_alive(), "still held after the version was published"
    (answer,) = answers
    assert isinstance(answer, httpx.Response) and answer.status_code == 200
    assert answer.headers["x-feed-serial"] == "2" and answer.headers["etag"] != etag


def test_a_held_poll_with_nothing_new_ends_with_a_304_and_others_are_never_held(rt: Runtime, app: FastAPI,
                                                                                 credential: str,
                                                                                 monkeypatch: pytest.MonkeyPatch
                                                                                 ) -> None:
    _fresh_for_the_test(monkeypatch)
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {credential}"}
    etag = client.get(MANIFEST, headers=auth).headers["etag"]
    _refreshed(app)
    held = client.get(MANIFEST, headers={**auth, "If-None-Match": etag, "Prefer": "wait=0.2"})
    assert held.status_code == 304 and held.headers["preference-applied"] == "wait=0.2"  # the client asks again
    assert "preference-applied" not in client.get(MANIFEST, headers={**auth, "If-None-Match": etag}).headers
    # What the cache would not answer is the route's at once, held or not: another ETag, a wrong credential.
    assert client.get(MANIFEST, headers={**auth, "If-None-Match": '"other"', "Prefer": "wait=25"}).status_code == 200
    assert client.get(MANIFEST, headers={"Authorization": "Bearer isp_wrong", "If-None-Match": etag,
                                         "Prefer": "wait=25"}).status_code == 401
    rt.job_context.fetch_log.flush(rt.database)
    with rt.database.reading() as s:
        logged = s.execute(select(FeedFetch.status)).scalars().all()
    assert logged.count(304) == 2
