"""The auditors' search: a URL, a host, a subdomain covered by a block, a part of a case number in any case."""

from __future__ import annotations

import pytest

from blocklist import timeline
from blocklist.db import Database
from blocklist.errors import NotFound
from blocklist.models import User
from tests.support.factories import approved, submitted


@pytest.fixture
def listed(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test", case_number="FCCU-2026-0001")
        approved(s, people["officer"], people["magistrate"], "only-this.test", scope="exact",
                 case_number="FCCU-2026-0001")
        submitted(s, people["officer"], "mirror.example", case_number="fccu-2026-0002")
        submitted(s, people["officer"], "percent.test", case_number="100%-CASE")


def _found(database: Database, q: str) -> tuple[str | None, list[tuple[str, str]], list[tuple[str, int]]]:
    with database.reading() as s:
        result = timeline.search(s, q)
        return (result.host, [(m.submission.domain, m.how) for m in result.names],
                [(c.case_number, c.names) for c in result.cases])


@pytest.mark.usefixtures("listed")
def test_a_url_of_a_covered_subdomain_finds_the_block(database: Database) -> None:
    assert _found(database, "https://www.csam-gallery.test/x?y=1") == (
        "www.csam-gallery.test", [("csam-gallery.test", "covered")], [])
    assert _found(database, "WWW.CSAM-GALLERY.TEST:443")[1] == [("csam-gallery.test", "covered")]
    assert _found(database, "csam-gallery.test.")[1] == [("csam-gallery.test", "name")]
    # A block of the exact name only covers no subdomain.
    assert _found(database, "www.only-this.test")[1] == []
    assert _found(database, "only-this.test")[1] == [("only-this.test", "name")]


@pytest.mark.usefixtures("listed")
def test_case_numbers_are_found_by_any_part_in_any_case(database: Database) -> None:
    assert _found(database, "fccu-2026")[2] == [("FCCU-2026-0001", 2), ("fccu-2026-0002", 1)]
    assert _found(database, "0002")[2] == [("fccu-2026-0002", 1)]
    assert _found(database, "%")[2] == [("100%-CASE", 1)]  # a LIKE wildcard is a plain character
    assert _found(database, "_")[2] == []
    with database.reading() as s:
        assert [x.domain for x in timeline.case_submissions(s, "fccu-2026-0001")] == ["csam-gallery.test",
                                                                                     "only-this.test"]
        with pytest.raises(NotFound):
            timeline.case_submissions(s, "FCCU-2026")  # an export names one whole case


@pytest.mark.usefixtures("listed")
def test_the_events_of_a_covered_name(database: Database) -> None:
    with database.reading() as s:
        names = timeline.covering_names(s, "https://a.b.csam-gallery.test/")
        assert names == ["a.b.csam-gallery.test", "csam-gallery.test"]
        subs = timeline.case_submissions(s, "FCCU-2026-0001")
        events = timeline.events(s, domains=names, order_ids=timeline.orders_of(subs))
        actions = [e.action for e in events]
        assert actions[:2] == ["submission.created", "submission.approved"] and "order.created" in actions
        assert all(e.domain in (None, "csam-gallery.test") for e in events)
        assert [e.id for e in events] == sorted(e.id for e in events)
        for record in map(timeline.event_record, events):
            assert timeline.record_problem(record, None) is None
        tampered = timeline.event_record(events[0]) | {"actor": "user:someone-else"}
        assert "changed" in (timeline.record_problem(tampered, None) or "")


def test_text_that_is_no_host_searches_cases_only(database: Database, people: dict[str, User]) -> None:
    with database.transaction() as s:
        submitted(s, people["officer"], "x.test", case_number="Dossier 12/2026")
    assert _found(database, "dossier 12/") == (None, [], [("Dossier 12/2026", 1)])
    assert _found(database, "192.0.2.1") == (None, [], [])
