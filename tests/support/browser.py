"""Headless Chromium (Debian's, through Playwright) on a live server of this test's app. The names the browser is
given resolve to 127.0.0.1 only, so it sends nothing anywhere else; screenshots go to test-artifacts/.

    with chromium(rt, hosts=["csam-gallery.test"]) as (browser, port):
        page = browser.new_context(locale="nl").new_page()
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI

from api.runtime import Runtime
from api.web.public_forms import SourceLimiter
from tests.support.ci import missing, used
from tests.support.server import live_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-gpu", "--disable-quic", "--no-first-run"]


@contextmanager
def chromium(rt: Runtime, *, hosts: Sequence[str] = (), app: FastAPI | None = None) -> Iterator[tuple[Any, str]]:
    """A browser and the port of a live server of `app` (else a new app over `rt`); each of `hosts`, and every
    name under it, resolves to 127.0.0.1."""
    if not os.path.exists(CHROMIUM):
        missing("Chromium", "install Debian's chromium package (.ci/run does)")
    used("Chromium")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    rules = "".join(f"MAP {host} 127.0.0.1, MAP *.{host} 127.0.0.1, " for host in hosts)
    with live_server(rt, app=app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=[*FLAGS, f"--host-resolver-rules={rules}EXCLUDE localhost"])
        try:
            yield browser, url.rsplit(":", 1)[1]
        finally:
            browser.close()


def record_hosts(context: Any) -> set[str]:
    """Every host the browser asks anything of, in this context."""
    hosts: set[str] = set()
    context.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or request.url))
    return hosts


def check_form_refusals(browser: Any, app: FastAPI, url: str, *, form: str, fill: dict[str, str], long_field: str,
                        limit: int, words: dict[str, str]) -> None:
    """A public form (/report, /appeal at `url`) in Chromium refuses an over-long field, a filled-in honeypot and
    a spent budget (api/web/public_forms.py), each with its reason (`words`: too_long, honeypot, limited) in the
    page's alert; screenshots `<form>-refused-*.png`. `fill`: the other fields a valid form needs."""
    visitor = browser.new_context(locale="en")
    page = visitor.new_page()

    def send(**values: str) -> str:
        for selector, value in {**fill, **values}.items():
            page.fill(selector, value, force=True)  # force: the honeypot is off screen, where only robots go
        page.click("button[type=submit]")
        text: str = page.inner_text("[role=alert]")
        return text

    page.goto(url)
    # The browser keeps to maxlength; a robot does not (nor does a page whose attribute was removed, as here).
    page.evaluate(f"document.querySelector('[name={long_field}]').removeAttribute('maxlength')")
    assert words["too_long"] in send(**{f"[name={long_field}]": "t" * (limit + 1)})
    assert page.input_value(f"[name={long_field}]") == "t" * (limit + 1)  # kept, to be shortened
    page.screenshot(path=str(ARTIFACTS / f"{form}-refused-too-long.png"), full_page=True)
    page.goto(url)
    assert words["honeypot"] in send(**{"[name=website]": "http://spam.example"})
    page.screenshot(path=str(ARTIFACTS / f"{form}-refused-honeypot.png"), full_page=True)
    setattr(app.state, f"{form}_limiter", SourceLimiter(burst=0, per_second=0.0001))
    page.goto(url)
    assert words["limited"] in send()
    page.screenshot(path=str(ARTIFACTS / f"{form}-refused-rate-limit.png"), full_page=True)
    visitor.close()
