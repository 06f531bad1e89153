"""The stop page: served for listed names and the stop-page host, in four languages, storing nothing personal."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import StopPageHit
from api.runtime import Runtime
from api.stoppage import choose_language
from blocklist import workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from blocklist.settings import Settings
from tests.blocklist.helpers import submission
from tests.support.resolvers import free_port


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


def test_appeal_placeholder_and_head(client: TestClient, listed: None) -> None:
    appeal = client.get("/appeal?lang=nl", headers={"Host": "csam-gallery.test"})
    assert appeal.status_code == 200 and "Bezwaarformulier" in appeal.text and "+32 2 000 00 00" in appeal.text
    assert "binnenkort" in appeal.text and "set-cookie" not in appeal.headers
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
