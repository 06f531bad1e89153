"""The feed on the magistrates' page: a held change lists the names it adds and removes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist.models import User
from isp_feed.jobs import publish_feed
from tests.support.factories import approved
from tests.support.web import give_passwords, login


def test_a_held_change_shows_its_names(rt: Runtime, people: dict[str, User]) -> None:
    rt.settings.feed_gate_min_changes = 2
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "a1.test", "a2.test")
    assert publish_feed(rt.job_context) == 1
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "b1.test", "b2.test", "b3.test")
    assert publish_feed(rt.job_context) is None  # held: +3 of 2
    give_passwords(rt, "magistrate2")
    client = TestClient(create_app(rt))
    login(client, "magistrate2")
    page = client.get("/magistrate").text
    assert "+3 −0" in page and all(f"+ b{i}.test" in page for i in (1, 2, 3))
