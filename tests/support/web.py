"""Shared helpers of the web page tests: staff passwords, the CSRF token of a form, logging in."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.runtime import Runtime
from blocklist import users

PASSWORD = "correct horse battery"


def give_passwords(rt: Runtime, *names: str) -> None:
    """Set PASSWORD on these accounts (the operator on the server does it)."""
    with rt.database.transaction() as s:
        for name in names:
            users.set_password(s, actor="test", user=users.get_user(s, name), password=PASSWORD)


def csrf(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def settle_batches(rt: Runtime) -> None:
    """Record the stored bulk submissions now, as the scheduler's job `submissions.batches` would (tests keep the
    scheduler off)."""
    from blocklist import batches
    from blocklist.jobs import JobContext

    ctx = JobContext.standalone(rt.database, rt.settings)
    while batches.process_batches(ctx, budget_seconds=30):
        pass


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the login form; returns the page reached."""
    token = csrf(client.get("/login").text)
    response: httpx.Response = client.post("/login", data={"username": username, "password": password,
                                                           "csrf": token}, follow_redirects=True)
    return response


def log_in_page(page: Any, url: str | None, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form in a browser page (`url`: open the site's login page first, e.g.
    "http://127.0.0.1:PORT"; None: the page shows a login form already)."""
    if url is not None:
        page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
