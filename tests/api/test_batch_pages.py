"""A pasted bulk submission (issue 14: 5,000 names once took 24 s with no feedback, and a second press reported
every name as "already pending"): stored at once, then a progress page that refreshes itself without JavaScript,
survives a reload, pages the per-name results and offers them as CSV; pressing twice makes one batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from blocklist import batches
from blocklist.jobs import JobContext
from blocklist.models import Submission, SubmissionBatch, User
from tests.support.axe import violations
from tests.support.browser import ARTIFACTS, chromium
from tests.support.web import PASSWORD, csrf, give_passwords, login

NAMES = 5_000
CASE = {"legal_basis": "art39bis", "case_number": "FCCU-BULK", "evidence_ref": "EVD-BULK",
        "verified_on": "2026-11-27", "scope": "domain_and_subdomains", "hosting_country": "NL"}


def _count(rt: Runtime, model: Any) -> int:
    with rt.database.reading() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _settle(rt: Runtime) -> None:
    """The scheduler's job, run here (tests keep the scheduler off), until no batch waits."""
    ctx = JobContext.standalone(rt.database, rt.settings)
    while batches.process_batches(ctx, budget_seconds=30):
        pass


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_5000_name_batch_shows_its_progress_and_a_double_press_is_one_batch(rt: Runtime,
                                                                             people: dict[str, User]) -> None:
    give_passwords(rt, "officer")
    names = [f"bulk-{n:05d}.test" for n in range(NAMES - 1)] + ["bulk-00007.test"]  # the last one repeats
    with chromium(rt) as (browser, port):
        page = browser.new_context(locale="en-GB").new_page()
        page.goto(f"http://127.0.0.1:{port}/login?lang=en")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        bulk = "form[action='/officer/bulk']"
        # As pasted: typing 5,000 lines key by key would take minutes.
        page.eval_on_selector(f"{bulk} textarea[name=names]", "(box, text) => { box.value = text; }", "\n".join(names))
        for field in ("case_number", "evidence_ref"):
            page.fill(f"{bulk} input[name={field}]", CASE[field])
        page.select_option(f"{bulk} select[name=hosting_country]", "NL")
        page.dblclick(f"{bulk} button[type=submit]")  # pressed twice
        page.wait_for_url("**/batches/*")
        assert _count(rt, SubmissionBatch) == 1  # one batch, whichever press the browser followed
        assert page.inner_text("h1").startswith("Bulk submission #1")
        assert "0 of 5,000 names checked" in page.inner_text("main")
        again = page.reload()  # the refresh: an HTTP header, which the reader can stop (WCAG 2.2.1)
        assert again is not None and again.headers["refresh"].startswith("2;")
        assert violations(page) == []  # axe-core, while it refreshes
        page.screenshot(path=str(ARTIFACTS / "batch-queued.png"), full_page=True)
        stopped = page.goto(page.url + "?refresh=off")
        assert stopped is not None and "refresh" not in stopped.headers
        assert page.locator("text=Update this page every 2 seconds again").count() == 1
        page.click("text=Update this page every 2 seconds again")
        _settle(rt)
        page.wait_for_selector("text=Finished", timeout=15_000)  # the page refreshed itself
        told = page.inner_text("main")
        assert "5,000 of 5,000 names checked" in told and "4,999 submitted, 1 refused" in told
        finished = page.reload()
        assert finished is not None and "refresh" not in finished.headers  # finished: no more refreshing
        assert "Showing 1–50 of 5,000" in told
        page.screenshot(path=str(ARTIFACTS / "batch-finished.png"), full_page=True)
        page.reload()  # survives a reload
        assert "4,999 submitted, 1 refused" in page.inner_text("main")
        page.select_option("select[name=state]", "refused")
        page.click("form.filters button")
        assert "Showing 1–1 of 1" in page.inner_text("main") and "appears twice" in page.inner_text("table.results")
        with page.expect_download() as download:
            page.click("text=Download every name's result (CSV)")
        lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("position,typed,state") and len(lines) == NAMES + 1
    assert _count(rt, Submission) == NAMES - 1


def test_the_same_form_sent_twice_is_the_same_batch(rt: Runtime, people: dict[str, User]) -> None:
    give_passwords(rt, "officer")
    client = TestClient(create_app(rt))
    home = login(client, "officer").text
    form = home.split('action="/officer/bulk"')[1]
    token = form.split('name="form_token" value="')[1].split('"')[0]
    sent = {"csrf": csrf(home), "names": "one.test\ntwo.test", "form_token": token, **CASE}
    first = client.post("/officer/bulk", data=sent, follow_redirects=False)
    second = client.post("/officer/bulk", data=sent, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == "/batches/1"
    other = client.post("/officer/bulk", data={**sent, "names": "three.test"}, follow_redirects=True)
    assert other.status_code == 409 and "already used for batch #1" in other.text
    assert 'value="three.test"' in other.text or "three.test" in other.text  # the typed form is kept
    _settle(rt)
    done = client.get("/batches/1", params={"lang": "en"}).text
    assert "2 submitted, 0 refused" in done and "one.test" in done
    assert client.get("/batches/1/results.csv").text.count("\r\n") == 3
    assert client.get("/batches/99").status_code == 404
