"""The auditor's timeline as a prosecutor reads it (issue 14, finding 7): plain words in the reader's language,
people and access providers by name, Brussels time with UTC on hover, holds and delivery attempts included, a
search that finds a URL of a covered subdomain and a part of a case number in any case, and the exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist import users
from blocklist.models import User
from tests.support.browser import ARTIFACTS, chromium
from tests.support.stories import held_block_and_catch_up
from tests.support.web import give_passwords, log_in_page, login

CASE = "FCCU-2026-0099"


@pytest.fixture
def story(rt: Runtime, people: dict[str, User]) -> Runtime:
    held_block_and_catch_up(rt, people, case_number=CASE)
    with rt.database.transaction() as s:
        for name, display in (("auditor", "Procureur A. Janssens"), ("magistrate", "Mr. M. Peeters"),
                              ("magistrate2", "Mr. L. Dubois"), ("officer", "Insp. K. Maes")):
            users.update_profile(s, actor="test", user=users.get_user(s, name), display_name=display,
                                 language="nl" if name == "auditor" else None)
    give_passwords(rt, "auditor", "officer", "magistrate")
    return rt


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_dutch_auditor_reads_the_history_of_a_covered_subdomain(story: Runtime) -> None:
    with chromium(story) as (browser, port):
        page = browser.new_context(locale="nl-BE", accept_downloads=True).new_page()
        log_in_page(page, f"http://127.0.0.1:{port}", "auditor")
        page.fill("#q", "https://www.csam-gallery.test/x")
        page.press("#q", "Enter")
        assert "csam-gallery.test" in page.inner_text("table.submissions")
        timeline = page.inner_text("table.timeline")
        for words in ("Naam ingediend", "Goedgekeurd: de naam is geblokkeerd",
                      "Feedwijziging tegengehouden voor een tweede bevestiging", "Vordering opgesteld",
                      "Poging om de vordering te e-mailen", "Vordering gemaild"):
            assert words in timeline, words
        for code in ("submission.created", "feed.held", "isp_id", "_"):  # no event codes, no raw field names
            assert code not in timeline, code
        assert "Mr. M. Peeters" in timeline and "Mr. L. Dubois" in timeline and "Insp. K. Maes" in timeline
        assert "Late ISP" in timeline and "toegangsverstrekker" in timeline
        assert "Tijd (Brussel)" in timeline
        assert "wijzigt 1 namen (+1 -0) van 0: meer dan 0% van de lijst" in timeline  # the hold's reason, in Dutch
        title = page.get_attribute("table.timeline time", "title") or ""
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", title), title  # no microseconds
        assert not re.search(r"\d\d:\d\d:\d\d\.\d", timeline)
        page.screenshot(path=str(ARTIFACTS / "auditor-timeline-nl.png"), full_page=True)
        with page.expect_download() as pdf:
            page.click("a[href$='export.pdf']")
        assert pdf.value.suggested_filename == "history-www.csam-gallery.test.pdf"
        with page.expect_download() as bundle:
            page.click("a[href$='export.json']")
        exported = json.loads(Path(bundle.value.path()).read_bytes())
        assert "signature" in exported and exported["bundle"]["names"][-1] == "csam-gallery.test"

        page.fill("#q", "fccu-2026-00")  # a part of the case number, in another case
        page.press("#q", "Enter")
        assert f"Dossier: {CASE}" in page.inner_text("main") and "Naam ingediend" in page.inner_text("table.timeline")


def test_the_submission_page_shows_the_same_readable_history(story: Runtime) -> None:
    client = TestClient(create_app(story))
    login(client, "officer")
    page = client.get("/submissions/1?lang=en").text
    for words in ("Name submitted", "Approved: the name is blocked", "Feed change held for a second confirmation",
                  "Held feed change confirmed", "Mr. L. Dubois"):
        assert words in page, words
    assert 'data-action="submission.created"' in page and "isp_id" not in page


def test_officers_read_but_do_not_export(story: Runtime) -> None:
    client = TestClient(create_app(story))
    login(client, "officer")
    page = client.get("/auditor", params={"q": "csam-gallery.test"}).text
    assert "Name submitted" in page and "export.pdf" not in page
    assert client.get("/auditor/domains/csam-gallery.test/export.json").status_code == 403
    auditor = TestClient(create_app(story))
    login(auditor, "auditor")
    case = auditor.get(f"/auditor/cases/{CASE.lower()}/export.json")
    assert case.status_code == 200 and case.headers["x-content-sha256"]
    assert auditor.get("/auditor/domains/never-listed.test/export.json").status_code == 404
