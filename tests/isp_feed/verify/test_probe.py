"""A remote probe inside an ISP's network: pulls its work, asks the local resolver, posts signed results."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from isp_feed import evidence, probes, versions
from isp_feed.jobs import publish_feed
from isp_feed.models import VerificationResult
from isp_feed.verify.probe_run import run_probe
from isp_feed_client import signing
from tests.blocklist.helpers import submission
from tests.support.resolvers import start_internet, start_unbound
from tests.support.server import live_server


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_probe_round_and_signature_checks(rt: Runtime, people: dict[str, User], tmp_path: Path) -> None:
    with rt.database.transaction() as s:
        sub = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(), data=submission())
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub.id])
    publish_feed(rt.job_context)
    rpz = tmp_path / "feed.rpz"
    key = signing.SecretKey.generate()
    with rt.database.transaction() as s:
        rpz.write_bytes(versions.file_bytes(s, versions.latest_version(s), "rpz", rt.settings.data_dir))  # type: ignore[arg-type]
        isp, _ = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
        _, token = probes.register(s, actor="test", isp=isp, name="probe-1", public_key=key.public_key().to_text())
        isp_id = isp.id
    with start_internet(tmp_path) as control, start_unbound(tmp_path, rpz, name="isp") as resolver, \
            live_server(rt) as url:
        outcome = run_probe(server=url, token=token, key=key, resolver=(resolver.ip, resolver.port),
                            control=(control.ip, control.port))
        assert outcome.verdicts == {"blocked": 1}
        body = json.dumps({"resolver": "127.0.0.1:53", "results": [
            {"name": "csam-gallery.test", "verdict": "not_blocked"}]}).encode()
        forged = signing.sign(body, "probe=probe-1", signing.SecretKey.generate())
        refused = httpx.post(f"{url}/api/v1/probe/results", content=body, headers={
            "Authorization": f"Bearer {token}", "X-Signature": base64.b64encode(forged.encode()).decode()})
        assert refused.status_code == 403 and "not trusted" in refused.json()["reason"]
        genuine = signing.sign(body, "probe=probe-1", key)
        tampered = httpx.post(f"{url}/api/v1/probe/results", content=body.replace(b"not_blocked", b"blocked"),
                              headers={"Authorization": f"Bearer {token}",
                                       "X-Signature": base64.b64encode(genuine.encode()).decode()})
        assert tampered.status_code == 403 and "does not match" in tampered.json()["reason"]
        assert httpx.get(f"{url}/api/v1/probe/work").status_code == 401
    with rt.database.transaction() as s:
        rows = s.execute(select(VerificationResult)).scalars().all()
        kept = evidence.load(s, rows[0])
    assert [(r.isp_id, r.domain, r.verdict) for r in rows] == [(isp_id, "csam-gallery.test", "blocked")]
    assert kept["isp"][0]["raw"]
