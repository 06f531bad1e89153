"""How many statements a submission and an approval send to the database, counted, never timed: each is a round
trip, and in an approval storm they were most of the server's work (#15). A count that grows is a change to look at,
not noise. The finding reproduced: an approval read its submission again after its UPDATE, then once more in the
route (tests/requisitions/test_drafting_statements.py: the requisitions job's share)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.runtime import Runtime
from tests.api.conftest import bearer
from tests.support.crash import case
from tests.support.statements import counted

# At most, per request, warm (PostgreSQL's pre-ping of a pooled connection is not a statement and is not counted).
MOST = {"sqlite": {"submit": 12, "approve": 11}, "postgresql": {"submit": 10, "approve": 9}}


def test_a_submission_and_its_approval_send_a_bounded_number_of_statements(
        rt: Runtime, client: TestClient, tokens: dict[str, str]) -> None:
    most = MOST[rt.database.dialect]
    for n in range(3):  # the first request of each kind fills the process's caches
        with counted(rt.database.engine) as submit:
            made = client.post("/api/v1/submissions", json=case(f"n{n}.count.test"), headers=bearer(tokens["officer"]))
        assert made.status_code == 201, made.text
        with counted(rt.database.engine) as approve:
            decided = client.post(f"/api/v1/submissions/{made.json()['id']}/approve", json={"reason": "counted"},
                                  headers=bearer(tokens["magistrate"]))
        assert decided.status_code == 200 and decided.json()["status"] == "approved", decided.text
    assert len(submit) <= most["submit"], "\n".join(submit)
    assert len(approve) <= most["approve"], "\n".join(approve)
