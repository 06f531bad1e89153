"""The web pages with a real session: login (CSRF, lock-out), each role's pages and actions, languages."""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from api.runtime import Runtime
from api.web import router as web_router
from api.web.lockout import LoginFailure
from blocklist import isps, reviews, users, workflow
from blocklist.jobs import JobContext
from blocklist.models import AuditEvent, Submission, User
from blocklist.settings import Settings
from blocklist.vocab import LANGUAGES
from requisitions import jobs
from tests.support.web import PASSWORD, csrf, login, settle_batches

CASE = {"legal_basis": "art39bis", "case_number": "FCCU-9", "evidence_ref": "EVD-9", "verified_on": "2026-11-27",
        "scope": "domain_and_subdomains", "hosting_country": "NL"}
PAGES = ("/officer", "/triage", "/magistrate", "/auditor", "/requisitions", "/compliance", "/admin")
# The same rules as the API's (blocklist/permissions.py): whoever may read a name's history over the API may
# search it on /auditor, and no one else (an administrator reads no case).
OPENS = {"officer": {"/officer", "/triage", "/auditor"},
         "magistrate": {"/magistrate", "/auditor", "/requisitions", "/compliance"},
         "auditor": {"/auditor", "/requisitions", "/compliance"}, "admin": {"/admin", "/compliance"}}


@pytest.fixture
def web_rt(settings: Settings) -> Iterator[Runtime]:
    """A runtime with a platform suffix and a protected name of this deployment (reserved names only)."""
    runtime = Runtime(settings.model_copy(update={"platform_extra": "hosting.example",
                                                  "protected_extra": "portal.gov.example"}))
    yield runtime
    runtime.database.dispose()


@pytest.fixture
def client(web_rt: Runtime) -> TestClient:
    return TestClient(create_app(web_rt))


@pytest.fixture
def staff(web_rt: Runtime, people: dict[str, User]) -> dict[str, User]:
    """The `people` accounts with passwords; the magistrate reads French, the officer Dutch."""
    with web_rt.database.transaction() as s:
        for name in ("officer", "officer2", "magistrate", "auditor", "admin"):
            users.set_password(s, actor="test", user=users.get_user(s, name), password=PASSWORD)
        users.get_user(s, "magistrate").language = "fr"
        users.get_user(s, "officer").language = "nl"
        isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
    return people


def session_data(client: TestClient) -> dict[str, object]:
    """What the signed session cookie carries (readable by anyone holding it: it must hold no secret)."""
    raw = client.cookies.get("blocklist_session")
    if not raw:
        return {}
    payload = raw.split(".")[0]
    return dict(json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4))))


def texts(html: str, selector_class: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(rf'<div class="{selector_class}"[^>]*>(.*?)</div>', html)]


