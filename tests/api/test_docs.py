"""/docs and /redoc: the API reference with its scripts from the server itself (no CDN), for logged-in staff only;
in Chromium, Swagger UI renders the operations while every request stays on this server."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.runtime import Runtime
from blocklist.models import User
from tests.api.conftest import bearer
from tests.support.browser import ARTIFACTS, chromium
from tests.support.web import PASSWORD, give_passwords, login


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_reference_is_behind_login(client: TestClient, tokens: dict[str, str], path: str) -> None:
    anonymous = client.get(path, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert client.get(path, headers=bearer("bl_not-a-token")).status_code == 401
    assert client.get(path, headers=bearer(tokens["isp"])).status_code == 401  # an ISP's credential is no staff's
    page = client.get(path, headers=bearer(tokens["auditor"]))
    assert page.status_code == 200
    # Nothing from elsewhere: every script, style and icon is this server's.
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), page.text
    assert "/docs-assets/" in page.text and "fonts.googleapis" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' " in policy and "connect-src 'self'" in policy and "https:" not in policy


def test_the_assets_are_served_by_the_server(client: TestClient) -> None:
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        response = client.get(f"/docs-assets/{asset}")
        assert response.status_code == 200 and len(response.content) > 100_000, asset


def test_a_logged_in_session_opens_the_reference(client: TestClient, rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "officer")
    login(client, "officer")
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_swagger_ui_renders_offline_in_chromium(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "auditor")
    with chromium(rt) as (browser, port):
        url = f"http://127.0.0.1:{port}"
        context = browser.new_context(locale="en-GB")
        answered: set[str] = set()  # hosts that answered anything (ReDoc's logo from its CDN is refused by the CSP)
        context.on("requestfinished", lambda request: answered.add(urlsplit(request.url).hostname or ""))
        blocked: list[str] = []

        def refuse(route: Any) -> None:  # the staff network has no way out: prove nothing needs one
            if route.request.url.startswith(url):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", refuse)
        page = context.new_page()
        page.goto(f"{url}/docs")
        page.fill("input[name=username]", "auditor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{url}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/submissions/batches" in p for p in paths), paths[:10]
        page.screenshot(path=str(ARTIFACTS / "docs-swagger-ui.png"))
        page.goto(f"{url}/redoc")
        page.wait_for_selector("h1", timeout=20_000)
        assert "Belgian domain blocking" in page.inner_text("h1")
        context.close()
    assert blocked == [] and answered == {"127.0.0.1"}
