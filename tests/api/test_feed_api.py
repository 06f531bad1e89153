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
from isp_feed.jobs import publish_feed
from isp_feed.models import FeedFetch
from isp_feed.serving import feed_states
from isp_feed_client import formats, signing
from tests.blocklist.helpers import submission


@pytest.fixture
def feed(rt: Runtime, people: dict[str, User]) -> dict[str, str]:
    with rt.database.transaction() as s:
        one = isps.add_isp(s, actor="test", name="ISP One", email="noc@one.example", language="fr")[1]
        two_isp, two = isps.add_isp(s, actor="test", name="ISP Two", email="noc@two.example", language="nl")
        isps.set_active(s, actor="test", isp=two_isp, active=False)
    publish_feed(rt.job_context)  # serial 1: empty
    with rt.database.transaction() as s:
        sub = workflow.submit(s, actor=people["officer"], data=submission(), policy=NamePolicy.build())
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub.id])
    publish_feed(rt.job_context)  # serial 2
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
    assert unknown.status_code == 404 and "unknown feed file" in unknown.json()["reason"]


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
    with rt.database.reading() as s:  # feed GETs wrote nothing: their log waits in memory for the next batch
        assert s.execute(select(FeedFetch.id)).first() is None
    assert rt.job_context.fetch_log.flush(rt.database) >= 2
    with rt.database.transaction() as s:
        fetches = s.execute(select(FeedFetch.ext, FeedFetch.serial, FeedFetch.status)).all()
        assert ("diff:1", 2, 200) in fetches and ("rpz", 2, 200) in fetches
        states = {st.isp_name: st for st in feed_states(s)}
        assert states["ISP One"].applied_serial == 2 and states["ISP One"].behind == 0


def test_a_failed_apply_is_recorded_and_not_counted_as_applied(rt: Runtime, feed: dict[str, str]) -> None:
    from blocklist.models import AuditEvent

    client = TestClient(create_app(rt))
    auth = {"Authorization": f"Bearer {feed['one']}"}
    failed = client.post("/feed/v1/applied", headers=auth, json={
        "serial": 2, "sha256": "0" * 64, "format": "rpz", "ok": False,
        "error": "the resolver did not answer the canary of serial 2; the previous file was put back"})
    assert failed.status_code == 201 and failed.json()["ok"] is False
    with rt.database.reading() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "feed.apply_failed")).scalar_one()
        assert "canary" in event.details and event.actor == "isp:ISP One"
        states = {st.isp_name: st for st in feed_states(s)}
        assert states["ISP One"].applied_serial != 2  # never taken for an acknowledgement


def test_minisign_checks_a_served_version_by_hand(rt: Runtime, feed: dict[str, str], tmp_path: object) -> None:
    import subprocess
    from pathlib import Path

    from tests.support.binaries import require_binary

    minisign = require_binary("minisign")
    folder = Path(str(tmp_path))
    client = TestClient(create_app(rt))
    auth = {"Authorization": f"Bearer {feed['one']}"}
    (folder / "2.rpz").write_bytes(client.get("/feed/v1/versions/2.rpz", headers=auth).content)
    (folder / "2.rpz.minisig").write_bytes(client.get("/feed/v1/versions/2.rpz.minisig", headers=auth).content)
    key = rt.keys.active_public_key().to_base64()
    ok = subprocess.run([minisign, "-V", "-P", key, "-m", str(folder / "2.rpz")], capture_output=True, text=True)
    assert ok.returncode == 0 and "serial=2" in ok.stdout, ok.stderr
    (folder / "2.rpz").write_bytes((folder / "2.rpz").read_bytes().replace(b"csam", b"csaM"))
    bad = subprocess.run([minisign, "-V", "-P", key, "-m", str(folder / "2.rpz")], capture_output=True, text=True)
    assert bad.returncode != 0