def web_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every route of the web pages (through included routers)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from web_routes(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def page_text(response: httpx.Response) -> str:
    """The page's text with HTML entities decoded (apostrophes and quotes are escaped in the HTML)."""
    return html.unescape(response.text)


def submissions(rt: Runtime) -> dict[str, Submission]:
    with rt.database.transaction() as s:
        return {sub.domain: sub for sub in s.execute(select(Submission)).scalars()}


# --- login, session, CSRF, lock-out ---------------------------------------------------------------------------

def test_login_sets_a_safe_session_and_logout_ends_it(client: TestClient, staff: dict[str, User]) -> None:
    first = client.get("/login")
    before = session_data(client).get("csrf")
    page = login(client, "auditor")
    assert page.status_code == 200 and page.url.path == "/auditor"
    cookie = page.history[0].headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "blocklist_session=" in cookie
    assert session_data(client)["csrf"] != before  # a new session at login: no fixation
    assert first.status_code == 200
    client.post("/logout", data={"csrf": csrf(page.text)})
    assert client.get("/auditor", follow_redirects=False).headers["location"] == "/login?next=%2Fauditor"


def test_every_form_post_needs_the_csrf_token(client: TestClient, staff: dict[str, User]) -> None:
    page = login(client, "officer")
    good = csrf(page.text)
    posts = [r.path for r in web_routes(web_router.routes) if "POST" in (r.methods or ())]
    assert {"/login", "/logout", "/officer/submit", "/officer/bulk", "/magistrate/decide", "/admin/users"} <= set(posts)
    # The public report and appeal forms have no session to hold a token: a page elsewhere that makes a browser
    # send one does nothing its author could not do directly (rate-limited per source, and no cookie stored).
    posts = [path for path in posts if path not in ("/report", "/appeal")]
    for path in posts:
        url = re.sub(r"\{[^}]+\}", "1", path)
        for sent in ({}, {"csrf": "forged-" + good[7:]}):
            # From another site: refused. From this one (an outdated form): nothing done, back to the form
            # (tests/api/test_lost_sessions.py).
            refused = client.post(url, data={**sent, "domain": "csrf.test", **CASE}, follow_redirects=False,
                                  headers={"origin": "http://evil.example"})
            assert refused.status_code == 403 and "CSRF" in refused.text, (path, sent, refused.text[:300])
            assert "Traceback" not in refused.text
            outdated = client.post(url, data={**sent, "domain": "csrf.test", **CASE}, follow_redirects=False)
            assert outdated.status_code == 303, (path, sent, outdated.text[:300])
    assert submissions(client.app.state.runtime) == {}  # type: ignore[attr-defined]


def test_lock_out_after_five_failures_is_kept_in_the_database(client: TestClient, web_rt: Runtime,
                                                              staff: dict[str, User]) -> None:
    for attempt in range(1, 6):
        wrong = login(client, "officer", "wrong password!")
        if attempt < 5:
            assert wrong.status_code == 401 and "verkeerde" not in wrong.text  # the login page speaks English
            assert "wrong username or password" in wrong.text and 'value="officer"' in wrong.text
    assert wrong.status_code == 429 and "locked until" in wrong.text
    # Locked from this source: even the right password is refused, by another process too (a new app over the
    # same database). Other sources are not affected (tests/api/test_web_security.py).
    other = TestClient(create_app(web_rt))
    assert login(other, "officer").status_code == 429
    assert client.get("/officer", follow_redirects=False).status_code == 303
    with web_rt.database.transaction() as s:
        # Lock-outs go to the security log, never into the audit chain.
        assert not s.execute(select(AuditEvent).where(AuditEvent.action == "user.locked_out")).scalars().all()
        # Fifteen minutes later:
        s.execute(update(LoginFailure).values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert login(other, "officer").url.path == "/officer"
    with web_rt.database.transaction() as s:
        counted = select(LoginFailure.failures).where(LoginFailure.username == "officer")
        assert s.execute(counted).scalar_one() == 0
    # Other usernames were never affected; unknown ones are counted the same way, without revealing anything.
    assert login(TestClient(create_app(web_rt)), "auditor").url.path == "/auditor"
    assert login(client, "nobody-here", "whatever").status_code == 401


def test_old_failures_are_forgotten(client: TestClient, web_rt: Runtime, staff: dict[str, User]) -> None:
    for _ in range(4):
        login(client, "auditor", "wrong password!")
    with web_rt.database.transaction() as s:
        s.execute(update(LoginFailure).values(window_started_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)))
    assert login(client, "auditor", "wrong password!").status_code == 401  # a new window: 1 failure, not 5
    assert login(client, "auditor").url.path == "/auditor"


def test_login_page_languages(client: TestClient, staff: dict[str, User]) -> None:
    for lang, words in (("fr", "Se connecter"), ("nl", "Aanmelden"), ("de", "Anmelden"), ("en", "Log in")):
        page = client.get(f"/login?lang={lang}")
        assert f'<html lang="{lang}">' in page.text and f"<h1>{words}</h1>" in page.text
        for code in LANGUAGES:
            assert f'href="/login?lang={code}"' in page.text
    assert "<h1>Log in</h1>" in client.get("/login?lang=xx").text  # an unknown language keeps the last one


# --- roles ------------------------------------------------------------------------------------------------------

def test_each_role_opens_exactly_its_pages(client: TestClient, web_rt: Runtime, staff: dict[str, User]) -> None:
    for path in PAGES:
        assert client.get(path, follow_redirects=False).headers["location"].startswith("/login")
    for role, allowed in OPENS.items():
        session = TestClient(create_app(web_rt))
        home = login(session, role)
        assert home.status_code == 200
        for path in PAGES:
            response = session.get(path)
            assert response.status_code == (200 if path in allowed else 403), (role, path)
            assert "Traceback" not in response.text
            if path not in allowed:
                assert "only" in response.text


def test_actions_of_other_roles_are_refused(client: TestClient, web_rt: Runtime, staff: dict[str, User]) -> None:
    refused = {
        "auditor": ["/officer/submit", "/magistrate/decide", "/magistrate/lift", "/admin/users"],
        "admin": ["/officer/submit", "/magistrate/decide", "/magistrate/override"],
        "officer": ["/magistrate/decide", "/magistrate/lift", "/admin/isps"],
        "magistrate": ["/officer/submit", "/officer/bulk", "/admin/users"],
    }
    for role, paths in refused.items():
        session = TestClient(create_app(web_rt))
        token = csrf(login(session, role).text)
        for path in paths:
            response = session.post(path, data={"csrf": token, "domain": "nope.test", "reason": "a reason",
                                                "ids": "1", "decision": "approve", "username": "x1", **CASE})
            assert response.status_code == 403, (role, path)
    assert submissions(web_rt) == {}


# --- the officer ------------------------------------------------------------------------------------------------

def test_officer_submits_keeps_refused_forms_and_withdraws(client: TestClient, web_rt: Runtime,
                                                           staff: dict[str, User]) -> None:
    page = login(client, "officer")
    assert "Een geverifieerd domein indienen" in page.text and '<html lang="nl">' in page.text
    token = csrf(page.text)
    sent = client.post("/officer/submit", follow_redirects=True,
                       data={"csrf": token, "domain": "https://csam-gallery.test/x", **CASE, "note": "via report 7"})
    assert "#1 csam-gallery.test ingediend" in texts(sent.text, "info")
    assert "in behandeling" in sent.text  # its state, in Dutch
    refused = client.post("/officer/submit", data={"csrf": token, "domain": "www.portal.gov.example", **CASE,
                                                   "note": "kept note", "scope": "exact"})
    assert refused.status_code == 422 and "beschermd: www.portal.gov.example valt onder" in refused.text  # in Dutch
    assert 'value="www.portal.gov.example"' in refused.text and "kept note" in refused.text  # what was typed stays
    assert 'value="exact" selected' in refused.text and 'value="FCCU-9"' in refused.text
    duplicate = client.post("/officer/submit", data={"csrf": token, "domain": "csam-gallery.test", **CASE})
    assert duplicate.status_code == 409 and "al in behandeling als indiening #1" in duplicate.text
    no_court = client.post("/officer/submit", data={"csrf": token, "domain": "court.test", **CASE,
                                                    "legal_basis": "court_order"})
    assert no_court.status_code == 422 and "court_order.court" not in no_court.text  # words, not field names
    # A plain sentence in Dutch, in the summary at the top and next to the court's field.
    assert no_court.text.count("Geef de naam van de rechtbank op") == 2 and 'id="court-error"' in no_court.text
    court = client.post("/officer/submit", follow_redirects=True, data={
        "csrf": token, "domain": "court.test", **CASE, "legal_basis": "court_order", "court": "Tribunal de Bruxelles",
        "court_date": "2026-11-20", "court_reference": "2026/1234"})
    assert "court.test ingediend" in court.text
    flagged = client.post("/officer/submit", follow_redirects=True,
                          data={"csrf": token, "domain": "someone.hosting.example", **CASE})
    assert "platform of gedeelde hosting" in flagged.text  # the flag is explained at once
    subs = submissions(web_rt)
    assert subs["court.test"].court == "Tribunal de Bruxelles" and subs["court.test"].court_reference == "2026/1234"
    assert subs["csam-gallery.test"].note == "via report 7" and subs["someone.hosting.example"].flags == "platform_host"
    withdrawn = client.post("/officer/withdraw/1", data={"csrf": token}, follow_redirects=True)
    assert "#1 ingetrokken" in withdrawn.text and submissions(web_rt)["csam-gallery.test"].status == "withdrawn"
    again = client.post("/officer/withdraw/1", data={"csrf": token}, follow_redirects=True)
    assert any("ingetrokken, niet in behandeling" in m for m in texts(again.text, "error"))
    odd = client.post("/officer/withdraw/abc", data={"csrf": token})
    assert odd.status_code == 422 and "submission_id" in odd.text and "Traceback" not in odd.text


def test_officer_cannot_withdraw_someone_elses(client: TestClient, web_rt: Runtime, staff: dict[str, User]) -> None:
    token = csrf(login(client, "officer2").text)
    client.post("/officer/submit", data={"csrf": token, "domain": "theirs.test", **CASE})
    other = TestClient(create_app(web_rt))
    token = csrf(login(other, "officer").text)
    page = other.post("/officer/withdraw/1", data={"csrf": token}, follow_redirects=True)
    assert "enkel de agent die #1 heeft ingediend mag het intrekken" in page.text
    assert "theirs.test" not in page.text.split("Mijn indieningen")[1]  # not listed among the officer's own


def test_bulk_paste_and_csv_under_one_case(client: TestClient, web_rt: Runtime, staff: dict[str, User]) -> None:
    token = csrf(login(client, "officer").text)
    page = client.post("/officer/bulk", data={
        "csrf": token, "names": "one.test\n# a comment\n\ntwo.test\n192.0.2.1\none.test\nwww.portal.gov.example",
        **CASE,
        "legal_basis": "court_order", "court": "Hof van beroep Antwerpen", "court_date": "2026-11-01",
        "court_reference": "AR 2026/77", "note": "batch"},
        files={"upload": ("list.csv", b"\xef\xbb\xbfdomain,comment\nthree.test,from the CSV\n", "text/csv")},
        follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/batches/1"  # stored; recorded in the background
    settle_batches(web_rt)
    page = client.get("/batches/1")
    assert "3 ingediend, 3 geweigerd" in page.text
    rows = re.findall(r'<tr class="(?:submitted|refused)"><td>\d+</td><td>([^<]+)</td><td>([^<]+)</td>', page.text)
    assert [typed for typed, _ in rows] == ["one.test", "two.test", "192.0.2.1", "one.test", "www.portal.gov.example",
                                            "three.test"]
    assert [state == "geweigerd" for _, state in rows] == [False, False, True, True, True, False]
    # The same function as the API's bulk (workflow.submit_many): a name typed twice is refused as such.
    # Each reason in the page's language (Dutch here: tests/api/test_dutch_refusals.py).
    for words in ("komt twee keer voor in deze batch", "IP-adres", "beschermde naam"):
        assert words in page.text, words
    subs = submissions(web_rt)
    assert sorted(subs) == ["one.test", "three.test", "two.test"]
    assert {s.court_reference for s in subs.values()} == {"AR 2026/77"} and {s.case_number for s in subs.values()} == {
        "FCCU-9"}
    assert len(client.cookies.get("blocklist_session") or "") < 4000  # results are on the page, not in the cookie


def test_bulk_refusals_keep_what_was_typed(client: TestClient, staff: dict[str, User]) -> None:
    token = csrf(login(client, "officer").text)
    no_evidence = client.post("/officer/bulk", data={"csrf": token, "names": "kept-a.test\nkept-b.test",
                                                     **{**CASE, "evidence_ref": ""}})
    assert no_evidence.status_code == 422 and 'aria-describedby="bulk-evidence_ref-error"' in no_evidence.text
    assert "kept-a.test\nkept-b.test" in no_evidence.text
    assert no_evidence.text.count("Geef de referentie van het bewijs op") == 2  # the summary, and beside the field
    empty = client.post("/officer/bulk", data={"csrf": token, "names": " \n# nothing\n", **CASE})
    assert empty.status_code == 422 and "Geef de namen op, één per regel, of kies een CSV-bestand" in empty.text
    too_many = client.post("/officer/bulk", data={"csrf": token, **CASE,
                                                  "names": "\n".join(f"n{i}.test" for i in range(10_001))})
    assert too_many.status_code == 422 and "10001 namen: hoogstens 10000 tegelijk" in too_many.text
    huge_field = client.post("/officer/bulk", data={"csrf": token, **CASE}, files={
        "upload": ("big.csv", b'"' + b"x" * 200_000 + b'"\n', "text/csv")})
    assert huge_field.status_code == 422 and "not readable" in huge_field.text


# --- the magistrate ---------------------------------------------------------------------------------------------

def _queue(web_rt: Runtime, staff: dict[str, User]) -> None:
    officer = TestClient(create_app(web_rt))
    token = csrf(login(officer, "officer").text)
    names = "one.test\ntwo.test\nthree.test\nраypal.example\nsite.hosting.example"
    officer.post("/officer/bulk", data={"csrf": token, **CASE, "names": names})
    settle_batches(web_rt)


def test_magistrate_queue_shows_every_detail_and_flag(client: TestClient, web_rt: Runtime,
                                                      staff: dict[str, User]) -> None:
    _queue(web_rt, staff)
    page = login(client, "magistrate")
    assert "Soumissions en attente (5)" in page.text and '<html lang="fr">' in page.text
    for words in ("Article 39bis du Code d'instruction criminelle", "FCCU-9", "EVD-9", "2026-11-27",
                  "le domaine et ses sous-domaines", "soumis par officer", "xn--ypal-43d9g.example"):
        assert words in page_text(page), words
    assert 'class="flag flag-homograph"' in page.text and "homographe" in page.text
    assert 'class="flag flag-platform_host"' in page.text and 'class="flag flag-idn"' in page.text
    assert page.text.count('<tr class="flagged">') == 2


def test_magistrate_decides_one_by_one_or_in_a_batch(client: TestClient, web_rt: Runtime,
                                                      staff: dict[str, User]) -> None:
    _queue(web_rt, staff)
    page = login(client, "magistrate")
    token = csrf(page.text)
    ids = dict((d, i) for i, d in ((s.id, s.domain) for s in submissions(web_rt).values()))
    nothing = client.post("/magistrate/decide", data={"csrf": token, "decision": "approve"}, follow_redirects=True)
    assert "sélectionnez au moins une soumission" in nothing.text
    batch = client.post("/magistrate/decide", follow_redirects=True, data={
        "csrf": token, "decision": "approve", "reason": "verified", "ids": [ids["one.test"], ids["two.test"]],
        "confirm": "yes"})
    assert "2 approuvé(s) dans l'ordre #1" in page_text(batch)
    no_reason = client.post("/magistrate/decide", follow_redirects=True,
                            data={"csrf": token, "decision": "reject", "ids": [ids["three.test"]]})
    assert "un rejet demande un motif écrit" in no_reason.text  # in French, on a French page
    one = client.post("/magistrate/decide", follow_redirects=True,
                      data={"csrf": token, "decision": "reject", "reason": "not verified", "ids": [ids["three.test"]]})
    assert "1 rejeté(s)" in one.text
    twice = client.post("/magistrate/decide", follow_redirects=True, data={
        "csrf": token, "decision": "approve", "ids": [ids["three.test"], ids["site.hosting.example"]]})
    assert any("three.test" in m for m in texts(twice.text, "error"))
    subs = submissions(web_rt)
    assert subs["one.test"].order_id == subs["two.test"].order_id == 1 and subs["one.test"].status == "approved"
    assert subs["three.test"].status == "rejected" and subs["three.test"].decision_reason == "not verified"
    assert subs["site.hosting.example"].status == "submitted"  # the refused batch changed nothing


def test_magistrate_lifts_renews_reviews_and_overrides(client: TestClient, web_rt: Runtime,
                                                        staff: dict[str, User]) -> None:
    _queue(web_rt, staff)
    with web_rt.database.transaction() as s:
        subs = {sub.domain: sub.id for sub in s.execute(select(Submission)).scalars()}
        workflow.approve(s, actor=s.get(User, staff["magistrate2"].id), submission_ids=[subs["one.test"],  # type: ignore[arg-type]
                                                                                       subs["two.test"]])
        s.execute(update(Submission).where(Submission.domain == "two.test").values(review_due=dt.date(2026, 1, 1)))
    page = login(client, "magistrate")
    token = csrf(page.text)
    due = page.text.split("À réexaminer (1)")[1].split("</table>")[0]
    assert "two.test" in due and "one.test" not in due
    next_review = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    renewal = {"csrf": token, "domain": "two.test", "reason": "still online", "review_due": next_review}
    refused = client.post("/magistrate/renew", follow_redirects=True, data=renewal)
    assert "un officier doit d'abord réattester" in page_text(refused)  # renewal rests on a re-attestation
    with web_rt.database.transaction() as s:
        reviews.attest(s, actor=s.get(User, staff["officer"].id), domain="two.test",  # type: ignore[arg-type]
                       checked_on=dt.date.today(), evidence_ref="EVD-9-R", content_present=True)
    renewed = client.post("/magistrate/renew", follow_redirects=True, data=renewal)
    assert f"two.test : blocage renouvelé, prochain réexamen le {next_review}" in renewed.text
    assert "À réexaminer (0)" in renewed.text
    lifted = client.post("/magistrate/lift", follow_redirects=True,
                         data={"csrf": token, "domain": "one.test", "reason": "content removed", "action": "lift",
                               "confirm": "yes"})
    assert "one.test : blocage levé" in lifted.text
    odd = client.post("/magistrate/lift", follow_redirects=True,
                      data={"csrf": token, "domain": "two.test", "reason": "xxx", "action": "delete"})
    assert "unknown action 'delete'" in page_text(odd)
    assert {d: s.status for d, s in submissions(web_rt).items()}["one.test"] == "lifted"
    override = client.post("/magistrate/override", follow_redirects=True, data={
        "csrf": token, "domain": "portal.gov.example", "reason": "the whole portal hosts the material (case FCCU-9)"})
    assert "dérogation #1 enregistrée pour portal.gov.example" in override.text
    officer = TestClient(create_app(web_rt))
    sent = officer.post("/officer/submit", follow_redirects=True,
                        data={"csrf": csrf(login(officer, "officer").text), "domain": "portal.gov.example", **CASE,
                              "scope": "exact"})
    assert "beschermde naam, toegelaten door een afwijking" in sent.text


# --- the auditor ------------------------------------------------------------------------------------------------

def test_auditor_timeline_by_name_and_case(client: TestClient, web_rt: Runtime, staff: dict[str, User]) -> None:
    _queue(web_rt, staff)
    with web_rt.database.transaction() as s:
        one = s.execute(select(Submission).where(Submission.domain == "one.test")).scalar_one()
        workflow.approve(s, actor=s.get(User, staff["magistrate"].id), submission_ids=[one.id])  # type: ignore[arg-type]
    jobs.issue_pending(JobContext.standalone(web_rt.database, web_rt.settings.model_copy(
        update={"requisitions_wait_for_feed": False})))
    page = login(client, "auditor")
    assert "Audit chain: intact" in page.text
    assert "Audit chain: intact" in client.get("/auditor", params={"verify": "true"}).text  # walked again on demand
    by_name = client.get("/auditor", params={"q": "https://ONE.test/page"}).text
    actions = re.findall(r'<td class="action" data-action="([^"]+)">', by_name)  # the words: test_auditor_timeline
    assert actions[:2] == ["submission.created", "submission.approved"] and "requisition.created" in " ".join(actions)
    by_case = client.get("/auditor", params={"q": "FCCU-9"}).text
    assert by_case.count('data-action="submission.created"') == 5
    assert "two.test" in by_case and "Article 39bis of the Code of Criminal Procedure" in by_case
    nothing = client.get("/auditor", params={"q": "!!!"})
    assert nothing.status_code == 200 and "Nothing here." in nothing.text
    listing = client.get("/requisitions")
    pdf = re.search(r'href="(/requisitions/\d+\.pdf)"', listing.text)
    assert pdf and client.get(pdf.group(1)).content.startswith(b"%PDF")


# --- the administrator ------------------------------------------------------------------------------------------

def test_admin_accounts_and_isps(client: TestClient, web_rt: Runtime, staff: dict[str, User]) -> None:
    token = csrf(login(client, "admin").text)
    made = client.post("/admin/users", data={"csrf": token, "username": "newbie", "role": "auditor",
                                             "language": "de", "display_name": "New Person"}, follow_redirects=True)
    # No credential of another person is ever shown to an administrator; the account awaits a second one.
    assert made.status_code == 200 and "bl_" not in made.text and "awaits a second administrator" in made.text
    assert "blocklist user enrol newbie" in made.text
    with web_rt.database.transaction() as s:
        assert users.get_user(s, "newbie").confirmed_at is None
    again = client.post("/admin/users", data={"csrf": token, "username": "newbie", "role": "magistrate",
                                              "language": "nl", "display_name": "Typed Name"})
    assert again.status_code == 409 and "already exists" in again.text
    assert 'value="Typed Name"' in again.text and "<option selected>magistrate</option>" in again.text
    reset = client.post("/admin/users/newbie", data={"csrf": token, "action": "token"}, follow_redirects=True)
    assert "every token and the password revoked" in reset.text and "bl_" not in reset.text
    mine = client.post("/admin/users/newbie", data={"csrf": token, "action": "confirm"}, follow_redirects=True)
    assert "cannot also confirm it" in mine.text
    odd = client.post("/admin/users/newbie", data={"csrf": token, "action": ""}, follow_redirects=True)
    assert "unknown action ''" in page_text(odd)
    disabled = client.post("/admin/users/officer", data={"csrf": token, "action": "disable", "confirm": "yes"},
                           follow_redirects=True)
    assert "officer: disabled" in disabled.text
    assert login(TestClient(create_app(web_rt)), "officer").status_code == 401
    isp = client.post("/admin/isps", data={"csrf": token, "name": "ISP Two", "email": "noc@isp-two.example",
                                           "language": "nl", "resolvers": "127.0.0.1:5353", "policy": "nxdomain"})
    assert re.search(r"ISP Two: \S+</code>", isp.text)
    assert re.search(r"<code>key &#34;isp-\d+&#34; \{ algorithm hmac-sha256; secret &#34;\S+&#34;; \};</code>",
                     isp.text)
    bad = client.post("/admin/isps", data={"csrf": token, "name": "ISP Three", "email": "not-an-address",
                                           "language": "de", "resolvers": "", "policy": "stoppage"})
    assert bad.status_code == 422 and 'value="ISP Three"' in bad.text and 'value="de" selected' in bad.text
    with web_rt.database.transaction() as s:
        two = next(i for i in isps.list_isps(s) if i.name == "ISP Two")
    rotated = client.post(f"/admin/isps/{two.id}", data={"csrf": token, "action": "rotate"})
    assert re.search(r"ISP Two: \S+</code>", rotated.text)
    off = client.post(f"/admin/isps/{two.id}", data={"csrf": token, "action": "disable"}, follow_redirects=True)
    assert "ISP Two: disabled" in off.text


# --- languages --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "heading"), [("en", "Submit a verified domain"),
                                               ("fr", "Soumettre un domaine vérifié"),
                                               ("nl", "Een geverifieerd domein indienen"),
                                               ("de", "Eine geprüfte Domain einreichen")])
