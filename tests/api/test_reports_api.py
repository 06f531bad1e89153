"""The reports API: partner intake (bulk up to 1,000, all or nothing), the triage queue, dismissing, linking."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.runtime import Runtime
from blocklist import partners
from blocklist.models import AuditEvent, Report, ReportOutcome
from tests.api.conftest import bearer


@pytest.fixture
def partner(rt: Runtime) -> dict[str, str]:
    with rt.database.transaction() as s:
        return bearer(partners.add_partner(s, actor="test", name="Hotline")[1])


def _count(rt: Runtime) -> int:
    with rt.database.transaction() as s:
        return int(s.execute(select(func.count(Report.id))).scalar_one())


def test_partner_bulk_of_1000_and_1001_refused_whole(client: TestClient, rt: Runtime,
                                                     partner: dict[str, str]) -> None:
    body = {"reports": [{"address": f"https://site-{i}.example/p", "reference": f"HL-{i}"} for i in range(1000)]}
    response = client.post("/api/v1/reports", json=body, headers=partner)
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["accepted"] == 1000 and out["receipts"][3]["reference"] == "HL-3"
    assert out["receipts"][3]["host"] == "site-3.example" and len({r["receipt"] for r in out["receipts"]}) == 1000
    too_many = {"reports": [{"address": "x.example"}] * 1001}
    assert client.post("/api/v1/reports", json=too_many, headers=partner).status_code == 422
    one_bad = {"reports": [{"address": "fine.example"}, {"address": "fine.example", "description": "d" * 2001}]}
    refused = client.post("/api/v1/reports", json=one_bad, headers=partner)
    assert refused.status_code == 422 and "description" in refused.text
    not_a_host = {"reports": [{"address": "fine.example"}, {"address": "198.51.100.4"}]}
    refused = client.post("/api/v1/reports", json=not_a_host, headers=partner)
    assert refused.status_code == 422 and refused.json()["field"] == "reports[1].address"
    assert _count(rt) == 1000


def test_only_a_partner_credential_sends_reports(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                                 partner: dict[str, str]) -> None:
    body = {"reports": [{"address": "x.example"}]}
    assert client.post("/api/v1/reports", json=body).status_code == 401
    assert client.post("/api/v1/reports", json=body, headers=bearer(tokens["officer"])).status_code == 401
    with rt.database.transaction() as s:
        partners.set_active(s, actor="test", partner=partners.get_partner(s, "Hotline"), active=False)
    assert client.post("/api/v1/reports", json=body, headers=partner).status_code == 403
    assert _count(rt) == 0


def test_triage_queue_dismiss_and_open_submission(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                                 partner: dict[str, str]) -> None:
    officer = bearer(tokens["officer"])
    client.post("/api/v1/reports", json={"reports": [
        {"address": "hot.test/a", "reference": "A"}, {"address": "www.HOT.test", "reference": "B"},
        {"address": "hot.test", "reference": "C"}, {"address": "spam.test", "reference": "D"},
        {"address": "google.com/x", "reference": "E"}]}, headers=partner)
    queue = client.get("/api/v1/reports?sort=count", headers=officer).json()
    assert queue["total"] == 4
    first = queue["groups"][0]
    assert (first["host"], first["count"], first["status"], first["blockable"]) == ("hot.test", 2, None, True)
    assert [r["partner"] for r in first["reports"]] == ["Hotline", "Hotline"]
    protected = next(g for g in queue["groups"] if g["host"] == "google.com")
    assert protected["blockable"] is False and "protected" in protected["refusal"]
    paged = client.get("/api/v1/reports?sort=age&per_page=1&page=2", headers=officer).json()
    assert [g["host"] for g in paged["groups"]] == ["www.hot.test"]
    assert client.get("/api/v1/reports?sort=size", headers=officer).status_code == 422

    assert client.post("/api/v1/reports/spam.test/dismiss", json={"reason": ""}, headers=officer).status_code == 422
    dismissed = client.post("/api/v1/reports/spam.test/dismiss", json={"reason": "not abuse material"},
                            headers=officer)
    assert dismissed.status_code == 200 and dismissed.json()["host"] == "spam.test"
    assert client.post("/api/v1/reports/spam.test/dismiss", json={"reason": "again"},
                       headers=officer).status_code == 404

    ids = [r["id"] for r in first["reports"]]
    www = next(g for g in queue["groups"] if g["host"] == "www.hot.test")["reports"][0]["id"]
    case = {"domain": "hot.test", "legal_basis": "art39bis", "case_number": "C-1", "evidence_ref": "E-1",
            "verified_on": dt.date.today().isoformat(), "hosting_country": "NL", "report_ids": [*ids, www]}
    created = client.post("/api/v1/submissions", json=case, headers=officer)
    assert created.status_code == 201, created.text
    with rt.database.transaction() as s:
        linked = s.execute(select(ReportOutcome.report_id).where(
            ReportOutcome.submission_id == created.json()["id"])).scalars().all()
        assert sorted(linked) == sorted([*ids, www])
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "report.linked")).first() is not None
    remaining = client.get("/api/v1/reports", headers=officer).json()
    assert [g["host"] for g in remaining["groups"]] == ["google.com"]


def test_audit_of_a_partner_report_keeps_no_contact_or_text(client: TestClient, rt: Runtime,
                                                            partner: dict[str, str]) -> None:
    client.post("/api/v1/reports", json={"reports": [{"address": "a.test", "contact": "who@reporter.example",
                                                      "description": "words of the reporter", "reference": "R9"}]},
                headers=partner)
    with rt.database.transaction() as s:
        details = s.execute(select(AuditEvent.details).where(AuditEvent.action == "report.received")).scalar_one()
    assert "who@reporter.example" not in details and "words of the reporter" not in details and "R9" in details
