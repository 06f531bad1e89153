"""WCAG 2.1 AA, checked by axe-core in Chromium on every page of every role (and the public pages) over the demo
data, and reflow (WCAG 1.4.10): at 320 CSS pixels no page scrolls sideways. Screenshots of the narrow pages go to
test-artifacts/ (`narrow-<role>-<page>.png`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from api.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from api.runtime import Runtime
from tests.support.axe import violations as _violations
from tests.support.browser import ARTIFACTS
from tests.support.browser import chromium as chromium_on
from tests.support.web import settle_batches

PUBLIC = ["/login", "/report", "/appeal", "/transparency"]
ROLES = sorted({role: username for username, role, _, _ in reversed(DEMO_USERS)}.items())


@pytest.fixture(scope="module")
def demo_rt(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Any) -> Iterator[Runtime]:
    """The demo data (SQLite: the pages, not the database, are under test)."""
    import shutil

    from blocklist.settings import Settings

    folder = tmp_path_factory.mktemp("a11y")
    shutil.copyfile(sqlite_template, folder / "db.sqlite3")
    settings = Settings(BLOCKLIST_DATA_DIR=folder / "data", DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",  # type: ignore[call-arg]
                        scheduler=False, session_cookie_secure=False)
    rt = Runtime(settings)
    rt.ensure_schema()
    load_demo(rt)
    try:
        yield rt
    finally:
        rt.database.dispose()


@pytest.fixture(scope="module")
def demo_browser(demo_rt: Runtime) -> Iterator[tuple[Any, str]]:
    """Chromium on a live server over the demo data."""
    with chromium_on(demo_rt, hosts=["stop.blocklist.example", "csam-gallery.test"]) as running:
        yield running


def _too_wide(page: Any) -> str | None:
    """How wide the page is at 320 px, and its widest elements, if it is wider."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    if width <= 320:
        return None
    culprits = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 321 && !e.closest('table'))
        .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') +
                       (e.name ? '[name=' + e.name + ']' : ''))""")
    return f"{width} px ({', '.join(culprits)})"


def _login(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login?lang=en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _pages_of(page: Any, url: str) -> list[str]:
    """The role's home page and every staff page its navigation links to."""
    links = page.eval_on_selector_all("header nav a", "links => links.map(a => a.getAttribute('href'))")
    home = urlsplit(page.url).path
    return list(dict.fromkeys([home, *[link for link in links if link and link.startswith("/")]]))


def _check(page: Any, path: str, label: str, found: dict[str, list[str]]) -> None:
    for problem in _violations(page):
        found.setdefault(f"{label} {path}", []).append(problem)
    page.set_viewport_size({"width": 320, "height": 800})
    wide = _too_wide(page)
    if wide is not None:
        found.setdefault(f"{label} {path}", []).append(f"reflow: {wide} wide at 320 px")
    page.screenshot(path=str(ARTIFACTS / f"narrow-{label}-{path.strip('/').replace('/', '-') or 'home'}.png"),
                    full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_every_page_of_every_role_passes_axe_and_reflows(demo_browser: tuple[Any, str]) -> None:
    browser, port = demo_browser
    url = f"http://127.0.0.1:{port}"
    found: dict[str, list[str]] = {}
    visited: list[str] = []
    for role, username in ROLES:
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
        page = context.new_page()
        _login(page, url, username)
        for path in _pages_of(page, url):
            page.goto(url + path)
            visited.append(f"{role} {path}")
            _check(page, path, role, found)
        context.close()
    context = browser.new_context(locale="fr-BE", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    for path in PUBLIC:
        page.goto(url + path)
        visited.append(f"public {path}")
        _check(page, path, "public", found)
    page.goto(f"http://csam-gallery.test:{port}/")  # the stop page, as a blocked name's visitor sees it
    visited.append("public stop page")
    _check(page, "/stop", "public", found)
    assert len(visited) >= 4 * 3 + len(PUBLIC)
    assert found == {}, "\n".join(f"{where}: {problem}" for where, problems in found.items() for problem in problems)


def test_the_detail_confirmation_and_account_pages_pass_axe_and_reflow(demo_rt: Runtime,
                                                                       demo_browser: tuple[Any, str]) -> None:
    """The pages reached from the lists rather than the navigation: a submission, a bulk submission's report, the
    confirmation steps (approve, lift, disable an account), an account's page, and the timeline of a search."""
    browser, port = demo_browser
    url = f"http://127.0.0.1:{port}"
    found: dict[str, list[str]] = {}
    checked: list[str] = []

    def check(page: Any, label: str, what: str) -> None:
        checked.append(what)
        _check(page, what, label, found)

    def as_user(username: str) -> Any:
        page = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800}).new_page()
        _login(page, url, username)
        return page

    officer = as_user("officer")
    officer.fill("form[action='/officer/bulk'] textarea[name=names]", "a11y-one.test\na11y-two.test\n192.0.2.7")
    officer.fill("form[action='/officer/bulk'] input[name=case_number]", "FCCU-2026-A11Y")
    officer.fill("form[action='/officer/bulk'] input[name=evidence_ref]", "EVD-A11Y")
    officer.select_option("form[action='/officer/bulk'] select[name=hosting_country]", "NL")
    officer.click("form[action='/officer/bulk'] button[type=submit]")
    settle_batches(demo_rt)  # the scheduler's job; the finished report (a running one refreshes itself)
    officer.reload()
    assert "/batches/" in officer.url
    check(officer, "officer", "/batches/{id}")
    officer.context.close()

    magistrate = as_user("magistrate")
    magistrate.goto(f"{url}/magistrate?lang=en")
    first = magistrate.locator("input[name=ids]").first
    sub_id = first.get_attribute("value")
    first.check()
    magistrate.click("button[name=decision][value=approve]")
    assert "Nothing has been done yet." in magistrate.inner_text("main")
    check(magistrate, "magistrate", "/magistrate/decide (confirm)")
    magistrate.goto(f"{url}/submissions/{sub_id}")
    check(magistrate, "magistrate", "/submissions/{id}")
    magistrate.goto(f"{url}/magistrate/blocked")
    magistrate.locator("form[action='/magistrate/lift'] input[name=reason]").first.fill("content removed")
    magistrate.locator("form[action='/magistrate/lift'] button").first.click()
    assert "Nothing has been done yet." in magistrate.inner_text("main")
    check(magistrate, "magistrate", "/magistrate/lift (confirm)")
    magistrate.context.close()

    auditor = as_user("auditor")
    auditor.goto(f"{url}/auditor?q=https://www.csam-gallery.test/x")
    assert auditor.locator("table.timeline").count() == 1
    check(auditor, "auditor", "/auditor?q=")
    auditor.context.close()

    admin = as_user("admin")
    admin.goto(f"{url}/admin/users/officer2")
    check(admin, "admin", "/admin/users/{name}")
    admin.click("button[name=action][value=disable]")
    assert "Nothing has been done yet." in admin.inner_text("main")
    check(admin, "admin", "/admin/users/{name} (confirm)")
    admin.goto(f"{url}/admin/users/admin")
    check(admin, "admin", "/admin/users/{own name}")
    admin.context.close()
    assert len(checked) == 8
    assert found == {}, "\n".join(f"{where}: {problem}" for where, problems in found.items() for problem in problems)
