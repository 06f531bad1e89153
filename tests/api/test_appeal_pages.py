"""The public appeal form (/appeal) and the magistrates' appeal queue (/appeals); the form also in headless
Chromium: each language without JavaScript (screenshots under test-artifacts/), an over-long field, the honeypot
and the rate limit."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from api.stoppage import APPEAL_CSP
from api.web.public_forms import SourceLimiter
from blocklist import appeals
from blocklist.models import Appeal, AppealDecision, AuditEvent, Submission, User
from tests.support.browser import ARTIFACTS, check_form_refusals, chromium, record_hosts
from tests.support.factories import approved
from tests.support.web import csrf, give_passwords, login

HOST = "csam-gallery.test"
TITLES = {"fr": "Formulaire de recours", "nl": "Bezwaarformulier", "de": "Widerspruchsformular", "en": "Appeal form"}
SENT = {"fr": "Merci : votre recours a été reçu.", "nl": "Dank u: uw bezwaar is ontvangen.",
        "de": "Danke: Ihr Widerspruch ist eingegangen.", "en": "Thank you: your appeal has been received."}
RECEIPT = re.compile(r"A-[A-Z2-7]{10}")


@pytest.fixture
def blocked(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], HOST)


def _stored(rt: Runtime) -> int:
    with rt.database.transaction() as s:
        return int(s.execute(select(func.count(Appeal.id))).scalar_one())


@pytest.mark.parametrize("lang", ["fr", "nl", "de", "en"])
def test_form_in_each_language_pre_filled_with_a_switcher_that_keeps_the_name(client: TestClient, blocked: None,
                                                                              lang: str) -> None:
    page = client.get(f"/appeal?name={HOST}", headers={"Host": f"www.{HOST}", "Accept-Language": f"{lang};q=0.8"})
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text and TITLES[lang] in page.text
    assert f'name="name" value="{HOST}"' in page.text and 'href="tel:+3220000000"' in page.text
    for other in ("fr", "nl", "de", "en"):
        assert f'href="?lang={other}&amp;name={HOST}"' in page.text
    assert "<script" not in page.text and "<link" not in page.text and "set-cookie" not in page.headers
    assert page.headers["content-security-policy"] == APPEAL_CSP and "form-action 'self'" in APPEAL_CSP
    assert page.headers["content-language"] == lang and page.headers["cache-control"] == "no-store"


def test_the_name_is_pre_filled_only_when_it_is_a_site_name(client: TestClient) -> None:
    for typed in ('"><script>alert(1)</script>', "192.0.2.1", "x" * 5000, ""):
        page = client.get("/appeal", params={"name": typed, "lang": "en"})
        assert page.status_code == 200 and 'name="name" value=""' in page.text and "<script>" not in page.text
    idn = client.get("/appeal?lang=en&name=xn--bcher-kva.example")
    assert 'value="bücher.example"' in idn.text and "&amp;name=b%C3%BCcher.example" in idn.text


def test_an_appeal_gets_a_receipt_and_the_same_answer_listed_or_not(client: TestClient, rt: Runtime,
                                                                    blocked: None) -> None:
    answers = []
    for name in (HOST, "never-listed.test"):
        sent = client.post("/appeal", headers={"Host": name}, data={
            "name": name, "text": "my own site", "contact": "me@mail.example", "lang": "nl"})
        assert sent.status_code == 200 and "set-cookie" not in sent.headers and RECEIPT.search(sent.text)
        assert SENT["nl"] in sent.text and "Ontvangstnummer" in sent.text and name not in sent.text
        answers.append(RECEIPT.sub("", sent.text))
    assert answers[0] == answers[1]  # the form never tells whether a name is listed
    with rt.database.transaction() as s:
        stored = {a.domain: (a.language, a.contact, a.submission_id is not None)
                  for a in s.execute(select(Appeal)).scalars()}
    assert stored == {HOST: ("nl", "me@mail.example", True), "never-listed.test": ("nl", "me@mail.example", False)}


@pytest.mark.parametrize(("data", "status", "words"), [
    ({"name": HOST, "text": "why", "website": "http://spam.example"}, 400, "un champ qui doit rester vide"),
    ({"name": HOST, "text": "t" * 4001}, 422, "« Pourquoi vous contestez ce blocage » est trop long : 4000"),
    ({"name": "x" * 2049, "text": "why"}, 422, "2048"),
    ({"name": HOST, "text": "why", "contact": "c" * 255}, 422, "254"),
    ({"name": HOST, "text": "why", "contact": "not an address"}, 422, "n'est pas une adresse e-mail"),
    ({"name": "", "text": "why"}, 422, "Indiquez le nom bloqué"),
    ({"name": "192.0.2.1", "text": "why"}, 422, "Ce n'est pas un nom de site"),
    ({"name": HOST, "text": ""}, 422, "Dites pourquoi vous contestez ce blocage."),
    ({"name": HOST, "text": "a\x00b"}, 422, "caractère de contrôle"),
])
def test_refusals_are_4xx_in_the_language_and_write_nothing(client: TestClient, rt: Runtime, data: dict[str, str],
                                                            status: int, words: str) -> None:
    page = client.post("/appeal", data={**data, "lang": "fr"})
    assert page.status_code == status and words in page.text and 'role="alert"' in page.text, page.text
    assert "Recours non envoyé" in page.text and _stored(rt) == 0
    with rt.database.transaction() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "appeal.received")).first() is None


def test_too_large_and_rate_limited_per_source_in_memory(client: TestClient, rt: Runtime) -> None:
    big = client.post("/appeal", data={"name": HOST, "text": "t" * 40_000, "lang": "en"})
    assert big.status_code == 413 and "far too large" in big.text
    client.app.state.appeal_limiter = SourceLimiter(burst=2, per_second=0.0001)  # type: ignore[attr-defined]
    for n in range(2):
        assert client.post("/appeal", data={"name": f"a{n}.test", "text": "why", "lang": "de"}).status_code == 200
    limited = client.post("/appeal", data={"name": "a3.test", "text": "why", "lang": "de"})
    assert limited.status_code == 429 and "zu viele Widersprüche" in limited.text and limited.headers["retry-after"]
    assert client.post("/report", data={"address": "r.test", "lang": "de"}).status_code == 200  # its own budget
    assert _stored(rt) == 2


def _queue_as(client: TestClient, rt: Runtime, who: str) -> str:
    give_passwords(rt, who)
    login(client, who)
    page = client.get("/appeals")
    assert page.status_code == 200, page.text
    return page.text


def test_the_queue_page_beside_each_names_record_and_the_decision(client: TestClient, rt: Runtime,
                                                                  blocked: None) -> None:
    with rt.database.transaction() as s:
        appeal_id = appeals.receive(s, data=appeals.AppealIn(HOST, "a bakery's site", "me@mail.example", "nl")).id
    page = _queue_as(client, rt, "magistrate2")
    assert 'href="/appeals"' in page and "a bakery&#39;s site" in page and "me@mail.example" in page
    assert "FCCU-2026-0001" in page and "Article 39bis" in page and "Nederlands" in page
    refused = client.post(f"/appeals/{appeal_id}/decide", data={"outcome": "upheld", "reason": "", "csrf": csrf(page)})
    assert refused.status_code == 422 and "needs a written reason" in refused.text
    done = client.post(f"/appeals/{appeal_id}/decide", follow_redirects=True,
                       data={"outcome": "upheld", "reason": "a bakery now", "csrf": csrf(page)})
    assert done.status_code == 200 and "block lifted" in done.text
    decided = client.get("/appeals?state=decided").text
    assert "upheld" in decided and "a bakery now" in decided and "answer to be e-mailed" in decided
    with rt.database.transaction() as s:
        assert s.execute(select(Submission.status).where(Submission.domain == HOST)).scalar_one() == "lifted"


def test_the_approver_is_refused_on_the_page_in_their_language(client: TestClient, rt: Runtime, blocked: None,
                                                               people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        appeal_id = appeals.receive(s, data=appeals.AppealIn(HOST, "why")).id
        s.get(User, people["magistrate"].id).language = "nl"  # type: ignore[union-attr]
    page = _queue_as(client, rt, "magistrate")
    refused = client.post(f"/appeals/{appeal_id}/decide",
                          data={"outcome": "dismissed", "reason": "my own block", "csrf": csrf(page)})
    assert refused.status_code == 403
    assert f"Vier ogen: u hebt de blokkering van {HOST} goedgekeurd" in refused.text
    with rt.database.transaction() as s:
        assert s.execute(select(func.count()).select_from(AppealDecision)).scalar_one() == 0


def test_auditors_read_the_queue_and_others_may_not(client: TestClient, rt: Runtime, blocked: None) -> None:
    with rt.database.transaction() as s:
        appeals.receive(s, data=appeals.AppealIn(HOST, "why"))
    page = _queue_as(client, rt, "auditor")
    assert HOST in page and "/decide" not in page  # read only
    client.post("/logout", data={"csrf": csrf(page)})
    give_passwords(rt, "officer")
    login(client, "officer")
    assert client.get("/appeals").status_code == 403
    assert TestClient(create_app(rt)).get("/appeals", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_appeal_form_in_chromium(rt: Runtime, blocked: None) -> None:
    """From the stop page, without JavaScript: a receipt in each language, no cookie, no other host asked."""
    app = create_app(rt)
    with chromium(rt, hosts=[HOST], app=app) as (browser, port):
        for lang, title in TITLES.items():
            visitor = browser.new_context(locale=lang, java_script_enabled=False)
            hosts = record_hosts(visitor)
            page = visitor.new_page()
            page.goto(f"http://www.{HOST}:{port}/gallery")
            page.click("a[href^='/appeal']")
            assert page.inner_text("h1") == title and page.get_attribute("html", "lang") == lang
            assert page.input_value("input[name=name]") == HOST
            assert page.get_attribute("a.phone", "href") == "tel:+3220000000"
            box = page.locator("input[name=website]").bounding_box()
            assert box is not None and box["x"] + box["width"] < 0  # the honeypot is off screen: not for people
            page.screenshot(path=str(ARTIFACTS / f"appeal-{lang}.png"), full_page=True)
            page.fill("textarea[name=text]", "This is my own site; it holds nothing illegal.")
            page.fill("input[name=contact]", f"appellant-{lang}@mail.example")
            page.click("button[type=submit]")
            assert page.inner_text("p[role=status]") == SENT[lang]
            assert RECEIPT.fullmatch(page.inner_text(".receipt"))
            page.screenshot(path=str(ARTIFACTS / f"appeal-receipt-{lang}.png"), full_page=True)
            assert visitor.cookies() == [] and hosts == {f"www.{HOST}"}
            visitor.close()
        check_form_refusals(browser, app, f"http://{HOST}:{port}/appeal?name={HOST}", form="appeal",
                            fill={"[name=text]": "why"}, long_field="text", limit=appeals.MAX_TEXT, words={
                                "too_long": "“Why you disagree with the block” is too long: at most 4000 characters.",
                                "honeypot": "a field meant to stay empty was filled in",
                                "limited": "Too many appeals came from your address"})
    assert _stored(rt) == 4

