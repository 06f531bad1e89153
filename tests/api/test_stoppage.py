"""The stop page: served for listed names and the stop-page host, in four languages, storing nothing personal."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.models import StopPageHit
from api.runtime import Runtime
from api.stoppage import GUESS_BURST, GuessLimiter, choose_language, render, render_appeal, source_of
from blocklist import workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from blocklist.settings import Settings
from tests.blocklist.helpers import submission
from tests.support.ports import free_port


@pytest.fixture
def listed(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        a = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(), data=submission("csam-gallery.test"))
        b = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(),
                            data=submission("exact-only.test", scope="exact", legal_basis="ecommerce_law"))
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[a.id, b.id])


def hits(rt: Runtime) -> list[tuple[str, dt.date, int]]:
    with rt.database.transaction() as s:
        rows = s.execute(select(StopPageHit.domain, StopPageHit.day, StopPageHit.count)
                         .order_by(StopPageHit.domain)).all()
        return [(domain, day, count) for domain, day, count in rows]


@pytest.mark.parametrize(
    ("accept", "words", "basis"),
    [("fr-BE,fr;q=0.9", "matériel d'abus sexuels d'enfants", "Article 39bis du Code d'instruction criminelle"),
     ("nl-BE", "seksueel misbruik van kinderen", "Artikel 39bis van het Wetboek van strafvordering"),
     ("de", "sexuellen Kindesmissbrauchs", "Artikel 39bis des Strafprozessgesetzbuches"),
     ("en-GB", "child sexual abuse material", "Article 39bis of the Code of Criminal Procedure")],
)
def test_languages_and_basis(client: TestClient, listed: None, accept: str, words: str, basis: str) -> None:
    page = client.get("/any/path?x=1", headers={"Host": "sub.csam-gallery.test", "Accept-Language": accept})
    assert page.status_code == 451 and words in page.text and basis in page.text
    assert "+32 2 000 00 00" in page.text and 'href="/appeal?lang=' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    assert page.headers["content-language"] == accept[:2]
    assert page.headers["link"] == '<http://stop.blocklist.example/>; rel="blocked-by"'
    assert "set-cookie" not in page.headers and page.headers["cache-control"] == "no-store"
    # Every language is one link away, on the page itself.
    for code in ("fr", "nl", "de", "en"):
        assert f'href="?lang={code}"' in page.text


def test_switcher_scope_and_the_stop_page_host(client: TestClient, listed: None) -> None:
    page = client.get("/?lang=de", headers={"Host": "EXACT-ONLY.test.:8080", "Accept-Language": "fr"})
    assert page.status_code == 451 and "Website gesperrt" in page.text and "11. März 2003" in page.text
    assert client.get("/healthz", headers={"Host": "sub.exact-only.test"}).status_code == 200  # exact scope only
    assert client.get("/healthz", headers={"Host": "good.test"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "csam-gallery.test.example"}).status_code == 200  # not under it
    generic = client.get("/", headers={"Host": "stop.blocklist.example", "Accept-Language": "nl"})
    assert generic.status_code == 451 and "Site geblokkeerd" in generic.text
    assert "Wet van 11 maart 2003, artikel 39bis" in generic.text  # no listed name: every possible basis
    assert 'lang="nl"' in generic.text


def test_nothing_is_loaded_from_anywhere(client: TestClient, listed: None) -> None:
    page = client.get("/x", headers={"Host": "csam-gallery.test"}).text
    assert not re.search(r"(src|href)=\"?(https?:)?//", page), "the page must not refer to another host"
    assert "<script" not in page and "<img" not in page and "<link" not in page


def test_accept_language_weights() -> None:
    assert choose_language("", "en;q=0.1, nl;q=0.9") == "nl"
    assert choose_language("", "de-DE,de;q=0.9,en;q=0.8") == "de"
    assert choose_language("", "es,it") == "fr"  # none supported: French, the first national language
    assert choose_language("lang=en", "nl") == "en"
    assert choose_language("lang=xx", "nl;q=bad, de") == "de"
    assert choose_language("", "") == "fr"


def test_appeal_form_and_head(client: TestClient, listed: None) -> None:
    # The form itself: tests/api/test_appeal_pages.py.
    appeal = client.get("/appeal?lang=nl&name=csam-gallery.test", headers={"Host": "csam-gallery.test"})
    assert appeal.status_code == 200 and "Bezwaarformulier" in appeal.text and "+32 2 000 00 00" in appeal.text
    assert 'value="csam-gallery.test"' in appeal.text and "set-cookie" not in appeal.headers
    on_app_host = client.get("/appeal", headers={"Accept-Language": "de"})
    assert on_app_host.status_code == 200 and "Widerspruchsformular" in on_app_host.text
    head = client.head("/", headers={"Host": "csam-gallery.test"})
    assert head.status_code == 451 and head.content == b""


def test_only_a_count_per_name_and_day(client: TestClient, listed: None, rt: Runtime) -> None:
    for path in ("/", "/a", "/b?c=d", "/favicon.ico", "/robots.txt", "/appeal"):
        client.get(path, headers={"Host": "www.csam-gallery.test", "User-Agent": "Visitor/1.0",
                                  "X-Forwarded-For": "198.51.100.7", "Cookie": "tracker=1"})
    client.get("/", headers={"Host": "stop.blocklist.example"})  # the bare stop-page host is no listed name
    client.app.state.stop_page.flush()  # type: ignore[attr-defined]
    today = dt.datetime.now(dt.UTC).date()
    assert hits(rt) == [("csam-gallery.test", today, 3)]  # the page views, not the browser's own requests
    client.get("/", headers={"Host": "exact-only.test"})
    client.get("/", headers={"Host": "csam-gallery.test"})
    client.app.state.stop_page.flush()  # type: ignore[attr-defined]
    assert hits(rt) == [("csam-gallery.test", today, 4), ("exact-only.test", today, 1)]
    with rt.database.transaction() as s:  # the only table the stop page writes holds nothing else
        assert [c.name for c in StopPageHit.__table__.columns] == ["domain", "day", "count"]
        assert s.execute(select(StopPageHit)).scalars().all()


def test_a_lifted_name_is_no_longer_stopped(client: TestClient, listed: None, rt: Runtime,
                                            people: dict[str, User]) -> None:
    state = client.app.state.stop_page  # type: ignore[attr-defined]
    assert client.get("/", headers={"Host": "csam-gallery.test"}).status_code == 451
    with rt.database.transaction() as s:
        workflow.lift(s, actor=people["magistrate"], domain="csam-gallery.test", reason="content removed")
    state.refresh_seconds = 0  # instead of waiting a second for the cache to notice
    assert client.get("/healthz", headers={"Host": "csam-gallery.test"}).status_code == 200


def test_odd_hosts_go_to_the_app(client: TestClient, listed: None) -> None:
    for host in ("127.0.0.1:8000", "[::1]:8000", "localhost", "a" * 300 + ".test", "", "x" + ".a" * 2000):
        assert client.get("/healthz", headers={"Host": host}).status_code in (200, 400), host


def test_blocklist_serve_logs_nothing_about_visitors(settings: Settings, listed: None, rt: Runtime,
                                                     tmp_path: Path) -> None:
    """The real `blocklist serve` (uvicorn, access log off): a visit leaves no trace in its output; the count is
    stored at shutdown."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir),
           "BLOCKLIST_SCHEDULER": "false", "PYTHONUNBUFFERED": "1"}
    output = tmp_path / "serve.log"
    with output.open("wb") as sink:
        server = subprocess.Popen([str(Path(sys.executable).parent / "blocklist"), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.1)
            visit = httpx.get(f"http://127.0.0.1:{port}/private-visitor-path?q=secret-query", timeout=5, headers={
                "Host": "csam-gallery.test", "User-Agent": "Visitor-Agent/9.9", "X-Forwarded-For": "198.51.100.7",
                "Referer": "http://referrer.example/"})
            assert visit.status_code == 451 and "set-cookie" not in visit.headers
        finally:
            server.send_signal(signal.SIGINT)  # a graceful stop: the lifespan shutdown stores the counts
            server.wait(timeout=30)
    log = output.read_text(errors="replace")
    assert "Application startup complete" in log  # the output was captured: its silence below means something
    for trace in ("private-visitor-path", "secret-query", "Visitor-Agent", "198.51.100.7", "referrer.example"):
        assert trace not in log, f"{trace!r} appears in the server's output:\n{log}"
    assert [(d, c) for d, _, c in hits(rt)] == [("csam-gallery.test", 1)]


def test_guessing_unlisted_names_is_throttled_per_source(rt: Runtime, listed: None) -> None:
    """~900 guesses a second answered 451 or not: the list could be read out with no credential at all."""
    app = create_app(rt)
    guesser = TestClient(app, client=("203.0.113.9", 40000))
    answers = [guesser.get("/healthz", headers={"Host": f"guess{i}.test"}).status_code
               for i in range(GUESS_BURST + 10)]
    assert answers == [200] * GUESS_BURST + [429] * 10
    throttled = guesser.get("/", headers={"Host": "another-guess.test", "Accept-Language": "nl"})
    assert throttled.status_code == 429 and "Te veel verzoeken" in throttled.text
    assert int(throttled.headers["retry-after"]) >= 1 and throttled.headers["cache-control"] == "no-store"
    assert "link" not in throttled.headers and "set-cookie" not in throttled.headers
    # While throttled, a listed name answers exactly like an unlisted one: 429 against 451 would still tell.
    listed_name = guesser.get("/", headers={"Host": "csam-gallery.test", "Accept-Language": "nl"})
    assert (listed_name.status_code, listed_name.content) == (429, throttled.content)
    # The names last answered to this source are answered again (the server's own name, used all day).
    assert guesser.get("/healthz", headers={"Host": f"guess{GUESS_BURST - 1}.test"}).status_code == 200
    # Every other source still gets the stop page; listed names cost nothing, however many visitors share it.
    visitors = TestClient(app, client=("198.51.100.20", 40000))
    for i in range(3 * GUESS_BURST):
        assert visitors.get(f"/page{i}", headers={"Host": "www.csam-gallery.test"}).status_code == 451
    assert visitors.get("/healthz", headers={"Host": "good.test"}).status_code == 200
    # The staff's own host name: asked again and again from one office, it costs one token once.
    office = TestClient(app, client=("192.0.2.10", 40000))
    for _ in range(3 * GUESS_BURST):
        assert office.get("/healthz", headers={"Host": "blocklist.example"}).status_code == 200
    # An IPv6 subscriber holds a /64 at least: all of it is one source.
    prefix = [TestClient(app, client=(f"2001:db8:0:7::{i:x}", 40000)) for i in range(GUESS_BURST + 1)]
    assert [c.get("/healthz", headers={"Host": f"v6-{i}.test"}).status_code for i, c in enumerate(prefix)][-1] == 429
    neighbour = TestClient(app, client=("2001:db8:0:8::1", 40000))
    assert neighbour.get("/healthz", headers={"Host": "v6.test"}).status_code == 200


def test_the_guess_budget_refills_and_its_memory_is_bounded() -> None:
    now = [0.0]
    limiter = GuessLimiter(burst=3, per_second=0.5, max_sources=100, remembered=2, clock=lambda: now[0])
    assert [limiter.allow("s", f"g{i}.test", listed=False) for i in range(4)] == [True, True, True, False]
    assert not limiter.allow("s", "listed.test", listed=True)  # throttled: no difference between the two
    assert limiter.allow("s", "g2.test", listed=False) and not limiter.allow("s", "g0.test", listed=False)
    assert limiter.retry_after("s") == 2
    now[0] = 2.0  # one token back
    assert limiter.allow("s", "listed.test", listed=True)  # free: the token is still there...
    assert limiter.allow("s", "g9.test", listed=False)  # ...for one more unlisted name
    assert not limiter.allow("s", "g10.test", listed=False)
    for i in range(10_000):  # a guesser with a whole /48 of /64s, or a botnet: memory stays the same
        limiter.allow(f"{i}/64", f"n{i}.test", listed=False)
        limiter.allow(f"{i}/64", f"m{i}.test", listed=False)
        limiter.allow(f"{i}/64", f"o{i}.test", listed=False)
    assert len(limiter) == 100
    assert all(len(budget.names) <= 2 for budget in limiter._sources.values())
    assert "s" not in limiter._sources  # forgotten first: the least recently seen


def test_sources() -> None:
    def scope(host: str) -> dict[str, object]:
        return {"client": (host, 1)}

    assert source_of(scope("203.0.113.9")) == "203.0.113.9"  # type: ignore[arg-type]
    assert source_of(scope("::ffff:203.0.113.9")) == "203.0.113.9"  # type: ignore[arg-type]
    assert source_of(scope("2001:db8:0:7::1")) == source_of(scope("2001:db8:0:7:ffff::9"))  # type: ignore[arg-type]
    assert source_of(scope("2001:db8:0:7::1")) != source_of(scope("2001:db8:0:8::1"))  # type: ignore[arg-type]
    assert source_of({"client": None}) == ""  # type: ignore[arg-type]


Part = tuple[str, dict[str, str | None], str]  # an element: tag, attributes, its text


class _Elements(HTMLParser):
    """Every element of a page as (tag, attributes, its whole text with spaces collapsed), in document order."""

    VOID = frozenset({"meta", "br", "img", "link", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None], list[str]]] = []
        self._open: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs), []))
        if tag not in self.VOID:
            self._open.append(len(self.found) - 1)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self.found[self._open[-1]][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for index in self._open:
            self.found[index][2].append(data)

    @classmethod
    def of(cls, page: str) -> list[Part]:
        parser = cls()
        parser.feed(page)
        return [(tag, attrs, " ".join("".join(text).split())) for tag, attrs, text in parser.found]


PHONE = "+32 2 000 00 00"
TEL = {"class": "phone", "href": "tel:+3220000000"}  # the phone is a tel: link
# What a visitor reads, pinned per language: a change of markup must leave all of it as it is.
WORDING: dict[str, dict[str, Any]] = {
    "fr": {"title": "Site bloqué", "lead": "Votre navigateur vous a conduit vers un site dont l'accès est bloqué en "
           "Belgique en raison de son contenu : du matériel d'abus sexuels d'enfants.",
           "basis": "Base légale: Article 39bis du Code d'instruction criminelle",
           "generic": "Base légale: Loi du 11 mars 2003, article 39bis du Code d'instruction criminelle, ou décision "
           "judiciaire",
           "appeal": f"Si vous souhaitez exprimer votre désaccord, vous pouvez appeler le {PHONE} ou utiliser le "
           "formulaire de recours.", "form": "Formulaire de recours",
           "authority": "Parquet fédéral — Federal Computer Crime Unit", "limited": ("Trop de requêtes",
           "Trop de requêtes sont venues de votre adresse. Réessayez dans quelques minutes.")},
    "nl": {"title": "Site geblokkeerd", "lead": "Uw browser heeft u naar een site geleid waarvan de toegang in België "
           "geblokkeerd is wegens de inhoud ervan: materiaal van seksueel misbruik van kinderen.",
           "basis": "Rechtsgrond: Artikel 39bis van het Wetboek van strafvordering",
           "generic": "Rechtsgrond: Wet van 11 maart 2003, artikel 39bis van het Wetboek van strafvordering, of "
           "rechterlijke beslissing",
           "appeal": f"Wenst u uw bezwaar te laten registreren, bel dan {PHONE} of gebruik het bezwaarformulier.",
           "form": "Bezwaarformulier",
           "authority": "Federaal Parket — Federal Computer Crime Unit", "limited": ("Te veel verzoeken",
           "Er kwamen te veel verzoeken van uw adres. Probeer het over enkele minuten opnieuw.")},
    "de": {"title": "Website gesperrt", "lead": "Ihr Browser hat Sie zu einer Website geführt, deren Zugang in "
           "Belgien wegen ihres Inhalts gesperrt ist: Darstellungen sexuellen Kindesmissbrauchs.",
           "basis": "Rechtsgrundlage: Artikel 39bis des Strafprozessgesetzbuches",
           "generic": "Rechtsgrundlage: Gesetz vom 11. März 2003, Artikel 39bis des Strafprozessgesetzbuches oder "
           "gerichtliche Entscheidung",
           "appeal": f"Wenn Sie Ihren Widerspruch einlegen möchten, rufen Sie {PHONE} an oder nutzen Sie das "
           "Widerspruchsformular.", "form": "Widerspruchsformular",
           "authority": "Föderale Staatsanwaltschaft — Federal Computer Crime Unit", "limited": ("Zu viele Anfragen",
           "Von Ihrer Adresse kamen zu viele Anfragen. Versuchen Sie es in einigen Minuten erneut.")},
    "en": {"title": "Site blocked", "lead": "Your browser has taken you to a site that is blocked in Belgium because "
           "of its content: child sexual abuse material.",
           "basis": "Legal basis: Article 39bis of the Code of Criminal Procedure",
           "generic": "Legal basis: Law of 11 March 2003, Article 39bis of the Code of Criminal Procedure, or a court "
           "decision",
           "appeal": f"If you wish to register your disapproval, you may call {PHONE} or use the appeal form.",
           "form": "Appeal form",
           "authority": "Federal Prosecutor's Office — Federal Computer Crime Unit", "limited": ("Too many requests",
           "Too many requests came from your address. Try again in a few minutes.")},
}
STOP_HEADERS = {"content-type": "text/html; charset=utf-8", "cache-control": "no-store",
                "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; "
                                           "frame-ancestors 'none'; base-uri 'none'",
                "referrer-policy": "no-referrer", "x-content-type-options": "nosniff",
                "link": '<http://stop.blocklist.example/>; rel="blocked-by"'}


def _common_parts(lang: str, title: str) -> list[Part]:
    """What every page of the stop-page host shows, whatever it says: language, title, switcher, authority."""
    switcher: list[Part] = [("a", {"href": f"?lang={code}", "lang": code, "hreflang": code,
                       **({"aria-current": "true"} if code == lang else {})}, name)
                for code, name in (("fr", "Français"), ("nl", "Nederlands"), ("de", "Deutsch"), ("en", "English"))]
    return [("title", {}, title), ("h1", {}, title), *switcher, ("footer", {}, WORDING[lang]["authority"]),
            ("meta", {"name": "robots", "content": "noindex"}, ""),
            ("meta", {"name": "referrer", "content": "no-referrer"}, "")]


def _assert_page(page: httpx.Response, lang: str, status: int, parts: list[Part],
                 *, link: bool = True) -> list[Part]:
    assert page.status_code == status
    assert page.content.startswith(f'<!doctype html><html lang="{lang}">'.encode())
    expected = {**STOP_HEADERS, "content-language": lang, "content-length": str(len(page.content))}
    if not link:
        del expected["link"]
    assert {k: v for k, v in page.headers.items() if k != "retry-after"} == expected  # those, and nothing else
    elements = _Elements.of(page.text)
    for part in parts:
        assert part in elements, f"{part} not on the page:\n{page.text}"
    # Nothing from elsewhere: one inline style, no script, image, frame or external resource.
    assert [tag for tag, _, _ in elements if tag in ("script", "img", "link", "iframe", "form", "object")] == []
    assert [tag for tag, _, _ in elements].count("style") == 1
    assert ("p", {"class": "name"}, "csam-gallery.test") in elements or "csam-gallery" not in page.text
    return elements


@pytest.mark.parametrize("lang", ["fr", "nl", "de", "en"])
def test_stop_page_wording_per_language(client: TestClient, listed: None, lang: str) -> None:
    """Every sentence, the legal basis, the phone, the appeal link and the switcher, in each language."""
    words = WORDING[lang]
    page = client.get(f"/some/path?lang={lang}", headers={"Host": "www.csam-gallery.test", "Accept-Language": "en"})
    _assert_page(page, lang, 451, [
        *_common_parts(lang, words["title"]), ("p", {"class": "name"}, "csam-gallery.test"), ("p", {}, words["lead"]),
        ("p", {}, words["basis"]), ("p", {}, words["appeal"]), ("a", TEL, PHONE),
        ("a", {"href": f"/appeal?lang={lang}&name=csam-gallery.test"}, words["form"])])  # the name, for the form
    generic = client.get("/", headers={"Host": "stop.blocklist.example", "Accept-Language": lang})
    elements = _assert_page(generic, lang, 451, [*_common_parts(lang, words["title"]), ("p", {}, words["generic"]),
                                                 ("p", {}, words["appeal"]), ("a", TEL, PHONE),
                                                 ("a", {"href": f"/appeal?lang={lang}"}, words["form"])])
    assert not [attrs for tag, attrs, _ in elements if attrs.get("class") == "name"]  # no listed name to show


@pytest.mark.parametrize("lang", ["fr", "nl", "de", "en"])
def test_throttled_page_wording_per_language(rt: Runtime, listed: None, lang: str) -> None:
    rt_app = create_app(rt)
    rt_app.state.stop_page.limiter = GuessLimiter(burst=0)
    guesser = TestClient(rt_app, client=("203.0.113.9", 40000))
    title, text = WORDING[lang]["limited"]
    page = guesser.get("/", headers={"Host": "guess.test", "Accept-Language": lang})
    _assert_page(page, lang, 429, [*_common_parts(lang, title), ("p", {}, text)], link=False)


def test_page_text_is_escaped_and_the_same_for_every_visitor(client: TestClient, listed: None) -> None:
    page = render("en", "a<b>&c.test", None, "<0800> & \"co\"").decode()
    assert "<b>" not in page and "<0800>" not in page and "a&lt;b&gt;&amp;c.test" in page
    assert ('<a class="phone" href="tel:0800">&lt;0800&gt; &amp; ' in page) and '"co"</a>' not in page
    assert render_appeal("en", "<0800>").count(b"&lt;0800&gt;") == 1
    visits = [client.get(path, headers={"Host": host, "User-Agent": agent, "Cookie": "a=b"}).content
              for path, host, agent in (("/", "csam-gallery.test", "A/1"), ("/x?y=z", "www.csam-gallery.test", "B/2"),
                                        ("/other", "deep.www.csam-gallery.test", "C/3"))]
    assert visits[0] == visits[1] == visits[2]  # nothing of the request but its language and listed name