def test_key_rotation_keeps_the_old_key_during_the_transition(rt: Runtime, feed: dict[str, str]) -> None:
    client = TestClient(create_app(rt))
    auth = {"Authorization": f"Bearer {feed['one']}"}
    old = rt.keys.active_key_id()
    new = rt.keys.rotate(transition_days=7)
    publish_feed(rt.job_context, force=True)
    listed = client.get("/feed/v1/keys", headers=auth).json()["keys"]
    assert [(k["key_id"], k["active"]) for k in listed] == [(new, True), (old, False)]
    body = client.get("/feed/v1/latest.json", headers=auth).content
    sig = client.get("/feed/v1/latest.json.minisig", headers=auth).text
    both = [signing.parse_public_key(k["minisign"]) for k in listed]
    assert formats.parse_trusted_comment(signing.verify(body, sig, both)).serial == 3
    import datetime as dt

    after = rt.keys.public_keys(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=8))
    assert [k.key_id for k in after] == [new]


def test_feed_state_for_magistrates(rt: Runtime, feed: dict[str, str], people: dict[str, User]) -> None:
    from blocklist import users

    with rt.database.transaction() as s:
        magistrate = users.issue_token(s, actor="test", user=people["magistrate"])
        officer = users.issue_token(s, actor="test", user=people["officer"])
    client = TestClient(create_app(rt))
    versions = client.get("/api/v1/feed/versions", headers={"Authorization": f"Bearer {magistrate}"}).json()
    assert [v["serial"] for v in versions] == [2, 1]
    assert client.get("/api/v1/feed/isps", headers={"Authorization": f"Bearer {officer}"}).status_code == 403
    states = client.get("/api/v1/feed/isps", headers={"Authorization": f"Bearer {magistrate}"}).json()
    assert [s["isp_name"] for s in states] == ["ISP One"]
    assert client.get("/api/v1/feed/holds", headers={"Authorization": f"Bearer {magistrate}"}).json() == []


def test_manifest_signs_every_file_and_reissue_points_at_the_same_files(rt: Runtime, feed: dict[str, str]) -> None:
    import datetime as dt
    import hashlib

    from isp_feed.models import FeedArtifact
    from isp_feed_client import manifest

    client = TestClient(create_app(rt))
    auth = {"Authorization": f"Bearer {feed['one']}"}
    got = client.get("/feed/v1/latest.manifest.json", headers=auth)
    signature = client.get("/feed/v1/latest.manifest.json.minisig", headers=auth).text
    facts = formats.parse_trusted_comment(signing.verify(got.content, signature, [rt.keys.active_public_key()]))
    signed = manifest.parse_manifest(got.content)
    assert (facts.fmt, facts.serial, facts.sha256) == ("manifest", 2, hashlib.sha256(got.content).hexdigest())
    assert facts.expires_at == signed.expires_at and signed.content_serial == 2 and signed.count == 1
    for ext, ref in signed.files.items():
        body = client.get(f"/feed/v1/versions/2.{ext}", headers=auth).content
        assert (hashlib.sha256(body).hexdigest(), len(body)) == (ref.sha256, ref.size)
    assert client.get("/feed/v1/latest.manifest.json", headers={**auth, "If-None-Match": got.headers["etag"]}
                      ).status_code == 304
    delta = client.get("/feed/v1/versions/2.delta", headers=auth).content
    assert signed.delta is not None and hashlib.sha256(delta).hexdigest() == signed.delta.sha256
    assert client.get("/feed/v1/diff?from=1&to=2", headers=auth).content == delta  # one step: the signed bytes
    ranged = client.get("/feed/v1/versions/2.rpz", headers={**auth, "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == client.get("/feed/v1/versions/2.rpz", headers=auth
                                                                      ).content[:10]
    with rt.database.reading() as s:
        files_before = s.execute(select(FeedArtifact.serial)).all()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert publish_feed(rt.job_context, now=later) == 3  # the hourly re-issue
    with rt.database.reading() as s:
        assert s.execute(select(FeedArtifact.serial)).all() == files_before  # no file rendered nor stored
    again = manifest.parse_manifest(client.get("/feed/v1/latest.manifest.json", headers=auth).content)
    assert (again.serial, again.content_serial, again.files) == (3, 2, signed.files)
    assert again.expires_at > signed.expires_at and again.previous_sha256 == hashlib.sha256(got.content).hexdigest()
    assert client.get("/feed/v1/versions/3.rpz", headers=auth).content == client.get(
        "/feed/v1/versions/2.rpz", headers=auth).content
    assert client.get("/feed/v1/diff?from=2", headers=auth).json()["added"] == []
