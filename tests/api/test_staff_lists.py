"""The staff lists are paged with their TRUE total (issue 14: a queue of 14,000 once showed its newest 500): the
magistrate's queue (oldest first, how long each waited), an officer's own submissions, the blocked names and the
requisitions, with filters that narrow the total. In Chromium where a person reads them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from api.runtime import Runtime
from blocklist import workflow
from blocklist.models import Submission, User
from blocklist.names import NamePolicy
from tests.support.browser import ARTIFACTS, chromium
from tests.support.factories import approved, make_isp, submitted
from tests.support.web import PASSWORD, give_passwords, login

QUEUE = 1_200
LATE = 200  # of them, under the case FCCU-2026-LATE


def _queue(rt: Runtime, people: dict[str, User]) -> list[int]:
    """QUEUE pending names, the first submitted longest ago (one minute apart); their ids, oldest first."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with rt.database.transaction() as s:
        officer = s.get(User, people["officer"].id)
        assert officer is not None
        ids = [submitted(s, officer, f"queued-{n:04d}.test",
                         case_number="FCCU-2026-LATE" if n >= QUEUE - LATE else "FCCU-2026-0001").id
               for n in range(QUEUE)]
        # Newest ids first in time would hide an "oldest first" that merely sorts by id: the times run backwards.
        for n, sub_id in enumerate(ids):
            s.execute(update(Submission).where(Submission.id == sub_id)
                      .values(submitted_at=start + dt.timedelta(minutes=QUEUE - n)))
    return ids[::-1]


def _text(page: Any, selector: str) -> str:
    return str(page.inner_text(selector))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_queue_of_1200_is_paged_with_its_true_total(rt: Runtime, people: dict[str, User]) -> None:
    oldest_first = _queue(rt, people)
    give_passwords(rt, "magistrate", "officer")
    with chromium(rt) as (browser, port):
        page = browser.new_context(locale="en-GB").new_page()
        url = f"http://127.0.0.1:{port}"
        page.goto(f"{url}/login?lang=en")
        page.fill("input[name=username]", "magistrate")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        assert _text(page, "h1") == "Pending submissions (1,200)"
        assert "Showing 1–50 of 1,200" in _text(page, "main")
        ids = [int(i) for i in page.eval_on_selector_all("table.queue input[name=ids]", "e => e.map(i => i.value)")]
        assert ids == oldest_first[:50]  # oldest first
        assert "3 days" in _text(page, "table.queue tr:nth-child(2) td.waited")
        page.screenshot(path=str(ARTIFACTS / "queue-1200.png"), full_page=True)
        page.click("nav.pagination a[rel=next]")
        assert "page=2" in page.url and "Showing 51–100 of 1,200" in _text(page, "main")
        ids = [int(i) for i in page.eval_on_selector_all("table.queue input[name=ids]", "e => e.map(i => i.value)")]
        assert ids == oldest_first[50:100]
        page.click("nav.pagination a:text-is('24')")  # the last page is linked from any page
        assert "Showing 1,151–1,200 of 1,200" in _text(page, "main")
        page.fill("input[name=case]", "fccu-2026-late")  # part of it, whatever its case
        page.click("form.filters button")
        assert _text(page, "h1") == f"Pending submissions ({LATE})"
        assert "Showing 1–50 of 200" in _text(page, "main") and "&page=" not in page.url
        page.screenshot(path=str(ARTIFACTS / "queue-1200-filtered.png"), full_page=True)
        page.select_option("select[name=order]", "desc")
        page.click("form.filters button")
        first = page.eval_on_selector("table.queue input[name=ids]", "e => e.value")
        assert int(first) == oldest_first[LATE - 1]  # newest first, within the filter (the LATE are oldest)

        officer = browser.new_context(locale="en-GB").new_page()
        officer.goto(f"{url}/login?lang=en")
        officer.fill("input[name=username]", "officer")
        officer.fill("input[name=password]", PASSWORD)
        officer.click("button[type=submit]")
        assert "My submissions (1,200)" in _text(officer, "#mine")
        officer.click("nav.pagination a[rel=next]")
        assert "Showing 51–100 of 1,200" in _text(officer, "main")


