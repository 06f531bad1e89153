"""Reviews on the staff pages, with a real session: the officer re-attests (Dutch), the magistrate sees the due list
with days left or overdue and the names proposed for lifting, renews or lifts (French), the auditor sees the overdue
reviews (English). Refusals come back in the user's language and write nothing."""

from __future__ import annotations

import datetime as dt
import html
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.app import create_app
from api.runtime import Runtime
from blocklist import reviews, users
from blocklist.models import Attestation, AuditEvent, Renewal, Submission, User
from tests.support.browser import ARTIFACTS, chromium, record_hosts
from tests.support.clock import today
from tests.support.factories import approved
from tests.support.web import PASSWORD, csrf, login


@pytest.fixture
def staff(rt: Runtime, people: dict[str, User]) -> dict[str, User]:
    """Passwords for the staff; the officer reads Dutch, the magistrate French, the auditor English. Three blocks:
    overdue by 2 days, due in 9 days, due in 100 days."""
    with rt.database.transaction() as s:
        for name, language in (("officer", "nl"), ("magistrate", "fr"), ("auditor", "en")):
            user = users.get_user(s, name)
            users.set_password(s, actor="test", user=user, password=PASSWORD)
            user.language = language
        approved(s, people["officer2"], people["magistrate2"], "late.test", "soon.test", "far.test")
        for domain, due_in in (("late.test", -2), ("soon.test", 9), ("far.test", 100)):
            s.execute(update(Submission).where(Submission.domain == domain)
                      .values(review_due=today() + dt.timedelta(days=due_in)))
    return people


def _client(rt: Runtime, username: str) -> tuple[TestClient, str, httpx.Response]:
    client = TestClient(create_app(rt))
    page = login(client, username)
    return client, csrf(page.text), page


