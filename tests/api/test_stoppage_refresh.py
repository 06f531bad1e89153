"""The stop page's names follow the audit chain (api/stoppage.py StopPageState.refresh): what moved is read from the
new events, not the whole list; the whole list is read at first, after a big jump, and now and then."""

from __future__ import annotations

import pytest

from api import stoppage
from api.runtime import Runtime
from api.stoppage import StopPageState
from blocklist import workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from tests.blocklist.helpers import submission

POLICY = NamePolicy.build()


def _block(rt: Runtime, people: dict[str, User], *names: str, scope: str = "domain_and_subdomains") -> None:
    with rt.database.transaction() as s:
        ids = [workflow.submit(s, actor=people["officer"], policy=POLICY, data=submission(n, scope=scope)).id
               for n in names]
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=ids)


def _lift(rt: Runtime, people: dict[str, User], name: str) -> None:
    with rt.database.transaction() as s:
        workflow.lift(s, actor=people["magistrate"], domain=name, reason="content removed")


def _incremental_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the refreshes that read the changes only (the rest read the whole list)."""
    reads: list[int] = []
    original = StopPageState._apply

    def counted(self: StopPageState, *args: object) -> None:
        reads.append(1)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(StopPageState, "_apply", counted)
    return reads


def test_approvals_and_lifts_reach_the_names_through_the_events(rt: Runtime, people: dict[str, User],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = StopPageState(rt)
    incremental = _incremental_reads(monkeypatch)
    _block(rt, people, "first.test")
    state.refresh()  # the first load: the whole list
    assert state._names == {"first.test": ("domain_and_subdomains", "art39bis")} and not incremental
    _block(rt, people, "second.test", "third.test")
    _block(rt, people, "exact.test", scope="exact")
    _lift(rt, people, "first.test")
    state.refresh()
    assert incremental == [1]
    assert state._names == {"second.test": ("domain_and_subdomains", "art39bis"),
                            "third.test": ("domain_and_subdomains", "art39bis"), "exact.test": ("exact", "art39bis")}
    state.refresh()  # nothing moved: nothing read
    assert incremental == [1]
    whole = StopPageState(rt)
    whole.refresh()
    assert whole._names == state._names  # the same as reading everything


def test_a_big_jump_reads_the_whole_list(rt: Runtime, people: dict[str, User],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    state = StopPageState(rt)
    incremental = _incremental_reads(monkeypatch)
    state.refresh()
    monkeypatch.setattr(stoppage, "INCREMENTAL_EVENTS", 1)  # more events than this: the whole list again
    _block(rt, people, "many-a.test", "many-b.test")
    state.refresh()
    assert not incremental and set(state._names) == {"many-a.test", "many-b.test"}


def test_a_change_without_its_event_is_found_by_the_periodic_whole_reload(
        rt: Runtime, people: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import update

    from blocklist.models import Submission

    _block(rt, people, "quiet.test")
    state = StopPageState(rt)
    state.refresh()
    with rt.database.transaction() as s:  # an insider's edit: no event, so the chain does not move
        s.execute(update(Submission).where(Submission.domain == "quiet.test").values(status="lifted"))
    _block(rt, people, "noisy.test")
    state.refresh()  # incremental: only noisy.test is read again
    assert "quiet.test" in state._names
    monkeypatch.setattr(stoppage, "FULL_RELOAD_SECONDS", 0.0)
    _block(rt, people, "later.test")
    state.refresh()
    assert set(state._names) == {"noisy.test", "later.test"}
