"""The web pages with a real session: login (CSRF, lock-out), each role's pages and actions, languages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.runtime import Runtime
from blocklist import isps, users
from blocklist.models import User
from requisitions import jobs

PASSWORD = "correct horse battery"


@pytest.fixture
def browser_people(rt: Runtime, people: dict[str, User]) -> dict[str, User]:
    with rt.database.transaction() as s:
        for name in ("officer", "magistrate", "auditor", "admin"):
            users.set_password(s, actor="test", user=users.get_user(s, name), password=PASSWORD)
        users.get_user(s, "magistrate").language = "fr"
        users.get_user(s, "officer").language = "nl"
        isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
    return people


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> object:
    token = csrf(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf": token},
                       follow_redirects=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_officer_submits_magistrate_approves_auditor_reads(client: TestClient, rt: Runtime,
                                                           browser_people: dict[str, User]) -> None:
    page = login(client, "officer")
    assert page.status_code == 200 and "Een geverifieerd domein indienen" in page.text  # Dutch for this officer
    token = csrf(page.text)
    sent = client.post("/officer/submit", follow_redirects=True, data={
        "csrf": token, "domain": "https://csam-gallery.test/x", "legal_basis": "art39bis", "case_number": "FCCU-9",
        "evidence_ref": "EVD-9", "verified_on": "2026-11-27", "scope": "domain_and_subdomains"})
    assert "csam-gallery.test" in sent.text and "submitted" in sent.text
    refused = client.post("/officer/submit", follow_redirects=True, data={
        "csrf": token, "domain": "www.google.com", "legal_basis": "art39bis", "case_number": "FCCU-9",
        "evidence_ref": "EVD-9", "verified_on": "2026-11-27"})
    assert "protected: www.google.com is under" in refused.text
    assert 'value="www.google.com"' in refused.text  # the form keeps what was typed
    bulk = client.post("/officer/bulk", follow_redirects=True, data={
        "csrf": token, "names": "one.test\ntwo.test\n192.0.2.1", "legal_basis": "art39bis", "case_number": "FCCU-9",
        "evidence_ref": "EVD-9", "verified_on": "2026-11-27"})
    assert "2 submitted, 1 refused" in bulk.text
    client.post("/logout", data={"csrf": csrf(bulk.text)})
    queue = login(client, "magistrate")
    assert "Soumissions en attente" in queue.text and "csam-gallery.test" in queue.text
    ids = re.findall(r'name="ids" value="(\d+)"', queue.text)
    decided = client.post("/magistrate/decide", follow_redirects=True,
                          data={"csrf": csrf(queue.text), "ids": ids[:2], "decision": "approve", "reason": "ok"})
    assert "approved 2 as order" in decided.text
    client.post("/logout", data={"csrf": csrf(decided.text)})
    found = login(client, "auditor")
    timeline = client.get("/auditor", params={"q": "FCCU-9"})
    assert "submission.approved" in timeline.text and "audit chain intact" in timeline.text
    with rt.database.transaction():
        pass
    jobs.issue_pending(rt.database, rt.settings.model_copy(update={"requisitions_wait_for_feed": False}))
    listing = client.get("/requisitions")
    assert "REQ-" in listing.text and ".pdf" in listing.text
    pdf_link = re.search(r'href="(/requisitions/\d+\.pdf)"', listing.text)
    assert pdf_link and client.get(pdf_link.group(1)).content.startswith(b"%PDF")
    assert found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_login_refusals(client: TestClient, browser_people: dict[str, User]) -> None:
    no_csrf = client.post("/login", data={"username": "officer", "password": PASSWORD})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    for _ in range(5):
        wrong = login(client, "officer", "wrong password!")
        assert wrong.status_code == 401 and "wrong username or password" in wrong.text  # type: ignore[attr-defined]
    locked = login(client, "officer")
    assert locked.status_code == 429 and "locked" in locked.text  # type: ignore[attr-defined]
    assert client.get("/officer", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_roles_cannot_open_each_others_pages(client: TestClient, browser_people: dict[str, User]) -> None:
    login(client, "admin")
    assert client.get("/admin").status_code == 200
    for path in ("/officer", "/magistrate", "/requisitions"):
        response = client.get(path)
        assert response.status_code == 403 and "only" in response.text
    made = client.post("/admin/users", follow_redirects=True, data={
        "csrf": csrf(client.get("/admin").text), "username": "newbie", "role": "auditor", "language": "en"})
    assert "newbie: bl_" in made.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_overdue_requisitions_are_shown(client: TestClient, rt: Runtime, browser_people: dict[str, User]) -> None:
    import datetime as dt

    from sqlalchemy import update

    from blocklist import workflow
    from blocklist.names import NamePolicy
    from requisitions.models import Requisition
    from tests.blocklist.helpers import submission

    with rt.database.transaction() as s:
        sub = workflow.submit(s, actor=browser_people["officer"], data=submission(), policy=NamePolicy.build())
    with rt.database.transaction() as s:
        workflow.approve(s, actor=browser_people["magistrate2"], submission_ids=[sub.id])
    jobs.issue_pending(rt.database, rt.settings.model_copy(update={"requisitions_wait_for_feed": False}))
    with rt.database.transaction() as s:
        s.execute(update(Requisition).values(deadline=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    page = login(client, "magistrate")
    assert "En retard: 1" in page.text  # type: ignore[attr-defined]
