"""The whole procedure end to end, through the public form and the JSON API, with the scheduler's jobs run in turn:

public report -> triage -> submission -> approval (blocking order, feed, requisitions) -> review due -> officer
re-attests -> magistrate renews -> review due again -> lift (lifting order, feed, lifting requisitions), and the
name's history shows each step, in that order.

Reviews come due without waiting: this deployment's review period is 10 days, inside the 14-day horizon.
"""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.runtime import Runtime
from isp_feed.jobs import publish_feed
from isp_feed_client import formats
from requisitions import jobs as requisition_jobs
from requisitions.models import Requisition
from tests.api.conftest import bearer
from tests.support.clock import today

HOST = "csam-gallery.test"


def _feed_names(client: TestClient, isp: str) -> list[str]:
    latest = client.get("/feed/v1/latest.json", headers=bearer(isp))
    assert latest.status_code == 200
    return [e.name for e in formats.parse_envelope(latest.content).entries]


def _due(client: TestClient, token: str) -> dict[str, dict[str, object]]:
    listing = client.get("/api/v1/domains?due=14", headers=bearer(token))
    assert listing.status_code == 200, listing.text
    return {r["domain"]: r for r in listing.json()["reviews"]}


def _in_order(actions: list[str], expected: list[str]) -> bool:
    """Whether `expected` occurs in `actions` in this order (other events may come between)."""
    remaining = iter(actions)
    return all(step in remaining for step in expected)


def test_report_to_lift_through_two_reviews(client: TestClient, rt: Runtime, tokens: dict[str, str]) -> None:
    rt.settings.review_period_days = 10
    officer, magistrate = bearer(tokens["officer"]), bearer(tokens["magistrate"])

    # A member of the public reports the address; the answer is a receipt and nothing about the name.
    sent = client.post("/report", data={"address": f"https://{HOST}/gallery/12", "found_at": "a forum",
                                        "description": "pictures of children"}, headers={"Accept-Language": "fr"})
    assert sent.status_code == 200 and re.search(r'class="receipt">(R-[A-Z2-7]{10})<', sent.text)

    # Triage: an officer sees the host's group and opens a submission with its report.
    (group,) = client.get("/api/v1/reports", headers=officer).json()["groups"]
    assert (group["host"], group["count"], group["status"]) == (HOST, 1, None)
    submitted = client.post("/api/v1/submissions", headers=officer, json={
        "domain": HOST, "legal_basis": "art39bis", "case_number": "FCCU-2026-0042", "evidence_ref": "EVD-42",
        "verified_on": today().isoformat(), "hosting_country": "NL", "report_ids": [group["reports"][0]["id"]]})
    assert submitted.status_code == 201, submitted.text
    sub_id = submitted.json()["id"]

    # Approval by a magistrate: the next feed version carries the name, every ISP gets a requisition.
    approved = client.post(f"/api/v1/submissions/{sub_id}/approve", headers=magistrate, json={})
    assert approved.status_code == 200, approved.text
    publish_feed(rt.job_context)
    assert _feed_names(client, tokens["isp"]) == [HOST]
    assert requisition_jobs.issue_pending(rt.job_context) == 1

    # The review comes due: 10 days left, no re-attestation yet, so no renewal.
    due = _due(client, tokens["magistrate"])[HOST]
    assert (due["days_left"], due["review_due"], due["renewable"]) == (
        10, (today() + dt.timedelta(days=10)).isoformat(), False)
    early = client.post(f"/api/v1/domains/{HOST}/renew", headers=magistrate,
                        json={"review_due": (today() + dt.timedelta(days=12)).isoformat(), "reason": "still online"})
    assert early.status_code == 409 and early.json()["code"] == "no_attestation"

    # An officer re-attests; the magistrate renews, with a new date and a reason.
    attested = client.post(f"/api/v1/domains/{HOST}/attestations", headers=bearer(tokens["officer2"]), json={
        "checked_on": today().isoformat(), "evidence_ref": "EVD-42-R1", "content_present": True})
    assert attested.status_code == 201, attested.text
    assert _due(client, tokens["magistrate"])[HOST]["renewable"] is True
    renewed = client.post(f"/api/v1/domains/{HOST}/renew", headers=magistrate, json={
        "review_due": (today() + dt.timedelta(days=12)).isoformat(), "reason": "content still online (EVD-42-R1)"})
    assert renewed.status_code == 200, renewed.text

    # Due again, on the new date; the renewal used the re-attestation, so the next review needs a new one.
    again = _due(client, tokens["auditor"])[HOST]
    assert (again["days_left"], again["renewable"], again["attestation"]) == (12, False, None)

    # At that review the magistrate lifts: the next feed version drops the name, a lifting requisition goes out.
    lifted = client.post(f"/api/v1/domains/{HOST}/lift", headers=magistrate,
                         json={"reason": "the hosting provider removed the material"})
    assert lifted.status_code == 200, lifted.text
    assert HOST not in _due(client, tokens["magistrate"])
    publish_feed(rt.job_context)
    assert _feed_names(client, tokens["isp"]) == []
    assert requisition_jobs.issue_pending(rt.job_context) == 1
    with rt.database.transaction() as s:
        lifting = s.execute(select(Requisition).where(Requisition.order_id == lifted.json()["order_id"])).scalar_one()
        assert lifting.kind == "lifting" and HOST in lifting.names

    # The name's history, as an auditor reads it: every step, in order.
    history = client.get(f"/api/v1/domains/{HOST}/history", headers=bearer(tokens["auditor"]))
    assert history.status_code == 200
    events = history.json()["events"]
    actions = [e["action"] for e in events]
    assert _in_order(actions, [
        "report.received", "submission.created", "report.linked", "submission.approved", "order.created",
        "order.in_feed", "requisition.created", "review.attested", "submission.renewed", "submission.lifted",
        "order.created", "order.in_feed", "requisition.created"]), actions
    renewal = next(e for e in events if e["action"] == "submission.renewed")
    assert renewal["actor"] == "user:magistrate" and renewal["details"]["previous_review_due"] == (
        today() + dt.timedelta(days=10)).isoformat()
    attestation = next(e for e in events if e["action"] == "review.attested")
    assert attestation["actor"] == "user:officer2" and attestation["details"]["evidence_ref"] == "EVD-42-R1"
    assert client.get("/api/v1/audit/verify", headers=bearer(tokens["auditor"])).json()["intact"] is True