def test_pages_in_the_users_language(client: TestClient, web_rt: Runtime, staff: dict[str, User], lang: str,
                                     heading: str) -> None:
    with web_rt.database.transaction() as s:
        users.get_user(s, "officer").language = lang
    page = login(client, "officer")
    assert f'<html lang="{lang}">' in page.text and f"<h1>{heading}</h1>" in page.text


@pytest.mark.parametrize(("api_path", "page_path"), [
    ("/api/v1/domains/one.test/history", "/auditor?q=one.test"),
    ("/api/v1/requisitions", "/requisitions"),
    ("/api/v1/compliance", "/compliance"),
    ("/api/v1/reports", "/triage"),
])
def test_pages_and_api_apply_one_rule(web_rt: Runtime, staff: dict[str, User], api_path: str, page_path: str) -> None:
    """Before: an administrator read on /auditor every timeline that the API refused it."""
    with web_rt.database.transaction() as s:
        tokens = {name: users.issue_token(s, actor="test", user=users.get_user(s, name))
                  for name in ("officer", "magistrate", "auditor", "admin")}
    for name, token in tokens.items():
        api = TestClient(create_app(web_rt)).get(api_path, headers={"Authorization": f"Bearer {token}"})
        browser = TestClient(create_app(web_rt))
        login(browser, name)
        shown = browser.get(page_path)
        assert (api.status_code == 403) == (shown.status_code == 403), (name, api.status_code, shown.status_code)