def _text(response: httpx.Response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def _written(rt: Runtime) -> tuple[int, int, int]:
    with rt.database.transaction() as s:
        return (s.execute(select(func.count(Attestation.id))).scalar_one(),
                s.execute(select(func.count(Renewal.id))).scalar_one(),
                s.execute(select(func.count(AuditEvent.id))).scalar_one())


def _section(page: httpx.Response, heading: str) -> str:
    return page.text.split(heading, 1)[1].split("</table>", 1)[0]


def test_officer_re_attests_from_the_officer_page(rt: Runtime, staff: dict[str, User]) -> None:
    client, token, page = _client(rt, "officer")
    listed = _section(page, "Opnieuw te bevestigen blokkeringen (2)")
    assert "late.test" in listed and "soon.test" in listed and "far.test" not in listed
    assert "2 dag(en) te laat" in listed and "over 9 dag(en)" in listed
    form = {"csrf": token, "domain": "late.test", "checked_on": today().isoformat(), "evidence_ref": "EVD-R-9"}
    before = _written(rt)
    for typed, words in ((form, "Geef aan of de inhoud er nog is."),
                         ({**form, "content": "present", "checked_on": "gisteren"}, "moet een datum zijn"),
                         ({**form, "content": "present",
                           "checked_on": (today() + dt.timedelta(days=3)).isoformat()}, "niet in de toekomst"),
                         ({**form, "content": "present", "evidence_ref": ""}, "vraagt de referentie")):
        refused = client.post("/officer/attest", data=typed, follow_redirects=True)
        assert words in _text(refused), typed
    assert _written(rt) == before
    done = client.post("/officer/attest", data={**form, "content": "present"}, follow_redirects=True)
    assert "late.test: nieuwe bevestiging geregistreerd" in _text(done)
    assert f"inhoud nog aanwezig, gecontroleerd op {today()} door officer (EVD-R-9)" in _text(done)
    gone = client.post("/officer/attest", data={**form, "domain": "far.test", "content": "gone"},
                       follow_redirects=True)
    assert "far.test: nieuwe bevestiging geregistreerd; de naam wordt voorgesteld voor opheffing" in _text(gone)
    assert "Opnieuw te bevestigen blokkeringen (3)" in gone.text  # proposed for lifting: listed whatever its date


def test_magistrate_renews_or_lifts_from_the_due_list(rt: Runtime, staff: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        for domain, present in (("late.test", True), ("far.test", False)):
            reviews.attest(s, actor=s.get(User, staff["officer2"].id), domain=domain,  # type: ignore[arg-type]
                           checked_on=today(), evidence_ref=f"EVD-{domain}", content_present=present)
    client, token, page = _client(rt, "magistrate")
    due = _section(page, "À réexaminer (3)")
    assert due.index("late.test") < due.index("soon.test") < due.index("far.test")
    assert "en retard de 2 jour(s)" in due and "dans 9 jour(s)" in due and "dans 100 jour(s)" in due
    far = due.split('<tr id="review-')[3]
    assert "proposé à la levée : le contenu a disparu" in html.unescape(far) and "/magistrate/renew" not in far
    assert due.count('action="/magistrate/renew"') == 1  # only late.test has a current re-attestation
    next_review = (today() + dt.timedelta(days=60)).isoformat()
    renewal = {"csrf": token, "domain": "late.test", "review_due": next_review, "reason": "toujours en ligne"}
    before = _written(rt)
    for typed, words in (({**renewal, "review_due": today().isoformat()}, "doit être postérieure à aujourd'hui"),
                         ({**renewal, "reason": ""}, "demande un motif écrit"),
                         ({**renewal, "review_due": ""}, "doit être une date"),
                         ({**renewal, "domain": "soon.test"}, "un officier doit d'abord réattester"),
                         ({**renewal, "domain": "far.test"}, "le contenu a disparu : le nom est proposé à la levée")):
        refused = client.post("/magistrate/renew", data=typed, follow_redirects=True)
        assert words in _text(refused), typed
    assert _written(rt) == before
    renewed = client.post("/magistrate/renew", data=renewal, follow_redirects=True)
    assert f"late.test : blocage renouvelé, prochain réexamen le {next_review}" in _text(renewed)
    lifted = client.post("/magistrate/lift", follow_redirects=True, data={
        "csrf": token, "domain": "far.test", "reason": "contenu disparu", "action": "lift", "confirm": "yes"})
    assert "far.test : blocage levé" in _text(lifted) and "À réexaminer (1)" in lifted.text
    stale = client.post("/magistrate/lift", follow_redirects=True, data={
        "csrf": token, "domain": "soon.test", "reason": "toujours en ligne", "action": "renew"})
    assert "unknown action 'renew'" in _text(stale)  # an old page's renew button never lifts
    with rt.database.transaction() as s:
        status = dict(s.execute(select(Submission.domain, Submission.status)).all())
    assert status == {"late.test": "approved", "soon.test": "approved", "far.test": "lifted"}


def test_auditor_sees_overdue_reviews(rt: Runtime, staff: dict[str, User]) -> None:
    _, _, page = _client(rt, "auditor")
    overdue = _section(page, "Overdue reviews (1)")
    assert "late.test" in overdue and "overdue by 2 day(s)" in overdue and "soon.test" not in overdue
    assert "no re-attestation since the last decision" in overdue


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_review_in_chromium(rt: Runtime, staff: dict[str, User]) -> None:
    """In a real browser: the officer re-attests with the form's date, radio and fields, then the magistrate renews
    with the date picker's value; screenshots of both sections."""
    with chromium(rt) as (browser, port):
        url = f"http://127.0.0.1:{port}"
        context = browser.new_context(locale="en")
        hosts = record_hosts(context)
        page = context.new_page()
        for username in ("officer", "magistrate"):
            page.goto(f"{url}/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            row = page.locator("#reviews ~ table tr", has_text="late.test")
            if username == "officer":
                row.locator("input[name=evidence_ref]").fill("EVD-R-77")
                row.locator("input[value=present]").check()
                row.locator("button").click()
                assert "late.test: nieuwe bevestiging geregistreerd" in page.inner_text("main")
                page.screenshot(path=str(ARTIFACTS / "reviews-officer.png"), full_page=True)
            else:
                row.locator("form[action='/magistrate/renew'] input[name=reason]").fill("toujours en ligne")
                row.locator("form[action='/magistrate/renew'] button").click()
                assert "late.test : blocage renouvelé, prochain réexamen le" in page.inner_text("main")
                page.screenshot(path=str(ARTIFACTS / "reviews-magistrate.png"), full_page=True)
            page.click("header form button")
        context.close()
    assert hosts == {"127.0.0.1"}
    with rt.database.transaction() as s:
        assert s.execute(select(Submission.review_due).where(Submission.domain == "late.test")).scalar_one() == (
            today() + dt.timedelta(days=182))
