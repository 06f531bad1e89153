"""A form whose POST comes too late (issue 14, finding 6): an expired session leads through the login back to the
form with what was typed, a login in another tab does not lose a form open in the first, and a locked-out login
page keeps where it leads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.app import create_app
from api.runtime import Runtime
from api.web import lockout
from api.web.sessions import WebSession
from api.web.stash import KeptForm
from blocklist.models import Submission, User, utcnow
from tests.support.browser import ARTIFACTS, chromium
from tests.support.web import PASSWORD, csrf, give_passwords, log_in_page, login

SINGLE = "form[action='/officer/submit']"
TYPED = {"input[name=domain]": "late-form.test", f"{SINGLE} input[name=case_number]": "FCCU-2026-0777",
         f"{SINGLE} input[name=evidence_ref]": "EVD-0777", f"{SINGLE} textarea[name=note]": "typed before the expiry"}


def _fill(page: Any) -> None:
    for selector, value in TYPED.items():
        page.fill(selector, value)
    page.select_option(f"{SINGLE} select[name=hosting_country]", "NL")


def _typed_values_are_back(page: Any) -> None:
    for selector, value in TYPED.items():
        assert page.input_value(selector) == value, selector
    assert page.input_value(f"{SINGLE} select[name=hosting_country]") == "NL"


def _submissions(rt: Runtime) -> int:
    with rt.database.reading() as s:
        return s.scalar(select(func.count()).select_from(Submission)) or 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_expired_session_keeps_the_typed_form_through_the_login(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "officer")
    with chromium(rt) as (browser, port):
        page = browser.new_context(locale="en-GB").new_page()
        page.goto(f"http://127.0.0.1:{port}/officer?lang=en")
        log_in_page(page, None, "officer")
        _fill(page)
        with rt.database.transaction() as s:  # eight hours later: the server no longer holds the session
            s.execute(update(WebSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        page.click(f"{SINGLE} button[type=submit]")
        assert page.inner_text("h1") == "Log in" and "/login?next=" in page.url
        assert "Your session has ended" in page.inner_text("main")
        assert _submissions(rt) == 0  # nothing was done with the late POST
        log_in_page(page, None, "officer")
        assert "/officer?" in page.url and "restore=" in page.url
        _typed_values_are_back(page)
        page.screenshot(path=str(ARTIFACTS / "session-expired-form-kept.png"), full_page=True)
        page.click(f"{SINGLE} button[type=submit]")
        assert "late-form.test submitted" in page.inner_text("main")
        assert _submissions(rt) == 1
    with rt.database.reading() as s:  # what was kept was never a password nor a token
        kept = s.scalars(select(KeptForm)).one()
        assert kept.user_id == people["officer"].id and kept.action == "/officer/submit"
        assert "csrf" not in kept.fields and kept.fields["case_number"] == "FCCU-2026-0777"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_login_in_another_tab_does_not_lose_the_form_of_the_first(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "officer")
    with chromium(rt) as (browser, port):
        context = browser.new_context(locale="en-GB")
        first = context.new_page()
        first.goto(f"http://127.0.0.1:{port}/officer?lang=en")
        log_in_page(first, None, "officer")
        _fill(first)
        second = context.new_page()  # same browser, same cookie: this login gives a new session and CSRF token
        second.goto(f"http://127.0.0.1:{port}/login")
        log_in_page(second, None, "officer")
        assert second.url.endswith("/officer")
        first.click(f"{SINGLE} button[type=submit]")
        assert "The form was not sent" in first.inner_text("main")  # no login again: the session holds
        _typed_values_are_back(first)
        assert _submissions(rt) == 0
        first.click(f"{SINGLE} button[type=submit]")
        assert "late-form.test submitted" in first.inner_text("main")
        assert _submissions(rt) == 1


def test_a_kept_form_is_shown_only_to_its_account(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "officer", "officer2")
    client = TestClient(create_app(rt))
    form = login(client, "officer").text
    token = csrf(form)
    with rt.database.transaction() as s:
        s.execute(update(WebSession).values(revoked_at=utcnow()))
    sent = client.post("/officer/submit", follow_redirects=False, headers={"referer": "http://testserver/officer"},
                       data={"csrf": token, "domain": "mine-only.test", "case_number": "C-1", "password": "x"})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/login?next=%2Fofficer%3Frestore%3D")
    target = client.get(sent.headers["location"]).text.split('name="next" value="', 1)[1].split('"', 1)[0]
    with rt.database.reading() as s:
        assert "password" not in s.scalars(select(KeptForm)).one().fields
    other = TestClient(create_app(rt))
    login(other, "officer2")
    assert "mine-only.test" not in other.get(target.replace("&amp;", "&")).text
    login(client, "officer")
    assert 'value="mine-only.test"' in client.get(target.replace("&amp;", "&")).text


def test_a_stale_login_form_and_a_locked_out_login_keep_next(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "magistrate")
    client = TestClient(create_app(rt))
    client.get("/login")
    stale = client.post("/login", follow_redirects=False,
                        data={"username": "magistrate", "password": PASSWORD, "csrf": "outdated", "next": "/appeals"})
    assert stale.status_code == 303 and stale.headers["location"] == "/login?next=%2Fappeals"
    form = client.get(stale.headers["location"]).text
    assert "The login form had expired" in form and 'name="next" value="/appeals"' in form
    for _ in range(lockout.MAX_FAILURES):
        locked = client.post("/login", data={"username": "magistrate", "password": "wrong wrong", "csrf": csrf(form),
                                             "next": "/appeals"})
    assert locked.status_code == 429 and 'name="next" value="/appeals"' in locked.text
