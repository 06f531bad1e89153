"""How many statements a write sends to the database, counted, never timed: each is a round trip, and in an approval
storm they were most of the server's work (#15). A count that grows is a change to look at, not noise.

The findings reproduced: the requisitions job drafted each order with three statements of its own (hundreds per pass
in a storm), and an approval read its submission again after its UPDATE, then once more in the route.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from api.runtime import Runtime
from blocklist.models import Order, User
from requisitions import service
from tests.api.conftest import bearer
from tests.support.crash import case
from tests.support.factories import approved, make_isp

# At most, per request, warm (PostgreSQL's pre-ping of a pooled connection is not a statement and is not counted).
MOST = {"sqlite": {"submit": 12, "approve": 11}, "postgresql": {"submit": 10, "approve": 9}}


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The statements sent through `engine` meanwhile."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


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


def test_drafting_the_requisitions_of_many_orders_sends_as_many_statements_as_for_one(
        rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as session:
        for n in range(2):
            make_isp(session, name=f"Count ISP {n}", email=f"noc@count-{n}.example")
        for n in range(20):
            approved(session, people["officer"], people["magistrate"], f"n{n}.drafts.test", f"m{n}.drafts.test")
    with rt.database.transaction() as session:
        orders = list(session.execute(select(Order).order_by(Order.id)).scalars())
        with counted(rt.database.engine) as one:
            drafts_one = service.draft_orders(session, orders=orders[:1], settings=rt.settings)
        with counted(rt.database.engine) as twenty:
            drafts = service.draft_orders(session, orders=orders, settings=rt.settings)
    assert len(twenty) == len(one), "\n".join(twenty)
    assert [(d.isp_id, d.doc.names) for d in drafts[orders[0].id]] == [
        (d.isp_id, d.doc.names) for d in drafts_one[orders[0].id]]
    assert {len(d) for d in drafts.values()} == {2}  # one per ISP
    assert all([n.a_label for n in d[0].doc.names] == [f"m{i}.drafts.test", f"n{i}.drafts.test"]
               for i, d in enumerate(drafts.values()))
