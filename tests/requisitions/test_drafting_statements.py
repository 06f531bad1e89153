"""Drafting requisitions sends as many statements for a pass of many orders as for one (#15): the job drafted each
order with three statements of its own, hundreds per pass in an approval storm."""

from __future__ import annotations

from sqlalchemy import select

from api.runtime import Runtime
from blocklist.models import Order, User
from requisitions import service
from tests.support.factories import approved, make_isp
from tests.support.statements import counted


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
