"""The reviews API: the due list (`GET /domains?due=N`, paged with its total), re-attestations and renewals; every
refusal is a 4xx with its reason and rule, and writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api import scheduler
from api.runtime import Runtime
from blocklist import review_digest
from blocklist.models import Attestation, AuditEvent, Renewal, Submission, User
from tests.api.conftest import bearer
from tests.support.clock import today
from tests.support.factories import approved


@pytest.fixture
def blocked(rt: Runtime, people: dict[str, User]) -> None:
    """Three blocks: overdue by 2 days, due in 9 days, due in 100 days."""
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "late.test", "soon.test", "far.test")
        for domain, due_in in (("late.test", -2), ("soon.test", 9), ("far.test", 100)):
            s.execute(update(Submission).where(Submission.domain == domain)
                      .values(review_due=today() + dt.timedelta(days=due_in)))


def _state(rt: Runtime) -> tuple[int, int, int, list[dt.date | None]]:
    with rt.database.transaction() as s:
        return (s.execute(select(func.count(Attestation.id))).scalar_one(),
                s.execute(select(func.count(Renewal.id))).scalar_one(),
                s.execute(select(func.count(AuditEvent.id))).scalar_one(),
                list(s.execute(select(Submission.review_due).order_by(Submission.id)).scalars()))


def _attestation(**overrides: Any) -> dict[str, Any]:
    return {"checked_on": today().isoformat(), "evidence_ref": "EVD-R-1", "content_present": True, **overrides}


def test_due_list_is_paged_with_its_total(client: TestClient, tokens: dict[str, str], blocked: None) -> None:
    auditor = bearer(tokens["auditor"])
    listing = client.get("/api/v1/domains?due=14", headers=auditor)
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert (body["total"], body["within_days"], body["today"]) == (2, 14, today().isoformat())
    assert [(r["domain"], r["days_left"], r["overdue"]) for r in body["reviews"]] == [
        ("late.test", -2, True), ("soon.test", 9, False)]
    first = body["reviews"][0]
    assert (first["attestation"], first["proposed_for_lifting"], first["renewable"]) == (None, False, False)
    second_page = client.get("/api/v1/domains?due=14&per_page=1&page=2", headers=auditor).json()
    assert second_page["total"] == 2 and [r["domain"] for r in second_page["reviews"]] == ["soon.test"]
    assert client.get("/api/v1/domains?due=365", headers=auditor).json()["total"] == 3
    for bad in ("due=true", "due=-1", "due=367", "due=14&per_page=201", "due=14&page=0"):
        assert client.get(f"/api/v1/domains?{bad}", headers=auditor).status_code == 422, bad
    # Without `due`: every blocked name, as before.
    assert [d["domain"] for d in client.get("/api/v1/domains", headers=auditor).json()] == [
        "far.test", "late.test", "soon.test"]


def test_attest_then_renew(client: TestClient, rt: Runtime, tokens: dict[str, str], blocked: None) -> None:
    made = client.post("/api/v1/domains/late.test/attestations", headers=bearer(tokens["officer2"]),
                       json=_attestation(note="seen with the unit's tools"))
    assert made.status_code == 201, made.text
    attestation = made.json()
    assert (attestation["domain"], attestation["officer"], attestation["content_present"]) == (
        "late.test", "officer2", True)
    due = client.get("/api/v1/domains?due=14", headers=bearer(tokens["magistrate"])).json()["reviews"][0]
    assert due["renewable"] and due["attestation"]["id"] == attestation["id"]
    new_date = (today() + dt.timedelta(days=120)).isoformat()
    renewed = client.post("/api/v1/domains/late.test/renew", headers=bearer(tokens["magistrate2"]),
                          json={"review_due": new_date, "reason": "content still online (EVD-R-1)"})
    assert renewed.status_code == 200, renewed.text
    out = renewed.json()
    assert (out["review_due"], out["previous_review_due"], out["attestation_id"]) == (
        new_date, (today() - dt.timedelta(days=2)).isoformat(), attestation["id"])
    assert [r["domain"] for r in client.get("/api/v1/domains?due=14", headers=bearer(tokens["auditor"]))
            .json()["reviews"]] == ["soon.test"]
    history = client.get("/api/v1/domains/late.test/history", headers=bearer(tokens["auditor"])).json()["events"]
    actions = [e["action"] for e in history]
    assert actions[-2:] == ["review.attested", "submission.renewed"]
    assert history[-1]["details"]["review_due"] == new_date and history[-1]["actor"] == "user:magistrate2"
    again = client.post("/api/v1/domains/late.test/renew", headers=bearer(tokens["magistrate2"]),
                        json={"review_due": new_date, "reason": "once more"})
    assert again.status_code == 409 and again.json()["code"] == "no_attestation"


def test_renewal_without_attestation_is_refused(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                                blocked: None) -> None:
    before = _state(rt)
    refused = client.post("/api/v1/domains/late.test/renew", headers=bearer(tokens["magistrate"]),
                          json={"review_due": (today() + dt.timedelta(days=30)).isoformat(), "reason": "still online"})
    assert refused.status_code == 409 and refused.json()["code"] == "no_attestation"
    assert "an officer must first re-attest" in refused.json()["reason"]
    assert _state(rt) == before


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"review_due": (today() - dt.timedelta(days=1)).isoformat(), "reason": "still online"}, "review_due",
     "date_not_future"),
    ({"review_due": today().isoformat(), "reason": "still online"}, "review_due", "date_not_future"),
    ({"review_due": (today() + dt.timedelta(days=400)).isoformat(), "reason": "still online"}, "review_due",
     "date_too_far"),
    ({"review_due": (today() + dt.timedelta(days=30)).isoformat()}, "reason", "reason_missing"),
    ({"review_due": (today() + dt.timedelta(days=30)).isoformat(), "reason": " "}, "reason", "reason_missing"),
])
def test_renewal_with_a_bad_date_or_no_reason_is_refused(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                                         blocked: None, body: dict[str, str], field: str,
                                                         code: str) -> None:
    assert client.post("/api/v1/domains/late.test/attestations", headers=bearer(tokens["officer"]),
                       json=_attestation()).status_code == 201
    before = _state(rt)
    refused = client.post("/api/v1/domains/late.test/renew", headers=bearer(tokens["magistrate"]), json=body)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["code"]) == (field, code)
    assert _state(rt) == before


def test_renewal_input_is_checked_before_anything(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                                  blocked: None) -> None:
    before = _state(rt)
    magistrate = bearer(tokens["magistrate"])
    for body in ({"reason": "still online"}, {"review_due": "tomorrow", "reason": "still online"},
                 {"review_due": 20300101, "reason": "still online"},
                 {"review_due": (today() + dt.timedelta(days=9)).isoformat(), "reason": "x", "days": 9}):
        assert client.post("/api/v1/domains/late.test/renew", headers=magistrate, json=body).status_code == 422
    assert client.post("/api/v1/domains/never.test/renew", headers=magistrate,
                       json={"review_due": (today() + dt.timedelta(days=9)).isoformat(),
                             "reason": "still online"}).status_code == 404
    assert _state(rt) == before


@pytest.mark.parametrize(("body", "status"), [
    (_attestation(checked_on=(today() + dt.timedelta(days=3)).isoformat()), 422),
    (_attestation(content_present="yes"), 422),
    (_attestation(evidence_ref=""), 422),
    (_attestation(evidence_ref="EVD\u202e1"), 422),
    ({"checked_on": today().isoformat(), "evidence_ref": "EVD-1"}, 422),
    (_attestation(extra=1), 422),
])
def test_bad_attestation_is_refused(client: TestClient, rt: Runtime, tokens: dict[str, str], blocked: None,
                                    body: dict[str, Any], status: int) -> None:
    before = _state(rt)
    refused = client.post("/api/v1/domains/late.test/attestations", headers=bearer(tokens["officer"]), json=body)
    assert refused.status_code == status, refused.text
    assert refused.json()["reason"]
    assert _state(rt) == before


def test_content_gone_is_proposed_for_lifting_and_lifted(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                                         blocked: None) -> None:
    gone = client.post("/api/v1/domains/far.test/attestations", headers=bearer(tokens["officer"]),
                       json=_attestation(content_present=False, evidence_ref="EVD-GONE"))
    assert gone.status_code == 201
    listing = client.get("/api/v1/domains?due=14", headers=bearer(tokens["magistrate"])).json()
    proposed = {r["domain"]: r for r in listing["reviews"]}["far.test"]
    assert listing["total"] == 3 and proposed["proposed_for_lifting"] and not proposed["renewable"]
    assert proposed["days_left"] == 100
    refused = client.post("/api/v1/domains/far.test/renew", headers=bearer(tokens["magistrate"]),
                          json={"review_due": (today() + dt.timedelta(days=30)).isoformat(), "reason": "keep it"})
    assert refused.status_code == 409 and refused.json()["code"] == "content_gone"
    lifted = client.post("/api/v1/domains/far.test/lift", headers=bearer(tokens["magistrate"]),
                         json={"reason": "the officer found the content gone (EVD-GONE)"})
    assert lifted.status_code == 200 and lifted.json()["status"] == "lifted"
    assert "far.test" not in {r["domain"] for r in client.get("/api/v1/domains?due=14",
                                                               headers=bearer(tokens["auditor"])).json()["reviews"]}
    late = client.post("/api/v1/domains/far.test/attestations", headers=bearer(tokens["officer"]), json=_attestation())
    assert late.status_code == 404  # no longer blocked


def test_only_officers_attest_and_only_magistrates_renew(client: TestClient, tokens: dict[str, str],
                                                         blocked: None) -> None:
    renewal = {"review_due": (today() + dt.timedelta(days=30)).isoformat(), "reason": "still online"}
    for caller in ("magistrate", "auditor", "admin", "isp", "partner"):
        response = client.post("/api/v1/domains/late.test/attestations", headers=bearer(tokens[caller]),
                               json=_attestation())
        assert response.status_code in (401, 403), caller
    for caller in ("officer", "auditor", "admin", "isp", "partner"):
        response = client.post("/api/v1/domains/late.test/renew", headers=bearer(tokens[caller]), json=renewal)
        assert response.status_code in (401, 403), caller
    assert client.post("/api/v1/domains/late.test/renew", json=renewal).status_code == 401


def test_the_digest_is_a_scheduled_job() -> None:
    (job,) = [j for j in scheduler.scheduled_jobs() if j.name == "reviews.digest"]
    assert job.func is review_digest.send_weekly and job.every_seconds <= 3600
