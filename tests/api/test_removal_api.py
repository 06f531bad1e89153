"""The hosting of a submission and the removal notices, over the JSON API and the pages: a missing or bad country is
a 422 in the officer's language (API, web form, bulk); notices are listed, downloaded, acknowledged and recorded
removed (officers only), and a removed site shows on the magistrate's page as proposed for lifting."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.runtime import Runtime
from blocklist import reports, users, workflow
from blocklist.jobs import JobContext
from blocklist.models import AuditEvent, Submission, User
from requisitions import jobs
from requisitions.models import RemovalOutcome
from tests.api.conftest import bearer
from tests.support.clock import today
from tests.support.factories import approved
from tests.support.web import csrf, give_passwords, login, settle_batches


def body(domain: str = "hosted.test", **extra: Any) -> dict[str, Any]:
    return {"domain": domain, "legal_basis": "art39bis", "case_number": "FCCU-2026-0600", "evidence_ref": "EVD-6",
            "verified_on": today().isoformat(), **extra}


def counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.database.transaction() as s:
        return tuple(s.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                     for t in (Submission, RemovalOutcome, AuditEvent))


def set_language(rt: Runtime, **languages: str) -> None:
    with rt.database.transaction() as s:
        for name, language in languages.items():
            users.get_user(s, name).language = language


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# --- the hosting of a submission ------------------------------------------------------------------------------

def test_the_api_refuses_a_missing_or_bad_country_in_the_officers_language(
    client: TestClient, tokens: dict[str, str], rt: Runtime
) -> None:
    set_language(rt, officer="fr")
    before = counts(rt)
    officer = bearer(tokens["officer"])
    missing = client.post("/api/v1/submissions", json=body(), headers=officer)
    assert missing.status_code == 422, missing.text
    assert missing.json()["field"] == "hosting_country"
    assert missing.json()["reason"].startswith("le pays d'hébergement est requis")
    wrong = client.post("/api/v1/submissions", json=body(hosting_country="ZZ"), headers=officer)
    assert wrong.status_code == 422 and "'ZZ' n'est pas un code de pays" in wrong.json()["reason"]
    english = client.post("/api/v1/submissions", json=body(hosting_country="BEL"), headers=bearer(tokens["officer2"]))
    assert english.status_code == 422 and "'BEL' is not a country code" in english.json()["reason"]
    bad_mail = client.post("/api/v1/submissions", json=body(hosting_country="BE", hosting_abuse_email="abuse"),
                           headers=officer)
    assert bad_mail.status_code == 422 and bad_mail.json()["field"] == "hosting_abuse_email"
    bulk = client.post("/api/v1/submissions/bulk", headers=officer, json={
        **{k: v for k, v in body().items() if k != "domain"}, "domains": ["one.test", "two.test"]})
    assert bulk.status_code == 422 and bulk.json()["field"] == "hosting_country"
    assert counts(rt) == before
    made = client.post("/api/v1/submissions", headers=officer, json=body(
        hosting_country="be", hosting_provider="Hébergeur Démo SA", hosting_abuse_email="abuse@hosting.example"))
    assert made.status_code == 201, made.text
    assert {k: made.json()[k] for k in ("hosting_country", "hosting_provider", "hosting_abuse_email",
                                        "notice_language")} == {
        "hosting_country": "BE", "hosting_provider": "Hébergeur Démo SA",
        "hosting_abuse_email": "abuse@hosting.example", "notice_language": "fr"}
    many = client.post("/api/v1/submissions/bulk", headers=officer, json={
        **{k: v for k, v in body().items() if k != "domain"}, "hosting_country": "US",
        "domains": ["one.test", "two.test"]})
    assert many.status_code == 201 and many.json()["accepted"] == 2
    got = client.get(f"/api/v1/submissions/{many.json()['results'][0]['id']}", headers=officer).json()
    assert (got["hosting_country"], got["notice_language"]) == ("US", None)
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SubmissionCreate"]
    assert "hosting_country" in schema["required"]


def test_the_web_forms_refuse_a_missing_country_and_keep_what_was_typed(
    client: TestClient, rt: Runtime, people: dict[str, User]
) -> None:
    give_passwords(rt, "officer")
    set_language(rt, officer="nl")
    page = login(client, "officer")
    options = re.findall(r'<option value="([A-Z]{0,2})"', page.text.split('name="hosting_country"')[1])
    assert options[:2] == ["", "BE"] and len(options) == 250  # to choose, Belgium first, then the others
    assert "België (BE)" in page.text and "Land van hosting" in page.text
    token = csrf(page.text)
    before = counts(rt)
    case = {**{k: v for k, v in body().items() if k != "domain"}, "csrf": token, "scope": "domain_and_subdomains"}
    single = client.post("/officer/submit", data={**case, "domain": "kept.test", "hosting_provider": "Host NV"})
    assert single.status_code == 422 and "het land van hosting is verplicht" in text_of(single.text)
    assert 'value="kept.test"' in single.text and 'value="Host NV"' in single.text
    wrong = client.post("/officer/submit", data={**case, "domain": "kept.test", "hosting_country": "QQ"})
    assert wrong.status_code == 422 and "'QQ' is geen landcode" in text_of(wrong.text)
    bulk = client.post("/officer/bulk", data={**case, "names": "bulk-a.test\nbulk-b.test"})
    assert bulk.status_code == 422 and "het land van hosting is verplicht" in text_of(bulk.text)
    assert "bulk-a.test\nbulk-b.test" in bulk.text
    assert counts(rt) == before
    sent = client.post("/officer/submit", follow_redirects=False, data={
        **case, "domain": "kept.test", "hosting_country": "BE", "hosting_abuse_email": "abuse@hosting.example",
        "notice_language": "de"})
    assert sent.status_code == 303
    done = client.post("/officer/bulk", data={**case, "names": "bulk-a.test\nbulk-b.test", "hosting_country": "FR"})
    assert done.status_code == 200 and "0 van 2 namen gecontroleerd" in text_of(done.text)  # its progress page
    settle_batches(rt)
    with rt.database.transaction() as s:
        stored = {sub.domain: (sub.hosting_country, sub.hosting_abuse_email, sub.notice_language)
                  for sub in s.execute(select(Submission)).scalars()}
    assert stored == {"kept.test": ("BE", "abuse@hosting.example", "de"), "bulk-a.test": ("FR", None, None),
                      "bulk-b.test": ("FR", None, None)}


def test_a_submission_opened_from_triage_asks_for_the_country(client: TestClient, rt: Runtime,
                                                               people: dict[str, User]) -> None:
    give_passwords(rt, "officer")
    with rt.database.transaction() as s:
        report_id = reports.receive_public(s, data=reports.ReportIn("reported-here.test")).id
    login(client, "officer")
    queue = client.get("/triage").text
    link = re.search(r'href="(/officer\?domain=reported-here.test&amp;reports=[0-9,]+)"', queue)
    assert link
    form = client.get(html.unescape(link.group(1))).text
    assert 'value="reported-here.test"' in form and f'value="{report_id}"' in form
    chooser = form.split('id="hosting_country"')[1].split("</select>")[0]
    assert "selected" not in chooser and 'required' in form.split('id="hosting_country"')[1][:40]


# --- removal notices ---------------------------------------------------------------------------------------------

def _issued(rt: Runtime, people: dict[str, User], domain: str = "taken-down.test") -> int:
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], domain, hosting_country="BE",
                 hosting_provider="Hébergeur Démo SA")
    assert jobs.issue_removal_notices(JobContext.standalone(rt.database, rt.settings)) == 1
    with rt.database.transaction() as s:
        return workflow.approved_submission(s, domain).id


def test_removal_notices_over_the_api(client: TestClient, tokens: dict[str, str], rt: Runtime,
                                      people: dict[str, User]) -> None:
    _issued(rt, people)
    officer = bearer(tokens["officer"])
    for reader in ("officer", "magistrate", "auditor"):
        listed = client.get("/api/v1/removal-notices", headers=bearer(tokens[reader]))
        assert listed.status_code == 200 and len(listed.json()) == 1, reader
    (notice,) = client.get("/api/v1/removal-notices?status=no_address", headers=officer).json()
    assert (notice["domain"], notice["status"], notice["deliver_by_hand"], notice["email"]) == (
        "taken-down.test", "no_address", True, None)
    assert client.get("/api/v1/removal-notices?status=sent", headers=officer).json() == []
    assert client.get("/api/v1/removal-notices?status=lost", headers=officer).status_code == 422
    assert client.get("/api/v1/removal-notices", headers=bearer(tokens["admin"])).status_code == 403
    assert client.get("/api/v1/removal-notices", headers=bearer(tokens["isp"])).status_code == 401
    pdf = client.get(notice["document"], headers=bearer(tokens["auditor"]))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == pdf.headers["x-content-sha256"] == notice["pdf_sha256"]
    url = f"/api/v1/removal-notices/{notice['id']}"
    assert client.get(url + "9", headers=officer).status_code == 404
    before = counts(rt)
    assert client.post(url + "/acknowledge", json={}, headers=bearer(tokens["magistrate"])).status_code == 403
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    late = client.post(url + "/acknowledge", json={"acknowledged_on": future}, headers=officer)
    assert late.status_code == 422 and late.json()["field"] == "acknowledged_on"
    assert client.post(url + "/removed", json={"removed_on": today().isoformat()}, headers=officer).status_code == 422
    assert client.post(url + "/removed", json={"removed_on": today().isoformat(), "evidence_ref": " "},
                       headers=officer).status_code == 422
    assert counts(rt) == before
    ack = client.post(url + "/acknowledge", json={"reference": "TICKET-9"}, headers=officer)
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "acknowledged" and ack.json()["acknowledged"]["reference"] == "TICKET-9"
    assert ack.json()["acknowledged"]["recorded_by"] == "user:officer" and ack.json()["removed"] is None
    assert client.post(url + "/acknowledge", headers=officer).status_code == 409
    gone = client.post(url + "/removed", json={"removed_on": today().isoformat(), "evidence_ref": "EVD-GONE"},
                       headers=bearer(tokens["officer2"]))
    assert gone.status_code == 200 and gone.json()["status"] == "removed"
    assert gone.json()["removed"] == {**gone.json()["removed"], "on": today().isoformat(), "reference": "EVD-GONE"}
    history = client.get("/api/v1/domains/taken-down.test/history", headers=bearer(tokens["auditor"])).json()
    actions = [e["action"] for e in history["events"]]
    assert actions[-3:] == ["removal_notice.created", "removal_notice.acknowledged", "removal_notice.removed"]
    # Still blocked: removal proposes the lifting, a magistrate decides it.
    name = client.get(f"/api/v1/submissions/{notice['submission_id']}", headers=officer).json()
    assert name["status"] == "approved"


def test_removed_is_proposed_for_lifting_on_the_magistrates_page(client: TestClient, rt: Runtime,
                                                                 people: dict[str, User]) -> None:
    give_passwords(rt, "officer", "magistrate2")
    set_language(rt, magistrate2="fr")
    submission_id = _issued(rt, people)
    page = login(client, "officer")
    assert "pas d'adresse" not in page.text  # the officer reads English
    notices = client.get("/removal-notices")
    assert notices.status_code == 200 and "no address: deliver by hand" in notices.text
    assert "Hébergeur Démo SA" in notices.text
    (notice_id,) = re.findall(r'href="/removal-notices/([0-9]+)\.pdf"', notices.text)
    assert client.get(f"/removal-notices/{notice_id}.pdf").headers["content-type"] == "application/pdf"
    token = csrf(notices.text)
    before = counts(rt)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    refused = client.post(f"/removal-notices/{notice_id}/removed", follow_redirects=True,
                          data={"csrf": token, "on": future, "evidence_ref": "EVD-GONE"})
    assert "removed_on cannot be in the future" in text_of(refused.text)
    refused = client.post(f"/removal-notices/{notice_id}/acknowledge", follow_redirects=True,
                          data={"csrf": token, "on": "12/01/2026"})
    assert "acknowledged_on: a date is written YYYY-MM-DD" in text_of(refused.text)
    assert counts(rt) == before
    ack = client.post(f"/removal-notices/{notice_id}/acknowledge", follow_redirects=True,
                      data={"csrf": token, "on": today().isoformat(), "reference": "by phone"})
    assert "acknowledgement recorded" in text_of(ack.text) and "acknowledged by the provider" in ack.text
    gone = client.post(f"/removal-notices/{notice_id}/removed", follow_redirects=True,
                       data={"csrf": token, "on": today().isoformat(), "evidence_ref": "EVD-GONE"})
    assert "proposed to the magistrates for lifting" in text_of(gone.text)
    assert f'action="/removal-notices/{notice_id}/removed"' not in gone.text  # recorded once

    magistrate = TestClient(client.app)
    page = login(magistrate, "magistrate2")
    assert "Retrait confirmé — levée proposée" in page.text
    section = page.text.split('id="removal-proposed"')[1]
    assert "taken-down.test" in section and "EVD-GONE" in section
    lifted = magistrate.post("/magistrate/lift", follow_redirects=True, data={
        "csrf": csrf(page.text), "domain": "taken-down.test", "reason": "removed by its Belgian host",
        "action": "lift", "confirm": "yes"})
    assert lifted.status_code == 200 and 'id="removal-proposed"' not in lifted.text
    with rt.database.transaction() as s:
        sub = s.get(Submission, submission_id)
        assert sub is not None and sub.status == "lifted"


def test_the_removal_notices_page_is_read_only_for_auditors(client: TestClient, rt: Runtime,
                                                            people: dict[str, User]) -> None:
    give_passwords(rt, "auditor", "admin")
    _issued(rt, people)
    login(client, "auditor")
    page = client.get("/removal-notices")
    assert page.status_code == 200 and "taken-down.test" in page.text
    assert "/acknowledge" not in page.text and "/removed" not in page.text
    token = csrf(page.text)
    assert client.post("/removal-notices/1/acknowledge", data={"csrf": token}).status_code == 403
    admin = TestClient(client.app)
    login(admin, "admin")
    assert admin.get("/removal-notices").status_code == 403
