"""The feed over HTTP: ISP credentials only, immutable versions, `latest`, ETag/304, diff, keys, acks, fetch log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from isp_feed import formats, signing
from isp_feed.jobs import publish_feed
from isp_feed.models import FeedFetch
from isp_feed.serving import feed_states
from tests.blocklist.helpers import submission


@pytest.fixture
def feed(rt: Runtime, people: dict[str, User]) -> dict[str, str]:
    with rt.database.transaction() as s:
        one = isps.add_isp(s, actor="test", name="ISP One", email="noc@one.example", language="fr")[1]
        two_isp, two = isps.add_isp(s, actor="test", name="ISP Two", email="noc@two.example", language="nl")
        isps.set_active(s, actor="test", isp=two_isp, active=False)
    publish_feed(rt.database, rt.settings)  # serial 1: empty
    with rt.database.transaction() as s:
        sub = workflow.submit(s, actor=people["officer"], data=submission(), policy=NamePolicy.build())
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub.id])
    publish_feed(rt.database, rt.settings)  # serial 2
    return {"one": one, "two": two}


def test_credentials(rt: Runtime, feed: dict[str, str]) -> None:
    client = TestClient(create_app(rt))
    assert client.get("/feed/v1/latest.json").status_code == 401
    assert client.get("/feed/v1/latest.json", headers={"Authorization": "Bearer isp_wrong"}).status_code == 401
    disabled = client.get("/feed/v1/latest.json", headers={"Authorization": f"Bearer {feed['two']}"})
    assert disabled.status_code == 403 and "disabled" in disabled.json()["reason"]


def test_latest_versions_signature_and_etag(rt: Runtime, feed: dict[str, str]) -> None:
    client = TestClient(create_app(rt))
    auth = {"Authorization": f"Bearer {feed['one']}"}
    latest = client.get("/feed/v1/latest.json", headers=auth)
    assert latest.status_code == 200 and latest.headers["x-feed-serial"] == "2"
    assert latest.headers["cache-control"] == "no-cache"
    version = formats.parse_envelope(latest.content)
    assert [e.name for e in version.entries] == ["csam-gallery.test"]
    sig = client.get("/feed/v1/latest.json.minisig", headers=auth).text
    keys = client.get("/feed/v1/keys", headers=auth).json()["keys"]
    trusted = [signing.parse_public_key(k["minisign"]) for k in keys]
    facts = formats.parse_trusted_comment(signing.verify(latest.content, sig, trusted))
    assert facts.serial == 2 and facts.fmt == "json"
    again = client.get("/feed/v1/latest.json", headers={**auth, "If-None-Match": latest.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    old = client.get("/feed/v1/versions/1.rpz", headers=auth)
    assert old.status_code == 200 and b"csam-gallery.test" not in old.content
    assert "immutable" in old.headers["cache-control"]
    rpz_a = client.get("/feed/v1/versions/2.a.rpz", headers=auth)
    assert b"csam-gallery.test A 192.0.2.80" in rpz_a.content
    assert client.get("/feed/v1/versions/9.rpz", headers=auth).status_code == 404
    unknown = client.get("/feed/v1/latest.exe", headers=auth)
    assert unknown.status_code == 404 and "unknown feed format" in unknown.json()["reason"]


def test_diff_applied_and_fetch_log(rt: Runtime, feed: dict[str, str]) -> None:
    client = TestClient(create_app(rt))
    auth = {"Authorization": f"Bearer {feed['one']}"}
    diff = client.get("/feed/v1/diff?from=1", headers=auth).json()
    assert diff["to"] == 2 and [a["name"] for a in diff["added"]] == ["csam-gallery.test"] and diff["removed"] == []
    assert client.get("/feed/v1/diff?from=5", headers=auth).status_code in (404, 422)
    body = client.get("/feed/v1/versions/2.rpz", headers=auth).content
    import hashlib

    ok = client.post("/feed/v1/applied", headers=auth,
                     json={"serial": 2, "sha256": hashlib.sha256(body).hexdigest(), "format": "rpz"})
    assert ok.status_code == 201
    wrong = client.post("/feed/v1/applied", headers=auth, json={"serial": 2, "sha256": "0" * 64})
    assert wrong.status_code == 422 and "does not match" in wrong.json()["reason"]
    with rt.database.transaction() as s:
        fetches = s.execute(select(FeedFetch.ext, FeedFetch.serial, FeedFetch.status)).all()
        assert ("diff:1", 2, 200) in fetches and ("rpz", 2, 200) in fetches
        states = {st.isp_name: st for st in feed_states(s)}
        assert states["ISP One"].applied_serial == 2 and states["ISP One"].behind == 0
