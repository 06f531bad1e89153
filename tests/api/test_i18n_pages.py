"""Every page in the reader's language (issue 14, findings 3 and 10): refusals as plain sentences next to their field
with a summary at the top, the language switcher on staff pages, error pages with the reader's header, and the JSON
API's reasons in the caller's language."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist import users
from blocklist.models import User
from tests.support.browser import ARTIFACTS, chromium, record_hosts
from tests.support.web import PASSWORD, csrf, login

CASE = {"legal_basis": "art39bis", "case_number": "FCCU-14", "evidence_ref": "EVD-14", "scope": "exact",
        "verified_on": dt.date.today().isoformat(), "hosting_country": "NL"}


@pytest.fixture
def dutch(rt: Runtime, people: dict[str, User]) -> dict[str, User]:
    """The officer reads Dutch, the magistrate French; both have a password."""
    with rt.database.transaction() as s:
        for name, language in (("officer", "nl"), ("magistrate", "fr")):
            user = users.get_user(s, name)
            users.set_password(s, actor="test", user=user, password=PASSWORD)
            user.language = language
    return people


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_dutch_officer_sees_every_refusal_in_dutch_next_to_its_field(rt: Runtime, dutch: dict[str, User]) -> None:
    """In Chromium: the form refused for a missing case number and court, a protected name and a duplicate; each
    reason in Dutch beside its field, listed in the summary at the top, and nothing technical."""
    with chromium(rt) as (browser, port):
        context = browser.new_context(locale="nl")
        hosts = record_hosts(context)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/login")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        form = "form[action='/officer/submit']"
        page.fill(f"{form} #domain", "court.test")
        page.select_option(f"{form} #legal_basis", "court_order")
        page.fill(f"{form} #evidence_ref", "EVD-1")
        page.select_option(f"{form} #hosting_country", "NL")
        page.click(f"{form} button[type=submit]")
        summary = page.locator(f"{form} .error-summary")
        assert summary.locator("h2").inner_text() == "Er is een probleem"
        assert page.inner_text(f"{form} #case_number-error").endswith("Geef een dossiernummer op")
        assert page.inner_text(f"{form} #court-error").endswith("Geef de naam van de rechtbank op")
        assert page.get_attribute(f"{form} #case_number", "aria-describedby") == "case_number-error"
        # The summary links each problem to its field.
        assert summary.locator("a[href='#case_number']").inner_text() == "Geef een dossiernummer op"
        assert page.input_value(f"{form} #evidence_ref") == "EVD-1"  # what was typed stays
        page.screenshot(path=str(ARTIFACTS / "i18n-refusals-nl.png"), full_page=True)
        page.fill(f"{form} #domain", "www.protected.example")
        page.select_option(f"{form} #legal_basis", "art39bis")
        page.fill(f"{form} #case_number", "FCCU-14")
        page.click(f"{form} button[type=submit]")
        protected = page.inner_text(f"{form} #domain-error")
        assert "beschermd: www.protected.example valt onder de beschermde naam protected.example" in protected
        main = page.inner_text("main")
        for technical in ("court_order", "String should", "refused:", "protected:"):
            assert technical not in main, technical
    assert hosts == {"127.0.0.1"}


def test_duplicates_and_written_reasons_are_refused_in_the_users_language(rt: Runtime,
                                                                          dutch: dict[str, User]) -> None:
    officer = TestClient(create_app(rt))
    token = csrf(login(officer, "officer").text)
    officer.post("/officer/submit", data={"csrf": token, "domain": "twice.test", **CASE})
    again = officer.post("/officer/submit", data={"csrf": token, "domain": "twice.test", **CASE})
    assert again.status_code == 409
    assert "twice.test is al in behandeling als indiening #1 (dossier FCCU-14)" in again.text
    magistrate = TestClient(create_app(rt))
    token = csrf(login(magistrate, "magistrate").text)
    rejected = magistrate.post("/magistrate/decide", follow_redirects=True,
                               data={"csrf": token, "ids": "1", "decision": "reject", "reason": ""})
    assert "un rejet demande un motif écrit" in rejected.text and '<html lang="fr">' in rejected.text


def test_the_language_switcher_on_staff_pages(rt: Runtime, dutch: dict[str, User]) -> None:
    client = TestClient(create_app(rt))
    home = login(client, "officer")
    assert '<html lang="nl">' in home.text and 'class="lang-switch"' in home.text  # the account's language
    german = client.get("/officer?lang=de")
    assert '<html lang="de">' in german.text and "Eine geprüfte Domain einreichen" in german.text
    assert '<option value="de" lang="de" selected>Deutsch</option>' in german.text
    # The choice stays for the pages that follow, and the query of the page is kept by the switcher's form.
    assert '<html lang="de">' in client.get("/triage").text
    searched = client.get("/officer?domain=kept.test&lang=fr")
    assert '<html lang="fr">' in searched.text and 'name="domain" value="kept.test"' in searched.text
    assert client.get("/officer?lang=xx").text.count('<html lang="fr">') == 1  # an unknown language: no change
    # After logging in again, the account's language applies until another choice.
    client.post("/logout", data={"csrf": csrf(searched.text)})
    assert '<html lang="nl">' in login(client, "officer").text


def test_error_pages_speak_the_readers_language_with_their_header(rt: Runtime, dutch: dict[str, User]) -> None:
    client = TestClient(create_app(rt))
    login(client, "officer")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and '<html lang="nl">' in missing.text
    assert "Deze pagina bestaat niet" in missing.text and "Afmelden" in missing.text  # logged in: the header says so
    forbidden = client.get("/magistrate")
    assert forbidden.status_code == 403 and '<html lang="nl">' in forbidden.text and "Afmelden" in forbidden.text
    anonymous = TestClient(create_app(rt)).get("/no-such-page", headers={"Accept-Language": "de"})
    assert anonymous.status_code == 404 and "Diese Seite gibt es nicht" in anonymous.text


def test_the_api_answers_in_the_callers_language(rt: Runtime, dutch: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        token = users.issue_token(s, actor="test", user=users.get_user(s, "officer"))
    client = TestClient(create_app(rt))
    body = {**CASE, "legal_basis": "court_order", "domain": "api.test"}
    refused = client.post("/api/v1/submissions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422
    reasons = {p["field"]: p["reason"] for p in refused.json()["problems"]}
    assert reasons == {None: "Een rechterlijke beslissing vereist haar rechtbank, datum en referentie (veld "
                             "court_order)"}
    protected = client.post("/api/v1/submissions", json={**CASE, "domain": "www.protected.example"},
                            headers={"Authorization": f"Bearer {token}"})
    answer = protected.json()
    assert answer["code"] == "protected"
    assert answer["reason"].startswith("'www.protected.example' geweigerd: beschermd:")
    assert answer["reason_en"].startswith("'www.protected.example' refused: protected:")
    english = client.post("/api/v1/submissions", json={**CASE, "domain": "www.protected.example"},
                          headers={"Authorization": f"Bearer {token}", "Accept-Language": "de"})
    assert english.json()["reason"].startswith("'www.protected.example' geweigerd")  # the account's language wins
