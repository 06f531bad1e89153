"""Publication holds: a second magistrate confirms (never one who made an order the hold holds), the hold lists its
names, and held names are "approved, held", never "blocked", until a version carries them."""

from __future__ import annotations

import datetime as dt

import pytest

from blocklist import users, workflow
from blocklist.db import Database
from blocklist.errors import Forbidden
from blocklist.jobs import PolicyCache
from blocklist.models import User
from blocklist.settings import Settings
from isp_feed import holds, publish
from isp_feed.keys import KeyStore
from tests.support.factories import approved, make_user


@pytest.fixture
def strict(settings: Settings) -> Settings:
    # Any change of more than 2 names, or of more than 10 % of the list, is held.
    return settings.model_copy(update={"feed_gate_min_changes": 2, "feed_gate_share": 0.10})


def _build(database: Database, settings: Settings, **kw: object) -> int | None:
    row = publish.build(database, settings=settings, keys=KeyStore(settings.data_dir / "keys"),
                        policy=PolicyCache(settings), **kw)  # type: ignore[arg-type]
    return row.serial if row else None


def held_change(database: Database, strict: Settings, people: dict[str, User]) -> int:
    """A published list of a1, a2, a3 (lifted later: a3); then b1..b3 approved by `magistrate` and a3 lifted by
    `magistrate2`: held. Returns the hold's id."""
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "a1.test", "a2.test")
    assert _build(database, strict) == 1
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate2"], "a3.test")
    assert _build(database, strict) == 2
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "b1.test", "b2.test")
        approved(s, people["officer"], people["magistrate"], "b3.test")
        workflow.lift(s, actor=people["magistrate2"], domain="a3.test", reason="content removed")
    assert _build(database, strict) is None
    with database.reading() as s:
        (hold,) = publish.pending_holds(s)
        return hold.id


def test_the_hold_needs_a_magistrate_who_made_none_of_its_orders(database: Database, strict: Settings,
                                                                 people: dict[str, User]) -> None:
    hold_id = held_change(database, strict, people)
    with database.transaction() as s:
        third = make_user(s, "magistrate", "magistrate3")
        hold = holds.get_hold(s, hold_id)
        assert sorted((o.kind, o.magistrate_id) for o in holds.held_orders(s, hold)) == [
            ("block", people["magistrate"].id), ("block", people["magistrate"].id),
            ("lift", people["magistrate2"].id)]
        for who in ("magistrate", "magistrate2"):  # each made an order it holds
            with pytest.raises(Forbidden, match="four eyes"):
                publish.confirm_hold(s, actor=users.get_user(s, who), hold_id=hold_id)
        assert holds.why_not_confirm(s, users.get_user(s, "officer"), hold) is not None
        assert holds.why_not_confirm(s, third, hold) is None
        publish.confirm_hold(s, actor=third, hold_id=hold_id)
        assert "already confirmed" in (holds.why_not_confirm(s, third, hold) or "")
    assert _build(database, strict) == 3


def test_a_hold_lists_its_names_with_the_orders_behind_them(database: Database, strict: Settings,
                                                           people: dict[str, User]) -> None:
    hold_id = held_change(database, strict, people)
    with database.reading() as s:
        found = holds.hold_names(s, holds.get_hold(s, hold_id), per_page=2)
        assert (found.total, found.added, found.removed) == (4, 3, 1)
        assert [(n.domain, n.change, n.magistrate) for n in found.names] == [
            ("a3.test", "remove", "magistrate2"), ("b1.test", "add", "magistrate")]
        rest = holds.hold_names(s, holds.get_hold(s, hold_id), page=2, per_page=2)
        assert [n.domain for n in rest.names] == ["b2.test", "b3.test"]


def test_held_names_are_approved_held_never_blocked_until_published(database: Database, strict: Settings,
                                                                    people: dict[str, User]) -> None:
    hold_id = held_change(database, strict, people)
    with database.reading() as s:
        counts = holds.state_counts(s)
        assert (counts.held, counts.blocked, counts.lifting) == (3, 2, 1)
        assert counts.published_count == 3 and counts.published_serial == 2
        assert [n.domain for n in holds.names_in_state(s, "held")] == ["b1.test", "b2.test", "b3.test"]
        assert [n.domain for n in holds.names_in_state(s, "blocked")] == ["a1.test", "a2.test"]
        assert [n.domain for n in holds.names_in_state(s, "lifting")] == ["a3.test"]
    # While held, the published list is re-issued so that ISPs' copies do not expire: its names stay held.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert _build(database, strict, now=later) == 3
    with database.reading() as s:
        assert holds.state_counts(s).held == 3
        assert holds.hold_names(s, holds.get_hold(s, hold_id)).total == 4
    with database.transaction() as s:
        publish.confirm_hold(s, actor=make_user(s, "magistrate", "magistrate3"), hold_id=hold_id)
    assert _build(database, strict) == 4
    with database.reading() as s:
        counts = holds.state_counts(s)
        assert (counts.held, counts.blocked, counts.lifting, counts.published_count) == (0, 5, 0, 5)
        # Published, the hold still tells what it held.
        assert holds.hold_names(s, holds.get_hold(s, hold_id)).total == 4
