"""The shared test factories (tests/support/factories.py) make what they say, through the real workflow."""

from __future__ import annotations

import pytest

from blocklist import audit, workflow
from blocklist.db import Database
from blocklist.errors import Forbidden
from tests.support.factories import approved, lifted, make_isp, make_user, submitted

ROLES = ("officer", "magistrate", "auditor", "admin")


def test_users_of_each_role_can_act_at_once(database: Database) -> None:
    with database.transaction() as s:
        made = {role: make_user(s, role) for role in ROLES}
        assert {role: user.username for role, user in made.items()} == {role: role for role in ROLES}
        assert make_user(s, "officer").username == "officer-2" and make_user(s, "officer").username == "officer-3"
        assert make_user(s, "auditor", "named", language="nl").username == "named"
        assert all(user.confirmed_by == "test" and user.active for user in made.values())
        sub = submitted(s, made["officer"], "csam-gallery.test")  # a role check passes: confirmed
        with pytest.raises(Forbidden):
            workflow.approve(s, actor=made["officer"], submission_ids=[sub.id])


def test_isps(database: Database) -> None:
    with database.transaction() as s:
        first, second = make_isp(s), make_isp(s, language="nl")
        named = make_isp(s, name="Opérateur Wallon", resolvers=["127.0.0.1:5353"])
        assert (first.name, first.email, first.language, first.active) == ("ISP", "noc@isp.example", "fr", True)
        assert (second.name, second.email, second.language) == ("ISP-2", "noc@isp-2.example", "nl")
        assert named.email == "noc@op-rateur-wallon.example" and [r.port for r in named.resolvers] == [5353]


def test_submitted_approved_lifted(database: Database) -> None:
    with database.transaction() as s:
        officer, magistrate = make_user(s, "officer"), make_user(s, "magistrate")
        pending = submitted(s, officer, "Pending.test", scope="exact", legal_basis="ecommerce_law")
        order = approved(s, officer, magistrate, "one.test", "two.test", reason="verified")
        lift = lifted(s, officer, magistrate, "gone.test", reason="taken down")
        assert (pending.status, pending.domain, pending.scope, pending.legal_basis) == (
            "submitted", "pending.test", "exact", "ecommerce_law")
        assert (order.kind, order.reason, order.magistrate_id) == ("block", "verified", magistrate.id)
        assert sorted(sub.domain for sub in workflow.approved_names(s)) == ["one.test", "two.test"]
        assert lift.kind == "lift" and "submission.lifted" in [e.action for e in workflow.history(s, "gone.test")]
        assert audit.verify(s).intact
