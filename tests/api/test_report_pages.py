"""The public report form (/report) and the officers' triage page (/triage); what the form refuses also in
headless Chromium."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from api.web.public_forms import SourceLimiter
from blocklist import reports
from blocklist.models import AuditEvent, Report, ReportOutcome, User
from tests.support.browser import check_form_refusals, chromium
from tests.support.web import csrf, give_passwords, login

HEADINGS = {"fr": "Signaler un site", "nl": "Een website melden", "de": "Eine Website melden",
            "en": "Report a website"}


def _stored(rt: Runtime) -> int:
    with rt.database.transaction() as s:
        return int(s.execute(select(func.count(Report.id))).scalar_one())


@pytest.mark.parametrize("lang", ["fr", "nl", "de", "en"])
def test_form_in_each_language_by_accept_language_with_switcher(client: TestClient, lang: str) -> None:
    page = client.get("/report", headers={"Accept-Language": f"{lang};q=0.9"})
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert HEADINGS[lang] in page.text and "<script" not in page.text
    for other in ("fr", "nl", "de", "en"):
        assert f'href="/report?lang={other}"' in page.text
    assert "set-cookie" not in page.headers
    switched = client.get(f"/report?lang={lang}", headers={"Accept-Language": "en"})
    assert HEADINGS[lang] in switched.text


def test_report_gets_a_receipt_and_nothing_else(client: TestClient, rt: Runtime) -> None:
    page = client.post("/report", data={"address": "https://abuse-gallery.test/x", "found_at": "a forum",
                                        "description": "seen", "lang": "nl"})
    assert page.status_code == 200 and "set-cookie" not in page.headers
    receipt = re.search(r'class="receipt">(R-[A-Z2-7]{10})<', page.text)
    assert receipt and "Ontvangstnummer" in page.text
    assert "abuse-gallery" not in page.text  # the address is never shown back, nor whether it is listed
    with rt.database.transaction() as s:
        report = s.execute(select(Report)).scalar_one()
        assert report.receipt == receipt.group(1) and report.contact is None and report.host == "abuse-gallery.test"


def test_a_listed_name_gets_the_same_answer(client: TestClient, rt: Runtime, people: dict[str, User]) -> None:
    from tests.support.factories import approved
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "listed.test")
    listed = client.post("/report", data={"address": "listed.test", "lang": "en"})
    unlisted = client.post("/report", data={"address": "unlisted.test", "lang": "en"})
    strip = re.compile(r"R-[A-Z2-7]{10}")
    assert listed.status_code == unlisted.status_code == 200
    assert strip.sub("", listed.text) == strip.sub("", unlisted.text)


@pytest.mark.parametrize(("data", "status", "words"), [
    ({"address": "x.test", "website": "http://spam.example"}, 400, "Laissez ce champ vide"),
    ({"address": "x.test", "description": "d" * 2001}, 422, "2000"),
    ({"address": "x" * 2049}, 422, "2048"),
    ({"address": "x.test", "contact": "c" * 255}, 422, "254"),
    ({"address": ""}, 422, "Indiquez"),
    ({"address": "192.0.2.1"}, 422, "nom de site"),
])
def test_refusals_are_4xx_in_the_language_and_write_nothing(client: TestClient, rt: Runtime, data: dict[str, str],
                                                            status: int, words: str) -> None:
    page = client.post("/report", data={**data, "lang": "fr"})
    assert page.status_code == status and words in page.text and 'role="alert"' in page.text
    assert _stored(rt) == 0
    with rt.database.transaction() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "report.received")).first() is None


def test_rate_limit_per_source_in_memory(client: TestClient, rt: Runtime) -> None:
    client.app.state.report_limiter = SourceLimiter(burst=2, per_second=0.0001)  # type: ignore[attr-defined]
    for n in range(2):
        assert client.post("/report", data={"address": f"r{n}.test", "lang": "de"}).status_code == 200
    limited = client.post("/report", data={"address": "r3.test", "lang": "de"})
    assert limited.status_code == 429 and "zu viele Meldungen" in limited.text and limited.headers["retry-after"]
    assert _stored(rt) == 2


def test_limiter_is_bounded_and_refills() -> None:
    now = [0.0]
    limiter = SourceLimiter(burst=1, per_second=1.0, max_sources=2, clock=lambda: now[0])
    assert limiter.allow("a") and not limiter.allow("a")
    now[0] = 1.5
    assert limiter.allow("a")
    limiter.allow("b")
    limiter.allow("c")
    assert len(limiter._sources) == 2


def test_triage_page_dismiss_and_open_submission(client: TestClient, rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "officer")
    with rt.database.transaction() as s:
        ids = [reports.receive_public(s, data=reports.ReportIn(a, description="desc")).id
               for a in ("page.test", "page.test/x", "junk.test")]
    login(client, "officer")
    page = client.get("/triage")
    assert page.status_code == 200 and "page.test" in page.text and "junk.test" in page.text
    assert client.get("/triage?sort=age").status_code == 200
    token = csrf(page.text)
    client.post("/triage/dismiss", data={"host": "junk.test", "reason": "not abuse material", "csrf": token})
    assert "junk.test" not in client.get("/triage").text
    link = re.search(r'href="(/officer\?domain=page.test&amp;reports=[0-9,]+)"', page.text)
    assert link
    form = client.get(link.group(1).replace("&amp;", "&"))
    assert f'name="report_ids" value="{ids[0]},{ids[1]}"' in form.text
    created = client.post("/officer/submit", data={
        "domain": "page.test", "legal_basis": "art39bis", "case_number": "C-7", "evidence_ref": "E-7",
        "verified_on": dt.date.today().isoformat(), "scope": "domain_and_subdomains", "hosting_country": "NL",
        "report_ids": f"{ids[0]},{ids[1]}", "csrf": csrf(form.text)}, follow_redirects=False)
    assert created.status_code == 303
    with rt.database.transaction() as s:
        outcomes = {o.report_id: o.outcome for o in s.execute(select(ReportOutcome)).scalars()}
    assert outcomes == {ids[0]: "linked", ids[1]: "linked", ids[2]: "dismissed"}


def test_triage_page_is_for_officers(client: TestClient, rt: Runtime, people: dict[str, User]) -> None:
    assert client.get("/triage", follow_redirects=False).status_code in (303, 307)
    give_passwords(rt, "magistrate")
    login(client, "magistrate")
    assert client.get("/triage").status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_report_form_refusals_in_chromium(rt: Runtime) -> None:
    """The form in each language is driven in Chromium by tests/api/test_browser.py; here what it refuses."""
    app = create_app(rt)
    with chromium(rt, app=app) as (browser, port):
        check_form_refusals(browser, app, f"http://127.0.0.1:{port}/report", form="report",
                            fill={"[name=address]": "https://reported.test/x"}, long_field="description",
                            limit=reports.MAX_DESCRIPTION, words={
                                "too_long": "“Short description (optional)” is too long: at most 2000 characters.",
                                "honeypot": "a field meant to stay empty was filled in",
                                "limited": "Too many reports came from your address"})
    assert _stored(rt) == 0
