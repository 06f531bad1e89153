"""The administrator's page of one account (issue 14, finding 12): edit the role, language and details, disable
it after a confirmation step, list and revoke its API tokens, and give it a password: an administrator's own,
typed; another person's, chosen by that person through a one-time link e-mailed to them (also for an account
made without one), never typed by the administrator."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api.runtime import Runtime
from blocklist import users
from blocklist.models import ApiToken, User
from blocklist.tokens import token_prefix
from tests.support.browser import ARTIFACTS, chromium
from tests.support.smtp import smtp_server
from tests.support.web import give_passwords, log_in_page

NEW_PASSWORD = "a fresh and long passphrase"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_administrator_edits_an_account_and_its_tokens(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "admin")
    with rt.database.transaction() as s:
        users.create_user(s, actor="test", username="admin2", role="admin")  # the last admin is never disabled
        token = users.issue_token(s, actor="test", user=users.get_user(s, "officer2"))
    with smtp_server() as mail, chromium(rt) as (browser, port):
        rt.settings.smtp_port = mail.port
        page = browser.new_context(locale="en-GB").new_page()
        log_in_page(page, f"http://127.0.0.1:{port}", "admin")
        page.click("a[href='/admin/users/officer2']")
        assert page.inner_text("h1") == "Account: officer2"
        page.fill("#display_name", "Insp. E. Claes")
        page.fill("#email", "not an address")
        page.select_option("#language", "nl")
        page.select_option("#role", "magistrate")
        page.click("form[action$='/edit'] button")
        assert "There is a problem" in page.inner_text(".error-summary")  # next to its field, typed values kept
        assert page.input_value("#email") == "not an address" and page.input_value("#role") == "magistrate"
        page.fill("#email", "e.claes@police.example")
        page.click("form[action$='/edit'] button")
        assert "officer2: saved" in page.inner_text("main")
        assert "waits for another administrator's confirmation" in page.inner_text("main")
        with rt.database.reading() as s:
            changed = users.get_user(s, "officer2")
            assert (changed.display_name, changed.language, changed.role, changed.email) == (
                "Insp. E. Claes", "nl", "magistrate", "e.claes@police.example")
            assert changed.confirmed_at is None

        prefix = token_prefix(token)
        assert prefix in page.inner_text("table.tokens")
        page.click(f"table.tokens button[aria-label='Revoke {prefix}…']")
        assert f"Token {prefix}… of officer2 revoked" in page.inner_text("main")
        with rt.database.reading() as s:
            rows = s.scalars(select(ApiToken).where(ApiToken.user_id == people["officer2"].id)).all()
            assert [t.prefix == prefix for t in rows if t.revoked_at] == [True]  # that one only

        page.click("button[name=action][value=disable]")
        assert "Nothing has been done yet." in page.inner_text("main")  # the confirmation step
        page.click("button.confirm")
        assert page.inner_text("h1") == "Account: officer2" and "officer2: disabled" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "admin-account.png"), full_page=True)

        # A password for an account made without one: the person chooses it through the e-mailed link.
        page.goto(f"http://127.0.0.1:{port}/admin/users/officer")
        assert page.locator("input[type=password]").count() == 0  # never typed for another person
        page.fill("#email", "officer@police.example")
        page.click("form[action$='/edit'] button")
        page.click("form[action='/admin/users/officer/password'] button")
        assert "e-mailed to officer@police.example" in page.inner_text("main")
        link = re.search(r"http://\S+/enrol/\S+", mail.inbox.messages[-1].get_content())
        assert link, mail.inbox.messages[-1].get_content()

        # The administrator's own password, typed twice.
        page.goto(f"http://127.0.0.1:{port}/admin/users/admin")
        page.fill("#password", NEW_PASSWORD)
        page.fill("#password_again", NEW_PASSWORD + "!")
        page.click("form[action='/admin/users/admin/password'] button")
        assert "the two passwords differ" in page.inner_text(".error-summary")
        page.fill("#password", NEW_PASSWORD)
        page.fill("#password_again", NEW_PASSWORD)
        page.click("form[action='/admin/users/admin/password'] button")
        assert "Your password was changed" in page.inner_text("main")
        page.goto(f"http://127.0.0.1:{port}/admin")  # this session goes on
        assert page.inner_text("h1") == "Accounts"
    with rt.database.reading() as s:
        users.check_password(s, "admin", NEW_PASSWORD)
