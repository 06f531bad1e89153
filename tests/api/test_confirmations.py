"""Acts with national effect ask first (issue 14): approve, batch approve (a page, a whole case), lift, a held feed
change and disabling an account each show exactly what will happen (the names, how many ISPs receive a
requisition) and do nothing until confirmed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from blocklist import users
from blocklist.models import AuditEvent, Submission, User
from tests.isp_feed.test_holds import held_change
from tests.support.browser import ARTIFACTS, chromium
from tests.support.factories import approved, make_isp, make_user, submitted
from tests.support.web import PASSWORD, csrf, give_passwords, login


def _statuses(rt: Runtime) -> dict[str, str]:
    with rt.database.reading() as s:
        return {domain: status for domain, status in s.execute(select(Submission.domain, Submission.status))}


def _events(rt: Runtime) -> int:
    with rt.database.reading() as s:
        return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def _main(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pressing_approve_first_shows_what_will_happen(rt: Runtime, people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        officer = s.get(User, people["officer"].id)
        assert officer is not None
        for name in ("ISP One", "ISP Two", "ISP Three"):
            make_isp(s, name=name)
        ids = [submitted(s, officer, name).id for name in ("first.test", "second.test", "third.test")]
    give_passwords(rt, "magistrate")
    with chromium(rt) as (browser, port):
        page = browser.new_context(locale="en-GB").new_page()
        page.goto(f"http://127.0.0.1:{port}/login?lang=en")
        page.fill("input[name=username]", "magistrate")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.check(f"input[name=ids][value='{ids[0]}']")
        page.check(f"input[name=ids][value='{ids[1]}']")
        page.fill("input[name=reason]", "verified by the FCCU")
        before = _events(rt)
        page.click("button[name=decision][value=approve]")
        assert page.inner_text("h1") == "Approve 2 submission(s)?"
        told = page.inner_text("main")
        assert "Nothing has been done yet." in told
        assert "A requisition to each of the 3 active access providers." in told
        assert page.eval_on_selector_all("ul.names li", "e => e.map(li => li.textContent)") == ["first.test",
                                                                                               "second.test"]
        page.screenshot(path=str(ARTIFACTS / "confirm-approve.png"), full_page=True)
        assert _events(rt) == before and set(_statuses(rt).values()) == {"submitted"}  # nothing yet
        page.click("text=Cancel")
        assert page.inner_text("h1").startswith("Pending submissions (3)")
        page.check(f"input[name=ids][value='{ids[0]}']")
        page.click("button[name=decision][value=approve]")
        page.click("button.confirm")
        assert "approved 1 as order #1" in page.inner_text(".info")
    assert _statuses(rt) == {"first.test": "approved", "second.test": "submitted", "third.test": "submitted"}


def test_batch_approve_by_page_and_by_case_lift_hold_and_disable_ask_first(rt: Runtime,
                                                                           people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        officer = s.get(User, people["officer"].id)
        assert officer is not None
        make_isp(s)
        for n in range(3):
            submitted(s, officer, f"case-a-{n}.test", case_number="FCCU-A")
        submitted(s, officer, "case-b.test", case_number="FCCU-B")
    give_passwords(rt, "magistrate", "admin")
    client = TestClient(create_app(rt))
    token = csrf(login(client, "magistrate").text)
    before = _events(rt)
    by_case = client.post("/magistrate/decide", data={"csrf": token, "decision": "approve", "pick": "case",
                                                      "pick_case": "fccu-a", "reason": "case A verified"})
    told = _main(by_case.text)
    assert by_case.status_code == 200 and "Approve 3 submission(s)?" in told and "case-b.test" not in told
    assert "1 active access providers" in told and "Reason: case A verified" in told
    assert _events(rt) == before
    form = by_case.text.split('action="/magistrate/decide">')[1].split("</form>")[0]  # the confirmation's own form
    fields: dict[str, Any] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        fields.setdefault(name, []).append(value)
    assert len(fields["ids"]) == 3 and fields["confirm"] == ["yes"]
    done = client.post("/magistrate/decide", data=fields, follow_redirects=True)
    assert "approved 3 as order #1" in done.text
    assert {d: st for d, st in _statuses(rt).items() if st == "approved"} == {
        f"case-a-{n}.test": "approved" for n in range(3)}
    queue = client.get("/magistrate").text
    page_ids = re.findall(r'name="page_ids" value="(\d+)"', queue)
    whole_page = client.post("/magistrate/decide", data={"csrf": token, "decision": "approve", "pick": "page",
                                                        "page_ids": page_ids})
    assert "Approve 1 submission(s)?" in _main(whole_page.text) and "case-b.test" in whole_page.text
    wrong = client.post("/magistrate/decide", follow_redirects=True,
                        data={"csrf": token, "decision": "approve", "pick": "case", "pick_case": ""})
    assert "enter the case number" in wrong.text

    before = _events(rt)
    lift = client.post("/magistrate/lift", data={"csrf": token, "domain": "case-a-0.test", "reason": "removed",
                                                 "action": "lift"})
    assert "Lift the block of case-a-0.test?" in _main(lift.text) and "lifting requisition to each of the 1" in \
        _main(lift.text)
    no_reason = client.post("/magistrate/lift", follow_redirects=True,
                            data={"csrf": token, "domain": "case-a-0.test", "reason": "", "action": "lift"})
    assert "lifting a block needs a written reason" in no_reason.text
    assert _events(rt) == before and _statuses(rt)["case-a-0.test"] == "approved"
    lifted = client.post("/magistrate/lift", follow_redirects=True, data={
        "csrf": token, "domain": "case-a-0.test", "reason": "removed", "action": "lift", "confirm": "yes"})
    assert "case-a-0.test: block lifted" in lifted.text and _statuses(rt)["case-a-0.test"] == "lifted"

    admin = TestClient(create_app(rt))
    admin_token = csrf(login(admin, "admin").text)
    before = _events(rt)
    ask = admin.post("/admin/users/officer2", data={"csrf": admin_token, "action": "disable"})
    assert "Disable officer2?" in _main(ask.text) and "can no longer log in" in _main(ask.text)
    with rt.database.reading() as s:
        assert users.get_user(s, "officer2").active and _events(rt) == before
    own = admin.post("/admin/users/admin", data={"csrf": admin_token, "action": "disable"}, follow_redirects=True)
    assert "cannot disable their own account" in own.text and "Disable admin?" not in own.text
    admin.post("/admin/users/officer2", data={"csrf": admin_token, "action": "disable", "confirm": "yes"})
    with rt.database.reading() as s:
        assert not users.get_user(s, "officer2").active


def test_a_held_feed_change_lists_its_names_before_a_second_magistrate_confirms(
        rt: Runtime, people: dict[str, User]) -> None:
    strict = rt.settings.model_copy(update={"feed_gate_min_changes": 2, "feed_gate_share": 0.10})
    hold_id = held_change(rt.database, strict, people)
    with rt.database.transaction() as s:
        make_user(s, "magistrate", "magistrate3")
    give_passwords(rt, "magistrate", "magistrate3")
    client = TestClient(create_app(rt))
    token = csrf(login(client, "magistrate").text)
    refused = client.post(f"/magistrate/holds/{hold_id}", data={"csrf": token}, follow_redirects=True)
    assert "Publish held feed change" not in refused.text and "another magistrate" in refused.text
    other = TestClient(create_app(rt))
    token = csrf(login(other, "magistrate3").text)
    before = _events(rt)
    ask = other.post(f"/magistrate/holds/{hold_id}", data={"csrf": token})
    told = _main(ask.text)
    assert f"Publish held feed change #{hold_id}?" in told and "+ b1.test" in told and "− a3.test" in told
    assert _events(rt) == before
    done = other.post(f"/magistrate/holds/{hold_id}", data={"csrf": token, "confirm": "yes"}, follow_redirects=True)
    assert f"feed change #{hold_id} confirmed" in done.text
    with rt.database.reading() as s:
        assert approved is not None and s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "feed.hold_confirmed")).scalar_one() == 1
