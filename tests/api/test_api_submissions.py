"""The workflow over HTTP: submit, decide, lift, history; bulk; idempotency; errors that explain themselves."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from blocklist import users
from blocklist.models import AuditEvent
from tests.api.conftest import bearer
from tests.support.clock import today


def body(domain: str = "csam-gallery.test", **extra: object) -> dict[str, object]:
    return {"domain": domain, "legal_basis": "art39bis", "case_number": "FCCU-2026-0001",
            "evidence_ref": "EVD-1", "verified_on": today().isoformat(), "hosting_country": "NL", **extra}


def test_submit_approve_lift_history(client: TestClient, tokens: dict[str, str]) -> None:
    created = client.post("/api/v1/submissions", json=body("Bücher.example"), headers=bearer(tokens["officer"]))
    assert created.status_code == 201, created.text
    sub = created.json()
    assert (sub["domain"], sub["unicode"], sub["status"], sub["flags"]) == (
        "xn--bcher-kva.example", "bücher.example", "submitted", ["idn"])
    own = client.post(f"/api/v1/submissions/{sub['id']}/approve", headers=bearer(tokens["officer"]))
    assert own.status_code == 403
    ok = client.post(f"/api/v1/submissions/{sub['id']}/approve", json={"reason": "verified"},
                     headers=bearer(tokens["magistrate"]))
    assert ok.status_code == 200 and ok.json()["status"] == "approved" and ok.json()["order_id"]
    again = client.post(f"/api/v1/submissions/{sub['id']}/reject", json={"reason": "too late"},
                        headers=bearer(tokens["magistrate2"]))
    assert again.status_code == 409 and "not pending" in again.json()["reason"]
    dup = client.post("/api/v1/submissions", json=body("BÜCHER.example."), headers=bearer(tokens["officer2"]))
    assert dup.status_code == 409 and dup.json()["existing_id"] == sub["id"]
    assert [d["domain"] for d in client.get("/api/v1/domains", headers=bearer(tokens["auditor"])).json()] == [
        "xn--bcher-kva.example"]
    no_reason = client.post("/api/v1/domains/bücher.example/lift", json={}, headers=bearer(tokens["magistrate"]))
    assert no_reason.status_code == 422 and "written reason" in no_reason.json()["reason"]
    lifted = client.post("/api/v1/domains/bücher.example/lift", json={"reason": "content removed"},
                         headers=bearer(tokens["magistrate2"]))
    assert lifted.status_code == 200
    history = client.get("/api/v1/domains/xn--bcher-kva.example/history", headers=bearer(tokens["auditor"])).json()
    assert [e["action"] for e in history["events"]] == [
        "submission.created", "submission.approved", "order.created", "submission.lifted", "order.created"]
    verify = client.get("/api/v1/audit/verify", headers=bearer(tokens["auditor"])).json()
    assert verify["intact"] is True


def test_validation_errors_name_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    bad = client.post("/api/v1/submissions", json=body(legal_basis="hunch"), headers=bearer(tokens["officer"]))
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "legal_basis"
    court = client.post("/api/v1/submissions", json=body(legal_basis="court_order"), headers=bearer(tokens["officer"]))
    assert court.status_code == 422 and "court order needs" in court.json()["reason"]
    refused = client.post("/api/v1/submissions", json=body("https://www.protected.example/"),
                          headers=bearer(tokens["officer"]))
    assert refused.status_code == 422 and refused.json()["code"] == "protected" and refused.json()["field"] == "domain"
    assert client.post("/api/v1/submissions", content=b"{not json", headers={
        **bearer(tokens["officer"]), "Content-Type": "application/json"}).status_code == 422
    assert client.get("/api/v1/submissions/999", headers=bearer(tokens["auditor"])).status_code == 404


def test_bulk_is_per_name_and_all_or_nothing_for_the_accepted(client: TestClient, tokens: dict[str, str]) -> None:
    client.post("/api/v1/submissions", json=body("already.test"), headers=bearer(tokens["officer"]))
    payload = {k: v for k, v in body().items() if k != "domain"}
    result = client.post("/api/v1/submissions/bulk", headers=bearer(tokens["officer"]), json={
        **payload, "domains": ["one.test", "ONE.test.", "google.com", "already.test", "192.0.2.1", "two.example"]})
    assert result.status_code == 201
    data = result.json()
    assert data["accepted"] == 2 and data["refused"] == 4
    reasons = {r["domain"]: r.get("reason", "") for r in data["results"]}
    assert "twice" in reasons["ONE.test."] and "protected" in reasons["google.com"]
    assert "already pending" in reasons["already.test"] and "IP address" in reasons["192.0.2.1"]
    pending = client.get("/api/v1/submissions?status=submitted", headers=bearer(tokens["magistrate"])).json()
    assert sorted(p["domain"] for p in pending) == ["already.test", "one.test", "two.example"]
    ids = [p["id"] for p in pending]
    batch = client.post("/api/v1/submissions/approve", json={"ids": ids, "reason": "batch"},
                        headers=bearer(tokens["magistrate"]))
    assert batch.status_code == 200 and sorted(batch.json()["approved"]) == sorted(ids)


def test_idempotency_key_replays_the_first_answer(client: TestClient, tokens: dict[str, str]) -> None:
    headers = {**bearer(tokens["officer"]), "Idempotency-Key": "abc-123"}
    first = client.post("/api/v1/submissions", json=body(), headers=headers)
    second = client.post("/api/v1/submissions", json=body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers.get("idempotent-replayed") == "true"
    assert len(client.get("/api/v1/submissions", headers=bearer(tokens["auditor"])).json()) == 1
    other = client.post("/api/v1/submissions", json=body("other.test"), headers=headers)
    assert other.status_code == 422 and "different request" in other.json()["reason"]
    # The same key from another caller is another key.
    theirs = client.post("/api/v1/submissions", json=body("other.test"),
                         headers={**bearer(tokens["officer2"]), "Idempotency-Key": "abc-123"})
    assert theirs.status_code == 201


def test_admin_manages_accounts_and_isps(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    made = client.post("/api/v1/users", json={"username": "newbie", "role": "auditor"}, headers=admin)
    assert made.status_code == 201 and "token" not in made.json() and made.json()["confirmed"] is False
    with client.app.state.runtime.database.transaction() as s:  # type: ignore[attr-defined]
        token = users.reset_token(s, actor="operator", user=users.get_user(s, "newbie"))
    assert client.get("/api/v1/me", headers=bearer(token)).json()["username"] == "newbie"
    client.post("/api/v1/users/newbie/active", json={"active": False}, headers=admin)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    isp = client.post("/api/v1/isps", json={"name": "Fibre", "email": "noc@fibre.example", "language": "de"},
                      headers=admin)
    assert isp.status_code == 201 and isp.json()["credential"].startswith("isp_")
    # Its TSIG key for zone transfers comes with it, shown once; a new one replaces it.
    tsig = isp.json()["tsig"]
    assert tsig["key_name"] == f"isp-{isp.json()['id']}" and tsig["algorithm"] == "hmac-sha256"
    assert len(base64.b64decode(tsig["secret"])) == 32
    rotated = client.post(f"/api/v1/isps/{isp.json()['id']}/tsig", headers=admin)
    assert rotated.status_code == 200 and rotated.json()["secret"] != tsig["secret"]
    assert tsig["secret"] not in client.get("/api/v1/isps", headers=admin).text
    secondaries = client.put(f"/api/v1/isps/{isp.json()['id']}/secondaries", headers=admin,
                             json={"signed": ["127.0.0.1:5300"], "unsigned": ["::1"]})
    assert secondaries.status_code == 200 and secondaries.json() == [
        {"address": "127.0.0.1", "port": 5300, "tsig": True}, {"address": "::1", "port": 53, "tsig": False}]
    twice = client.put(f"/api/v1/isps/{isp.json()['id']}/secondaries", headers=admin,
                       json={"signed": ["127.0.0.1:5300"], "unsigned": ["127.0.0.1:5300"]})
    assert twice.status_code == 422 and "twice" in twice.json()["reason"]
    with client.app.state.runtime.database.reading() as s:  # type: ignore[attr-defined]
        actions = [e.action for e in s.query(AuditEvent).filter(AuditEvent.object_type == "isp",
                                                                 AuditEvent.object_id == str(isp.json()["id"]))]
    assert {"isp.tsig_created", "isp.tsig_rotated", "isp.secondaries_set"} <= set(actions), actions
    bad = client.post("/api/v1/isps", json={"name": "Bad", "email": "nobody", "language": "fr"}, headers=admin)
    assert bad.status_code == 422 and "e-mail" in bad.json()["reason"]
