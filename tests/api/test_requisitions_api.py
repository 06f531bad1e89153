"""Requisition endpoints: magistrates and auditors read all; an ISP reads, downloads and acknowledges its own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist import isps, users, workflow
from blocklist.jobs import JobContext
from blocklist.models import User
from blocklist.names import NamePolicy
from requisitions import jobs
from tests.blocklist.helpers import submission


@pytest.fixture
def setup(rt: Runtime, people: dict[str, User]) -> dict[str, str]:
    settings = rt.settings.model_copy(update={"requisitions_wait_for_feed": False})
    tokens = {}
    with rt.database.transaction() as s:
        for name in ("magistrate", "auditor", "officer", "admin"):
            tokens[name] = users.issue_token(s, actor="test", user=people[name])
        tokens["isp1"] = isps.add_isp(s, actor="test", name="ISP One", email="noc@one.example", language="fr")[1]
        tokens["isp2"] = isps.add_isp(s, actor="test", name="ISP Two", email="noc@two.example", language="nl")[1]
        sub = workflow.submit(s, actor=people["officer"], data=submission(), policy=NamePolicy.build())
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub.id])
    jobs.issue_pending(JobContext.standalone(rt.database, settings))
    return tokens


def _get(client: TestClient, path: str, token: str) -> object:
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_roles_and_isolation(rt: Runtime, setup: dict[str, str]) -> None:
    client = TestClient(create_app(rt))
    auth = lambda who: {"Authorization": f"Bearer {setup[who]}"}  # noqa: E731
    everything = client.get("/api/v1/requisitions", headers=auth("magistrate")).json()
    assert len(everything) == 2 and {r["status"] for r in everything} == {"pending"}
    assert len(client.get("/api/v1/requisitions", headers=auth("auditor")).json()) == 2
    for who in ("officer", "admin"):
        assert client.get("/api/v1/requisitions", headers=auth(who)).status_code == 403
    assert client.get("/api/v1/requisitions").status_code == 401
    own = client.get("/api/v1/requisitions", headers=auth("isp1")).json()
    assert [r["isp"]["name"] for r in own] == ["ISP One"]
    theirs = next(r for r in everything if r["isp"]["name"] == "ISP Two")
    mine = own[0]
    assert client.get(f"/api/v1/requisitions/{theirs['id']}", headers=auth("isp1")).status_code == 404
    assert client.get(f"/api/v1/requisitions/{theirs['id']}/document.pdf", headers=auth("isp1")).status_code == 404
    pdf = client.get(f"/api/v1/requisitions/{mine['id']}/document.pdf", headers=auth("isp1"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["x-content-sha256"] == mine["pdf_sha256"]
    refused = client.post(f"/api/v1/requisitions/{theirs['id']}/acknowledge", headers=auth("isp1"))
    assert refused.status_code == 404 and "no requisition" in refused.json()["reason"]
    assert client.post(f"/api/v1/requisitions/{mine['id']}/acknowledge", headers=auth("magistrate")).status_code == 401
    done = client.post(f"/api/v1/requisitions/{mine['id']}/acknowledge", headers=auth("isp1"))
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    assert client.get("/api/v1/requisitions?status=overdue", headers=auth("auditor")).json() == []
    bad = client.get("/api/v1/requisitions?status=lost", headers=auth("auditor"))
    assert bad.status_code == 422 and "status must be one of" in bad.json()["reason"]
