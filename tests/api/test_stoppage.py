"""The stop page: served for listed names and the stop-page host, in four languages, storing nothing personal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import StopPageHit
from api.runtime import Runtime
from blocklist import workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from tests.blocklist.helpers import submission


@pytest.fixture
def listed(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        a = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(), data=submission("csam-gallery.test"))
        b = workflow.submit(s, actor=people["officer"], policy=NamePolicy.build(),
                            data=submission("exact-only.test", scope="exact", legal_basis="ecommerce_law"))
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[a.id, b.id])


@pytest.mark.parametrize(
    ("accept", "words"),
    [("fr-BE,fr;q=0.9", "matériel d'abus sexuels d'enfants"), ("nl-BE", "seksueel misbruik van kinderen"),
     ("de", "sexuellen Kindesmissbrauchs"), ("en-GB", "child sexual abuse material")],
)
def test_languages_and_basis(client: TestClient, listed: None, accept: str, words: str) -> None:
    page = client.get("/any/path?x=1", headers={"Host": "sub.csam-gallery.test", "Accept-Language": accept})
    assert page.status_code == 451 and words in page.text
    assert "39bis" in page.text and "+32 2 000 00 00" in page.text and "/appeal" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "set-cookie" not in page.headers


def test_switcher_and_exact_scope(client: TestClient, listed: None) -> None:
    page = client.get("/?lang=de", headers={"Host": "exact-only.test:8080", "Accept-Language": "fr"})
    assert page.status_code == 451 and "Website gesperrt" in page.text and "11. März 2003" in page.text
    assert client.get("/healthz", headers={"Host": "sub.exact-only.test"}).status_code == 200  # not listed
    assert client.get("/healthz", headers={"Host": "good.test"}).status_code == 200
    generic = client.get("/", headers={"Host": "stop.blocklist.example", "Accept-Language": "nl"})
    assert generic.status_code == 451 and "Site geblokkeerd" in generic.text
    assert "lang=\"nl\"" in generic.text and "http" not in generic.text.split("<body>")[1].replace('href="?', "")


def test_only_a_count_per_name_and_day(client: TestClient, listed: None, rt: Runtime) -> None:
    for _ in range(3):
        client.get("/", headers={"Host": "csam-gallery.test", "User-Agent": "Visitor/1.0",
                                 "X-Forwarded-For": "198.51.100.7"})
    with rt.database.transaction() as s:
        rows = s.execute(select(StopPageHit.domain, StopPageHit.count)).all()
    assert rows == [("csam-gallery.test", 3)]
    stored = b"".join(str(v).encode() for v in rows)
    assert b"198.51.100.7" not in stored and b"Visitor" not in stored
