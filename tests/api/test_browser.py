"""Headless Chromium (Debian's, through Playwright) drives the real server: officer -> magistrate -> auditor,
and the stop page in each language. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.runtime import Runtime
from blocklist import users
from blocklist.models import User
from tests.support.ci import missing
from tests.support.server import live_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-gpu", "--disable-quic", "--no-first-run"]


@pytest.fixture
def chromium(rt: Runtime, people: dict[str, User]) -> Iterator[tuple[object, str]]:
    if not os.path.exists(CHROMIUM):
        missing("Chromium", "install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with rt.database.transaction() as s:
        for name in ("officer", "magistrate", "auditor"):
            users.set_password(s, actor="test", user=users.get_user(s, name), password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(rt) as url, sync_playwright() as p:
        port = url.rsplit(":", 1)[1]
        # Listed names resolve to this test's server only: the browser sends nothing anywhere else.
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            *FLAGS, "--host-resolver-rules=MAP csam-gallery.test 127.0.0.1, MAP *.csam-gallery.test 127.0.0.1, "
            "MAP stop.blocklist.example 127.0.0.1, EXCLUDE localhost"])
        try:
            yield browser, port
        finally:
            browser.close()


def _login(page: object, url: str, username: str) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_officer_magistrate_auditor_and_the_stop_page(chromium: tuple[object, str]) -> None:
    browser, port = chromium
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    _login(page, url, "officer")
    page.fill("input[name=domain]", "csam-gallery.test")
    page.fill("form[action='/officer/submit'] input[name=case_number]", "FCCU-2026-0099")
    page.fill("form[action='/officer/submit'] input[name=evidence_ref]", "EVD-0099")
    page.click("form[action='/officer/submit'] button[type=submit]")
    assert "submitted" in page.inner_text(".info")
    page.screenshot(path=str(ARTIFACTS / "officer.png"), full_page=True)
    page.click("header form button")

    _login(page, url, "magistrate")
    page.check("input[name=ids]")
    page.fill("input[name=reason]", "verified by the FCCU")
    page.click("button[name=decision][value=approve]")
    assert "approved 1 as order" in page.inner_text(".info")
    page.screenshot(path=str(ARTIFACTS / "magistrate.png"), full_page=True)
    page.click("header form button")

    _login(page, url, "auditor")
    page.fill("input[name=q]", "csam-gallery.test")
    page.press("input[name=q]", "Enter")
    actions = page.inner_text("table.timeline")
    assert "submission.created" in actions and "submission.approved" in actions
    page.screenshot(path=str(ARTIFACTS / "auditor.png"), full_page=True)
    context.close()

    expected = {"fr": "Site bloqué", "nl": "Site geblokkeerd", "de": "Website gesperrt", "en": "Site blocked"}
    for lang, title in expected.items():
        visitor = browser.new_context(locale=lang)  # type: ignore[attr-defined]
        stop = visitor.new_page()
        response = stop.goto(f"http://www.csam-gallery.test:{port}/some/page")
        assert response is not None and response.status == 451
        assert stop.inner_text("h1") == title
        stop.screenshot(path=str(ARTIFACTS / f"stop-page-{lang}.png"), full_page=True)
        assert visitor.cookies() == []
        visitor.close()