def test_a_refused_action_on_a_page_leaves_the_database_as_before(
        client: TestClient, web_rt: Runtime, staff: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a lift that lost a race (its conditional update matched no row) was refused after the lifting
    order was written; the page showed the refusal and the request committed that order, audited by nothing."""
    from sqlalchemy import func

    from blocklist import workflow
    from blocklist.models import Order
    from tests.support.factories import approved

    with web_rt.database.transaction() as s:
        approved(s, users.get_user(s, "officer"), users.get_user(s, "magistrate"), "raced.test")
    real = workflow.approved_submission

    def changed_meanwhile(session: Any, domain: str) -> Any:
        sub = real(session, domain)
        session.expunge(sub)
        sub.version -= 1  # another magistrate's change landed between this read and the update
        return sub

    monkeypatch.setattr(workflow, "approved_submission", changed_meanwhile)
    with web_rt.database.reading() as s:
        before = s.execute(select(func.count()).select_from(Order)).scalar_one()
    token = csrf(login(client, "magistrate").text)
    answer = client.post("/magistrate/lift", data={"csrf": token, "domain": "raced.test", "reason": "race",
                                                   "confirm": "yes"},
                         follow_redirects=True)
    assert answer.status_code == 200 and "au même moment" in answer.text
    with web_rt.database.reading() as s:
        assert s.execute(select(func.count()).select_from(Order)).scalar_one() == before
