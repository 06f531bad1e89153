"""Abuse of the staff web pages (issue 10, items 12 and 13): login throttling that a stranger cannot turn
against a magistrate, the security log beside (not in) the audit chain, Secure cookies, server-side session
revocation, and the security headers of every staff page, checked in headless Chromium too."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api import security_headers, stoppage
from api.app import create_app
from api.runtime import Runtime
from api.web import lockout
from api.web.lockout import LoginFailure, SecurityEvent
from api.web.sessions import WebSession
from blocklist import users
from blocklist.models import AuditEvent, User, utcnow
from blocklist.settings import Settings
from tests.support.ci import missing, used
from tests.support.server import live_server
from tests.support.web import PASSWORD, csrf, give_passwords, login

STRANGER = ("198.51.100.7", 40000)  # TEST-NET-2
MAGISTRATE_DESK = ("192.0.2.10", 50000)  # TEST-NET-1
HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy", "cache-control")
TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"


@pytest.fixture
def staff(rt: Runtime, people: dict[str, User]) -> dict[str, User]:
    give_passwords(rt, "officer", "magistrate", "auditor", "admin")
    return people


def browser(rt: Runtime, source: tuple[str, int] = ("testclient", 50000), **kwargs: Any) -> TestClient:
    """A browser at one client address (what uvicorn puts in the ASGI scope, after trusted proxy headers)."""
    return TestClient(create_app(rt), client=source, **kwargs)




def audit_count(rt: Runtime) -> int:
    with rt.database.transaction() as s:
        return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


# --- item 12: throttling -----------------------------------------------------------------------------------------

def test_a_stranger_cannot_lock_a_magistrate_out_nor_write_to_the_audit_chain(rt: Runtime,
                                                                             staff: dict[str, User]) -> None:
    events_before = audit_count(rt)
    stranger = browser(rt, STRANGER)
    statuses = [login(stranger, "magistrate", f"guess number {n}").status_code for n in range(25)]
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}
    assert "locked until" in login(stranger, "magistrate").text  # the right password is not tried meanwhile
    refused = login(stranger, "magistrate")
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 15 * 60

    # The magistrate, at their own desk, is not affected at all.
    assert login(browser(rt, MAGISTRATE_DESK), "magistrate").url.path == "/magistrate"
    assert audit_count(rt) == events_before  # not one event for 27 anonymous attempts
    with rt.database.transaction() as s:
        assert not s.execute(select(AuditEvent).where(AuditEvent.action.like("%lock%"))).scalars().all()
        # The lock-out is in the security log instead: once (attempts while locked do not renew it).
        logged = s.execute(select(SecurityEvent)).scalars().all()
        assert [(e.event, e.username, e.details["known_account"]) for e in logged] == [
            ("login.locked_out", "magistrate", True)]
        # The stranger's address is nowhere in plain.
        stored = [*s.execute(select(LoginFailure.source)).scalars(), *(e.source for e in logged)]
        assert stored and all(re.fullmatch(r"[0-9a-f]{32}", source) for source in stored)
        # Fifteen minutes later the stranger may try again (five more), never more often.
        s.execute(update(LoginFailure).values(locked_until=utcnow()))
    assert login(stranger, "magistrate", "one more guess").status_code == 401


def test_spraying_usernames_locks_only_the_source(rt: Runtime, staff: dict[str, User]) -> None:
    stranger = browser(rt, STRANGER)
    statuses = [login(stranger, f"made-up-{n}", "some guess here").status_code
                for n in range(lockout.MAX_SOURCE_FAILURES)]
    assert statuses[:-1] == [401] * (lockout.MAX_SOURCE_FAILURES - 1) and statuses[-1] == 429
    assert login(stranger, "auditor").status_code == 429  # the source is locked for every username
    assert login(browser(rt, MAGISTRATE_DESK), "auditor").url.path == "/auditor"
    with rt.database.transaction() as s:
        logged = s.execute(select(SecurityEvent)).scalars().all()
        # Made-up names (which could be someone's mistyped password) are not kept.
        assert [(e.event, e.username) for e in logged] == [("login.source_throttled", None)]
        typed = s.execute(select(LoginFailure.username)).scalars().all()
        assert len(typed) <= lockout.MAX_SOURCE_FAILURES + 1


def test_a_source_is_an_ipv6_64_and_a_keyed_hash() -> None:
    one, other = lockout.source_of("2001:db8:1:2::7", "k"), lockout.source_of("2001:db8:1:2:ffff::1", "k")
    assert one == other != lockout.source_of("2001:db8:1:3::7", "k")
    assert lockout.source_of("192.0.2.1", "k") == lockout.source_of("::ffff:192.0.2.1", "k")
    assert lockout.source_of("192.0.2.1", "k") != lockout.source_of("192.0.2.1", "another key")
    assert "192.0.2.1" not in lockout.source_of("192.0.2.1", "k")


# --- item 13: the cookie and the server-side session --------------------------------------------------------------

def test_the_session_cookie_is_secure_by_default(db_url: str, tmp_path: Path, people: dict[str, User],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLOCKLIST_SESSION_COOKIE_SECURE", raising=False)
    settings = Settings(BLOCKLIST_DATA_DIR=tmp_path / "secure", DATABASE_URL=db_url, scheduler=False)
    assert settings.session_cookie_secure is True
    runtime = Runtime(settings)
    try:
        with runtime.database.transaction() as s:
            users.set_password(s, actor="test", user=users.get_user(s, "auditor"), password=PASSWORD)
        client = TestClient(create_app(runtime), base_url="https://testserver")
        page = login(client, "auditor")
        assert page.url.path == "/auditor"
        cookie = page.history[0].headers["set-cookie"].lower()
        assert "blocklist_session=" in cookie and "; secure" in cookie and "httponly" in cookie
    finally:
        runtime.database.dispose()
    # `make run` serves plain http on 127.0.0.1 and turns it off through the environment.
    assert "BLOCKLIST_SESSION_COOKIE_SECURE=false $(BIN)/blocklist serve" in (
        Path(__file__).resolve().parents[2] / "Makefile").read_text()
    monkeypatch.setenv("BLOCKLIST_SESSION_COOKIE_SECURE", "false")
    assert Settings().session_cookie_secure is False


def test_a_cookie_copied_before_logout_opens_nothing_after(rt: Runtime, staff: dict[str, User]) -> None:
    client = browser(rt)
    page = login(client, "auditor")
    copied = client.cookies.get("blocklist_session")
    assert page.url.path == "/auditor" and copied
    thief = browser(rt, STRANGER, cookies={"blocklist_session": copied})
    assert thief.get("/auditor", follow_redirects=False).status_code == 200  # a copy works while logged in
    client.post("/logout", data={"csrf": csrf(page.text)})
    assert client.get("/auditor", follow_redirects=False).headers["location"] == "/login?next=%2Fauditor"
    replay = browser(rt, STRANGER, cookies={"blocklist_session": copied})
    answer = replay.get("/auditor", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fauditor"
    with rt.database.transaction() as s:
        (row,) = s.execute(select(WebSession)).scalars().all()
        assert row.revoked_at is not None and copied not in row.id_hash


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(rt: Runtime, staff: dict[str, User]) -> None:
    officer = browser(rt)
    assert login(officer, "officer").url.path == "/officer"
    with rt.database.transaction() as s:
        users.set_active(s, actor="test", user=users.get_user(s, "officer"), active=False)
    with rt.database.transaction() as s:
        users.set_active(s, actor="test", user=users.get_user(s, "officer"), active=True)
    # Re-enabled before the browser came back: its session stays ended.
    assert officer.get("/officer", follow_redirects=False).headers["location"] == "/login?next=%2Fofficer"

    assert login(officer, "officer").url.path == "/officer"
    with rt.database.transaction() as s:
        users.set_password(s, actor="test", user=users.get_user(s, "officer"), password="another long phrase")
    assert officer.get("/officer", follow_redirects=False).headers["location"] == "/login?next=%2Fofficer"

    # Even a password changed where the revocation hook is not loaded (plain SQL here) ends the session.
    assert login(officer, "officer", "another long phrase").url.path == "/officer"
    with rt.database.transaction() as s:
        fresh = users.get_user(s, "auditor").password_hash
        s.execute(update(User).where(User.username == "officer").values(password_hash=fresh))
    assert officer.get("/officer", follow_redirects=False).headers["location"] == "/login?next=%2Fofficer"
    assert login(officer, "officer", PASSWORD).url.path == "/officer"


def test_a_session_ends_after_its_lifetime(rt: Runtime, staff: dict[str, User]) -> None:
    client = browser(rt)
    assert login(client, "auditor").url.path == "/auditor"
    with rt.database.transaction() as s:
        s.execute(update(WebSession).values(expires_at=utcnow()))
    assert client.get("/auditor", follow_redirects=False).headers["location"] == "/login?next=%2Fauditor"


# --- item 13: security headers ------------------------------------------------------------------------------------

def assert_staff_headers(response: httpx.Response, *, cacheable: bool = False) -> None:
    for name in HEADERS:
        if not (cacheable and name == "cache-control"):
            assert name in response.headers, (response.request.url, name, dict(response.headers))
    assert response.headers["content-security-policy"] == security_headers.CSP
    assert "frame-ancestors 'none'" in security_headers.CSP and "script-src" not in security_headers.CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    if not cacheable:
        assert response.headers["cache-control"] == "no-store"


def test_security_headers_on_staff_pages_and_error_pages(rt: Runtime, staff: dict[str, User]) -> None:
    client = browser(rt)
    assert_staff_headers(client.get("/login"))
    forged = client.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf": "forged"},
                         headers={"origin": "http://evil.example"})
    assert forged.status_code == 403
    assert_staff_headers(forged)
    page = login(client, "admin")
    assert page.url.path == "/admin"
    assert_staff_headers(page)
    assert_staff_headers(page.history[0])  # the redirect after login
    for path in ("/auditor", "/compliance"):
        assert_staff_headers(client.get(path))
    missing_page = client.get("/no-such-page")
    assert missing_page.status_code == 404
    assert_staff_headers(missing_page)
    api_error = client.get("/api/v1/submissions", headers={"Authorization": "Bearer bl_wrong"})
    assert api_error.status_code == 401
    assert_staff_headers(api_error)
    style = client.get("/static/style.css")
    assert style.status_code == 200 and "cache-control" not in style.headers
    assert_staff_headers(style, cacheable=True)
    # The stop page keeps its own headers (its CSP, no cookie).
    stop = client.get("/", headers={"Host": rt.settings.stop_page_host})
    assert stop.status_code == 451 and stop.headers["content-security-policy"] == stoppage.CSP
    assert stop.headers.get_list("content-security-policy") == [stoppage.CSP]


def test_every_inline_style_of_the_templates_is_allowed_by_hash() -> None:
    used = {m for path in TEMPLATES.glob("*.html") for m in re.findall(r'style="([^"]*)"', path.read_text())}
    assert used <= set(security_headers.INLINE_STYLES)
    assert not any("<script" in path.read_text() for path in TEMPLATES.glob("*.html"))


@pytest.fixture
def chromium(rt: Runtime, staff: dict[str, User]) -> Iterator[tuple[Any, str]]:
    if not os.path.exists("/usr/bin/chromium"):
        missing("Chromium", "install Debian's chromium package (listed in .ci/packages, which .ci/run installs)")
    used("Chromium")
    from playwright.sync_api import sync_playwright

    with live_server(rt) as url, sync_playwright() as p:
        browser_ = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-gpu", "--no-first-run"])
        try:
            yield browser_, url
        finally:
            browser_.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_policy_keeps_the_stylesheet_and_refuses_anything_else_in_chromium(chromium: tuple[Any, str]) -> None:
    chrome, url = chromium
    context = chrome.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(f"{url}/login")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
    page.fill("input[name=username]", "auditor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/auditor")
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(26, 60, 110)"
    assert violations == []
    # What the policy lets through and what it stops, on this origin with the staff pages' policy: the hashed
    # inline style applies, an injected style, script or frame does not.
    body = ('<html><body><code id="ok" style="word-break:break-all">x</code><p id="no" style="color:red">y</p>'
            '<script>document.title="ran"</script></body></html>')
    page.route(f"{url}/policy-check", lambda route: route.fulfill(
        status=200, body=body, headers={"content-type": "text/html", "content-security-policy": security_headers.CSP}))
    page.goto(f"{url}/policy-check")
    assert page.evaluate("getComputedStyle(document.getElementById('ok')).wordBreak") == "break-all"
    assert page.evaluate("getComputedStyle(document.getElementById('no')).color") != "rgb(255, 0, 0)"
    assert page.title() != "ran"
    assert violations  # Chromium reported what it refused
    context.close()

