"""When rounds run: a new feed version's added names after the grace period, and every name daily."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from api.runtime import Runtime
from blocklist import isps
from blocklist.jobs import JobContext
from blocklist.models import User
from isp_feed import verification
from isp_feed.jobs import publish_feed, verify_when_due
from isp_feed.models import VerificationResult, VerificationRound
from tests.support.factories import approved
from tests.support.resolvers import start_internet


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_new_names_after_the_grace_period_and_everything_daily(
        rt: Runtime, people: dict[str, User], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verification, "ROUND_CHUNK", 1)  # the daily round below is asked and stored in 2 chunks
    with start_internet(tmp_path) as internet:
        with rt.database.transaction() as s:
            isps.add_isp(s, actor="test", name="Plain", email="noc@plain.example", language="fr",
                         resolvers=[f"127.0.0.1:{internet.port}"])
        settings = rt.settings.model_copy(update={"verify_control_resolver": f"127.0.0.1:{internet.port}",
                                                  "verify_timeout": 0.5, "verify_grace_seconds": 0})
        ctx = JobContext.standalone(rt.database, settings)
        with rt.database.transaction() as s:
            approved(s, s.merge(people["officer"]), s.merge(people["magistrate"]), "csam-gallery.test")
        publish_feed(rt.job_context)
        first = verify_when_due(ctx)  # never verified: a full round
        assert first is not None and verify_when_due(ctx) is None  # nothing new, not due

        with rt.database.transaction() as s:
            approved(s, s.merge(people["officer"]), s.merge(people["magistrate"]), "second.test")
        publish_feed(rt.job_context)
        waiting = JobContext.standalone(rt.database, settings.model_copy(update={"verify_grace_seconds": 3600}))
        assert verify_when_due(waiting) is None  # ISPs have not had the time to load it
        second = verify_when_due(ctx)
        assert second is not None and verify_when_due(ctx) is None

        with rt.database.transaction() as s:  # a day later
            s.execute(text("UPDATE verification_rounds SET started_at = :old"),
                      {"old": "2000-01-01 00:00:00.000000"})
        third = verify_when_due(ctx)
    with rt.database.transaction() as s:
        rounds = {r.id: r for r in s.execute(select(VerificationRound)).scalars()}
        checked = {round_id: sorted(s.execute(select(VerificationResult.domain).where(
            VerificationResult.round_id == round_id)).scalars()) for round_id in rounds}
    assert (rounds[first].trigger, checked[first]) == ("daily", ["csam-gallery.test"])
    assert (rounds[second].trigger, checked[second]) == ("new version", ["second.test"])  # only the new name
    assert third is not None and (rounds[third].trigger, checked[third]) == ("daily", ["csam-gallery.test",
                                                                                      "second.test"])