def test_blocked_names_requisitions_and_own_submissions_are_paged_and_filtered(
        rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        officer, magistrate = s.get(User, people["officer"].id), s.get(User, people["magistrate"].id)
        assert officer is not None and magistrate is not None
        make_isp(s)
        approved(s, officer, magistrate, *[f"blocked-{n}.test" for n in range(5)], case_number="FCCU-7")
        approved(s, officer, magistrate, "court.test", legal_basis="court_order", case_number="FCCU-8",
                 court_order={"court": "Tribunal de Bruxelles", "date": dt.date.today(), "reference": "2026/1"})
        # A platform suffix of the test's own (reserved) namespace: flagged like a name under a real platform would be.
        submitted(s, officer, "site.platform.test", policy=NamePolicy.build(extra_platforms=["platform.test"]))
    give_passwords(rt, "magistrate", "officer", "auditor")
    client = TestClient(create_app(rt))
    login(client, "magistrate")
    blocked = client.get("/magistrate/blocked", params={"per_page": 2, "lang": "en"}).text
    assert "Blocked names (6)" in blocked and "Showing 1–2 of 6" in blocked
    assert re.findall(r"<td>(blocked-\d\.test)</td>", blocked) == ["blocked-0.test", "blocked-1.test"]
    assert "Showing 3–4 of 6" in client.get("/magistrate/blocked", params={"per_page": 2, "page": 2}).text
    court = client.get("/magistrate/blocked", params={"legal_basis": "court_order"}).text
    assert "Blocked names (1)" in court and "court.test" in court
    flagged = client.get("/magistrate", params={"flag": "platform_host"}).text
    assert "Pending submissions (1)" in flagged
    assert "Pending submissions (0)" in client.get("/magistrate", params={"flag": "homograph"}).text
    unknown = client.get("/magistrate", params={"legal_basis": "whim"})
    assert unknown.status_code == 422 and "unknown legal basis" in unknown.text

    with rt.database.transaction() as s:
        isp_id = make_isp(s, name="ISP Two").id
    from blocklist.jobs import JobContext
    from requisitions import jobs
    jobs.issue_pending(JobContext.standalone(rt.database, rt.settings.model_copy(
        update={"requisitions_wait_for_feed": False})))
    reader = TestClient(create_app(rt))
    login(reader, "auditor")
    listing = reader.get("/requisitions", params={"per_page": 1, "lang": "en"}).text
    total = int(re.search(r"Requisitions \((\d+)\)", listing).group(1))  # type: ignore[union-attr]
    assert total >= 2 and f"Showing 1–1 of {total}" in listing
    own = reader.get("/requisitions", params={"isp": isp_id}).text
    assert "ISP Two" in own and "Requisitions (" in own

    mine = TestClient(create_app(rt))
    login(mine, "officer")
    page = mine.get("/officer", params={"status": "approved", "case": "fccu-7", "lang": "en"}).text
    assert "My submissions (5)" in page
    with rt.database.transaction() as s:
        assert workflow.submission_page(s, case="CCU-", per_page=1).total == 7
        assert len(s.execute(select(Submission)).all()) == 7


def test_a_submission_page_shows_every_field_its_decision_and_history(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        officer, magistrate = s.get(User, people["officer"].id), s.get(User, people["magistrate"].id)
        assert officer is not None and magistrate is not None
        order = approved(s, officer, magistrate, "detail.test", case_number="FCCU-DETAIL", evidence_ref="EVD-77",
                         note="seen twice", reason="verified")
        sub_id = s.execute(select(Submission.id).where(Submission.domain == "detail.test")).scalar_one()
        pending_id = submitted(s, officer, "waiting.test").id
        order_id = order.id
    give_passwords(rt, "auditor", "magistrate2", "admin")
    client = TestClient(create_app(rt))
    login(client, "auditor")
    detail = client.get(f"/submissions/{sub_id}", params={"lang": "en"}).text
    for words in ("detail.test", "FCCU-DETAIL", "EVD-77", "seen twice", "Article 39bis", "blocked", "verified",
                  f"#{order_id}", "submission.created", "submission.approved", "order.created"):
        assert words in detail, words
    assert 'value="approve"' not in detail  # an auditor reads, never decides (the history says "Approved: ...")
    assert client.get(f"/submissions/{sub_id + 1000}").status_code == 404
    magistrate = TestClient(create_app(rt))
    login(magistrate, "magistrate2")
    waiting = magistrate.get(f"/submissions/{pending_id}").text
    assert "Not decided yet." in waiting and 'value="approve"' in waiting
    admin = TestClient(create_app(rt))
    login(admin, "admin")
    assert admin.get(f"/submissions/{sub_id}").status_code == 403  # an administrator reads no case
