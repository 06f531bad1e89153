"""Navigation and sessions (issue 14): the header links only the pages the role can open, and a deep link opened
while logged out leads, after the login, to that page (a path of this site only)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist.models import User
from tests.support.browser import chromium
from tests.support.factories import submitted
from tests.support.web import PASSWORD, csrf, give_passwords, login


def test_the_navigation_shows_only_the_pages_the_role_can_open(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "officer", "magistrate", "auditor", "admin")
    for name in ("officer", "magistrate", "auditor", "admin"):
        client = TestClient(create_app(rt))
        home = login(client, name).text
        nav = home.split("<nav", 1)[1].split("</nav>", 1)[0]
        links = re.findall(r'<a href="(/[^"]*)"', nav)
        assert links, name
        for link in links:
            assert client.get(link).status_code == 200, (name, link)
        if name == "admin":
            assert links == ["/compliance", "/admin"]  # no "Audit chain" link to /auditor, which answers 403


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_deep_link_survives_the_login(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        sub_id = submitted(s, people["officer"], "deep-link.test").id
    give_passwords(rt, "magistrate")
    with chromium(rt) as (browser, port):
        page = browser.new_context(locale="en-GB").new_page()
        page.goto(f"http://127.0.0.1:{port}/submissions/{sub_id}?lang=en")
        assert "/login?next=" in page.url and page.inner_text("h1") == "Log in"
        page.fill("input[name=username]", "magistrate")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        assert page.url == f"http://127.0.0.1:{port}/submissions/{sub_id}?lang=en"
        assert page.inner_text("h1") == f"Submission #{sub_id}: deep-link.test"


def test_login_leads_only_to_a_page_of_this_site(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "magistrate")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "magistrate", "/x\r\nSet-Cookie: a"):
        client = TestClient(create_app(rt))
        form = client.get("/login", params={"next": target}).text
        assert 'name="next"' not in form
        sent = client.post("/login", follow_redirects=False, data={
            "username": "magistrate", "password": PASSWORD, "csrf": csrf(form), "next": target})
        assert sent.status_code == 303 and sent.headers["location"] == "/magistrate", target
    client = TestClient(create_app(rt))
    asked = client.get("/magistrate/blocked?per_page=25", follow_redirects=False)
    assert asked.headers["location"] == "/login?next=%2Fmagistrate%2Fblocked%3Fper_page%3D25"
    form = client.get(asked.headers["location"]).text
    sent = client.post("/login", follow_redirects=False, data={
        "username": "magistrate", "password": PASSWORD, "csrf": csrf(form), "next": "/magistrate/blocked?per_page=25"})
    assert sent.headers["location"] == "/magistrate/blocked?per_page=25"
