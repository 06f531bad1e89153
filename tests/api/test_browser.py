"""Headless Chromium (Debian's, through Playwright) drives the real server: officer -> magistrate -> auditor,
and the stop page in each language. Screenshots go to test-artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from api.runtime import Runtime
from blocklist import users
from blocklist.models import User
from tests.support.browser import ARTIFACTS, record_hosts
from tests.support.browser import chromium as chromium_on
from tests.support.web import settle_batches

PASSWORD = "correct horse battery"


@pytest.fixture
def chromium(rt: Runtime, people: dict[str, User]) -> Iterator[tuple[Any, str]]:
    with rt.database.transaction() as s:
        for name in ("officer", "magistrate", "auditor"):
            users.set_password(s, actor="test", user=users.get_user(s, name), password=PASSWORD)
    # Listed names resolve to this test's server only: the browser sends nothing anywhere else.
    with chromium_on(rt, hosts=["csam-gallery.test", "mirror-one.test", "stop.blocklist.example"]) as running:
        yield running


def _login(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_officer_magistrate_auditor_and_the_stop_page(chromium: tuple[Any, str], rt: Runtime) -> None:
    browser, port = chromium
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(locale="en-GB")
    hosts = record_hosts(context)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.click("text=Nederlands")  # the login page's language switcher
    assert page.inner_text("h1") == "Aanmelden"
    page.screenshot(path=str(ARTIFACTS / "login-nl.png"), full_page=True)
    page.click("text=English")

    _login(page, url, "officer")
    page.fill("input[name=domain]", "csam-gallery.test")
    single = "form[action='/officer/submit']"
    page.fill(f"{single} input[name=case_number]", "FCCU-2026-0099")
    page.fill(f"{single} input[name=evidence_ref]", "EVD-0099")
    page.fill(f"{single} textarea[name=note]", "reported by the public, verified twice")
    page.select_option(f"{single} select[name=hosting_country]", "NL")
    page.click(f"{single} button[type=submit]")
    assert "#1 csam-gallery.test submitted" in page.inner_text(".info")
    bulk = "form[action='/officer/bulk']"
    page.fill(f"{bulk} textarea[name=names]", "mirror-one.test\nраypal.example\n192.0.2.1")
    page.select_option(f"{bulk} select[name=legal_basis]", "court_order")
    page.fill(f"{bulk} input[name=case_number]", "FCCU-2026-0100")
    page.fill(f"{bulk} input[name=evidence_ref]", "EVD-0100")
    page.fill(f"{bulk} input[name=court]", "Tribunal de première instance de Bruxelles")
    page.fill(f"{bulk} input[name=court_date]", "2026-11-20")
    page.fill(f"{bulk} input[name=court_reference]", "2026/4567")
    page.select_option(f"{bulk} select[name=hosting_country]", "DE")
    page.click(f"{bulk} button[type=submit]")
    settle_batches(rt)  # the scheduler's job, which tests keep off
    page.reload()  # as the progress page's own refresh does
    assert "2 submitted, 1 refused" in page.inner_text("main")
    assert page.locator("table.results tr.refused").count() == 1
    page.screenshot(path=str(ARTIFACTS / "officer.png"), full_page=True)
    page.click("header form button")

    _login(page, url, "magistrate")
    assert page.locator("table.queue tr.flagged").count() == 1  # the homograph
    page.screenshot(path=str(ARTIFACTS / "magistrate-queue.png"), full_page=True)
    page.check("input[name=ids][value='1']")
    page.check("input[name=ids][value='2']")
    page.fill("input[name=reason]", "verified by the FCCU")
    page.click("button[name=decision][value=approve]")
    assert "A requisition to each of the" in page.inner_text("main")  # the confirmation step
    page.click("button.confirm")
    assert "approved 2 as order #1" in page.inner_text(".info")
    page.screenshot(path=str(ARTIFACTS / "magistrate.png"), full_page=True)
    page.click("header form button")

    _login(page, url, "auditor")
    page.fill("input[name=q]", "csam-gallery.test")
    page.press("input[name=q]", "Enter")
    actions = page.inner_text("table.timeline")
    assert "Name submitted" in actions and "Approved: the name is blocked" in actions
    assert "Audit chain: intact" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "auditor.png"), full_page=True)
    context.close()
    assert hosts == {"127.0.0.1"}

    expected = {"fr": "Site bloqué", "nl": "Site geblokkeerd", "de": "Website gesperrt", "en": "Site blocked"}
    for lang, title in expected.items():
        visitor = browser.new_context(locale=lang)
        hosts = record_hosts(visitor)
        stop = visitor.new_page()
        # The stop page's names are reloaded by a background task (api/stoppage.py), within a second or so.
        deadline = time.monotonic() + 10
        while (response := stop.goto(f"http://www.csam-gallery.test:{port}/some/page")) is not None \
                and response.status != 451 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert response is not None and response.status == 451
        assert stop.inner_text("h1") == title and stop.get_attribute("html", "lang") == lang
        assert "+32 2 000 00 00" in stop.inner_text("main")
        stop.screenshot(path=str(ARTIFACTS / f"stop-page-{lang}.png"), full_page=True)
        assert visitor.cookies() == [] and hosts == {"www.csam-gallery.test"}
        visitor.close()

    visitor = browser.new_context(locale="fr-BE")
    hosts = record_hosts(visitor)
    stop = visitor.new_page()
    stop.goto(f"http://mirror-one.test:{port}/")
    assert "Décision judiciaire" in stop.inner_text("main")  # the basis of this name's submission
    stop.click("text=Nederlands")  # the switcher
    assert stop.inner_text("h1") == "Site geblokkeerd" and "Rechterlijke beslissing" in stop.inner_text("main")
    stop.click("a[href^='/appeal']")
    assert stop.inner_text("h1") == "Bezwaarformulier" and "+32 2 000 00 00" in stop.inner_text("main")
    assert stop.input_value("input[name=name]") == "mirror-one.test"  # the form (tests/api/test_appeal_pages.py)
    stop.screenshot(path=str(ARTIFACTS / "appeal-nl.png"), full_page=True)
    stop.goto(f"http://stop.blocklist.example:{port}/")
    assert stop.inner_text("h1") == "Site bloqué"
    assert visitor.cookies() == [] and hosts == {"mirror-one.test", "stop.blocklist.example"}
    visitor.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_report_form_in_each_language(chromium: tuple[Any, str]) -> None:
    """The public form without JavaScript (disabled here): a receipt, no cookie, no request to the address."""
    browser, port = chromium
    url = f"http://127.0.0.1:{port}"
    titles = {"fr": "Signaler un site", "nl": "Een website melden", "de": "Eine Website melden",
              "en": "Report a website"}
    for lang, title in titles.items():
        visitor = browser.new_context(locale=lang, java_script_enabled=False)
        hosts = record_hosts(visitor)
        page = visitor.new_page()
        page.goto(f"{url}/report")
        assert page.inner_text("h1") == title and page.get_attribute("html", "lang") == lang
        box = page.locator("input[name=website]").bounding_box()
        assert box is not None and box["x"] + box["width"] < 0  # the honeypot is off screen: not for people
        page.screenshot(path=str(ARTIFACTS / f"report-{lang}.png"), full_page=True)
        page.fill("input[name=address]", f"https://reported-{lang}.test/gallery")
        page.fill("textarea[name=description]", "seen on a forum")
        page.click("button[type=submit]")
        receipt = page.inner_text(".receipt")
        assert receipt.startswith("R-") and len(receipt) == 12 and "reported-" not in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / f"report-receipt-{lang}.png"), full_page=True)
        assert visitor.cookies() == [] and hosts == {"127.0.0.1"}
        visitor.close()
    visitor = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = visitor.new_page()
    page.goto(f"{url}/report")
    page.click("text=Deutsch")  # the switcher
    assert page.inner_text("h1") == titles["de"]
    visitor.close()
