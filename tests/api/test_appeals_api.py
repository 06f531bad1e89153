"""Appeals end to end over HTTP: the stop page's link -> the appeal form -> the magistrates' queue
(GET /api/v1/appeals) -> the decision (POST /api/v1/appeals/{id}/decide). Upheld: the name leaves the next feed
version and a lifting requisition goes out to every ISP; dismissed: the appellant's answer reaches a real SMTP
server in their language. Four eyes, a written reason, and bad input refused with nothing written."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.runtime import Runtime
from blocklist import appeals, users
from blocklist.models import Appeal, AppealDecision, AuditEvent, Submission, User
from isp_feed.jobs import publish_feed
from isp_feed_client import formats
from requisitions import jobs as requisition_jobs
from requisitions.models import Requisition
from tests.api.conftest import bearer
from tests.support.factories import approved, make_user
from tests.support.smtp import smtp_server

HOST = "csam-gallery.test"


@pytest.fixture
def blocked(rt: Runtime, people: dict[str, User]) -> int:
    """HOST blocked with its subdomains, approved by `magistrate`; the blocking order's id."""
    with rt.database.transaction() as s:
        return approved(s, people["officer"], people["magistrate"], HOST).id


def _appeal_from_the_stop_page(client: TestClient, *, lang: str, text: str, contact: str = "",
                               host: str = f"www.{HOST}") -> str:
    """What a visitor does: the stop page, its appeal link, the form pre-filled, sent; returns the receipt."""
    stop = client.get("/some/page", headers={"Host": host, "Accept-Language": lang})
    assert stop.status_code == 451
    link = re.search(r'href="(/appeal\?[^"]+)"', stop.text)
    assert link, stop.text
    form = client.get(html.unescape(link.group(1)), headers={"Host": host})
    assert form.status_code == 200 and form.headers["content-language"] == lang
    name = re.search(r'name="name" value="([^"]*)"', form.text)
    assert name and name.group(1) == HOST  # the blocked name the stop page showed
    sent = client.post("/appeal", headers={"Host": host},
                       data={"name": name.group(1), "text": text, "contact": contact, "lang": lang})
    assert sent.status_code == 200, sent.text
    receipt = re.search(r'class="receipt">(A-[A-Z2-7]{10})<', sent.text)
    assert receipt, sent.text
    return receipt.group(1)


def _feed_names(client: TestClient, isp: str) -> list[str]:
    latest = client.get("/feed/v1/latest.json", headers=bearer(isp))
    assert latest.status_code == 200
    return [e.name for e in formats.parse_envelope(latest.content).entries]


def test_upheld_the_name_leaves_the_next_feed_version_and_a_lifting_requisition_goes_out(
        client: TestClient, rt: Runtime, tokens: dict[str, str], blocked: int) -> None:
    publish_feed(rt.job_context)
    assert _feed_names(client, tokens["isp"]) == [HOST]
    assert requisition_jobs.issue_pending(rt.job_context) == 1  # the blocking requisition
    receipt = _appeal_from_the_stop_page(client, lang="fr", text="C'est le site de ma boulangerie.")
    queue = client.get("/api/v1/appeals", headers=bearer(tokens["magistrate2"]))
    assert queue.status_code == 200
    body = queue.json()
    assert body["total"] == 1 and body["appeals"][0]["receipt"] == receipt
    appeal = body["appeals"][0]
    assert (appeal["domain"], appeal["language"], appeal["contact"], appeal["decision"]) == (HOST, "fr", None, None)
    assert appeal["record"]["status"] == "approved" and appeal["record"]["legal_basis"] == "art39bis"
    assert appeal["record"]["case_number"] == "FCCU-2026-0001" and appeal["record"]["review_due"]
    decided = client.post(f"/api/v1/appeals/{appeal['id']}/decide", headers=bearer(tokens["magistrate2"]),
                          json={"outcome": "upheld", "reason": "a bakery's site: the material is gone"})
    assert decided.status_code == 200, decided.text
    decision = decided.json()["decision"]
    assert (decision["outcome"], decision["answer"], decision["decided_by"], decision["mail"]) == (
        "upheld", "lifted", "magistrate2", None)
    assert decided.json()["record"]["status"] == "lifted"
    # The scheduler's next ticks: the feed without the name, then the lifting requisitions of the order it carries.
    publish_feed(rt.job_context)
    assert _feed_names(client, tokens["isp"]) == []
    assert requisition_jobs.issue_pending(rt.job_context) == 1
    with rt.database.transaction() as s:
        lifting = s.execute(select(Requisition).where(Requisition.order_id == decision["lift_order_id"])).scalar_one()
        assert lifting.kind == "lifting" and lifting.isp.name == "ISP One" and HOST in lifting.names
        lifting_id = lifting.id
    with smtp_server() as server:
        rt.settings.smtp_port = server.port
        assert requisition_jobs.deliver(rt.job_context) == {"sent": 2}  # the blocking one, then the lifting one
    assert [rcpts for _, rcpts in server.inbox.envelopes] == [["noc@isp-one.example"]] * 2
    with rt.database.transaction() as s:
        assert s.get(Requisition, lifting_id).status == "sent"  # type: ignore[union-attr]
    history = client.get(f"/api/v1/domains/{HOST}/history", headers=bearer(tokens["auditor"])).json()["events"]
    actions = [e["action"] for e in history]
    assert actions.index("appeal.received") < actions.index("submission.lifted") < actions.index("appeal.decided")
    assert "requisition.sent" in actions


def test_dismissed_the_appellants_contact_receives_the_answer_in_their_language(
        client: TestClient, rt: Runtime, tokens: dict[str, str], blocked: int) -> None:
    receipt = _appeal_from_the_stop_page(client, lang="de", text="Das ist meine Website.",
                                         contact="leser@mail.example")
    appeal_id = client.get("/api/v1/appeals", headers=bearer(tokens["magistrate2"])).json()["appeals"][0]["id"]
    decided = client.post(f"/api/v1/appeals/{appeal_id}/decide", headers=bearer(tokens["magistrate2"]),
                          json={"outcome": "dismissed", "reason": "the material is still there (EVD-0001)"})
    assert decided.status_code == 200 and decided.json()["decision"]["answer"] == "kept"
    assert decided.json()["decision"]["mail"] == "pending"
    with smtp_server() as server:
        rt.settings.smtp_port = server.port
        assert appeals.send_answers(rt.job_context) == {"sent": 1}
    (message,) = server.inbox.messages
    assert server.inbox.envelopes[0][1] == ["leser@mail.example"]
    assert message["Subject"].startswith(f"Ihr Widerspruch {receipt} zu {HOST}: zurückgewiesen")
    body = message.get_content()
    assert "Ihr Widerspruch wird zurückgewiesen: die Sperre von csam-gallery.test bleibt bestehen." in body
    assert "Begründung des Staatsanwalts: the material is still there (EVD-0001)" in body
    assert client.get("/api/v1/appeals?state=decided", headers=bearer(tokens["auditor"])).json()[
        "appeals"][0]["decision"]["mail"] == "sent"
    with rt.database.transaction() as s:
        assert s.execute(select(Submission.status).where(Submission.domain == HOST)).scalar_one() == "approved"


def test_the_approver_may_not_decide_and_is_told_why_in_their_language(
        client: TestClient, rt: Runtime, tokens: dict[str, str], people: dict[str, User]) -> None:
    with rt.database.transaction() as s:
        approver = make_user(s, "magistrate", "juge", language="fr")
        approved(s, people["officer"], approver, HOST)
        appeal_id = appeals.receive(s, data=appeals.AppealIn(HOST, "why")).id
        token = bearer(users.issue_token(s, actor="test", user=approver))
    refused = client.post(f"/api/v1/appeals/{appeal_id}/decide", headers=token,
                          json={"outcome": "upheld", "reason": "my own block, lifted by me"})
    assert refused.status_code == 403
    assert refused.json()["reason"] == (f"Quatre yeux : vous avez approuvé le blocage de {HOST} ; un autre magistrat "
                                        "doit décider de ce recours.")
    with rt.database.transaction() as s:
        assert s.execute(select(func.count()).select_from(AppealDecision)).scalar_one() == 0
        assert s.execute(select(Submission.status).where(Submission.domain == HOST)).scalar_one() == "approved"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"outcome": "upheld"}, 422, "reason"),
    ({"outcome": "upheld", "reason": "  "}, 422, "reason"),
    ({"outcome": "maybe", "reason": "a reason"}, 422, "outcome"),
    ({"reason": "a reason"}, 422, "outcome"),
    ({"outcome": "upheld", "reason": "a reason", "extra": 1}, 422, "extra"),
])
def test_bad_decisions_are_refused_with_nothing_written(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                                        blocked: int, body: dict[str, object], status: int,
                                                        field: str) -> None:
    with rt.database.transaction() as s:
        appeal_id = appeals.receive(s, data=appeals.AppealIn(HOST, "why")).id
    before = _events(rt)
    refused = client.post(f"/api/v1/appeals/{appeal_id}/decide", headers=bearer(tokens["magistrate2"]), json=body)
    assert refused.status_code == status and field in refused.text
    assert _events(rt) == before
    with rt.database.transaction() as s:
        assert s.execute(select(Submission.status).where(Submission.domain == HOST)).scalar_one() == "approved"


def _events(rt: Runtime) -> int:
    with rt.database.transaction() as s:
        return int(s.execute(select(func.count(AuditEvent.id))).scalar_one())


def test_unknown_decided_twice_and_paging(client: TestClient, rt: Runtime, tokens: dict[str, str],
                                          blocked: int) -> None:
    magistrate = bearer(tokens["magistrate2"])
    reason = {"outcome": "dismissed", "reason": "a reason"}
    assert client.post("/api/v1/appeals/999/decide", headers=magistrate, json=reason).status_code == 404
    assert client.post("/api/v1/appeals/0/decide", headers=magistrate, json=reason).status_code == 422
    with rt.database.transaction() as s:
        ids = [appeals.receive(s, data=appeals.AppealIn(f"n{i}.{HOST}", f"why {i}")).id for i in range(3)]
    assert client.post(f"/api/v1/appeals/{ids[1]}/decide", headers=magistrate, json=reason).status_code == 200
    again = client.post(f"/api/v1/appeals/{ids[1]}/decide", headers=magistrate, json=reason)
    assert again.status_code == 409 and "already decided" in again.json()["reason"]
    first = client.get("/api/v1/appeals?per_page=1", headers=magistrate).json()
    second = client.get("/api/v1/appeals?per_page=1&page=2", headers=magistrate).json()
    assert first["total"] == second["total"] == 2  # the open ones, oldest first
    assert [first["appeals"][0]["id"], second["appeals"][0]["id"]] == [ids[0], ids[2]]
    everything = client.get("/api/v1/appeals?state=all", headers=magistrate).json()
    assert everything["total"] == 3 and [a["id"] for a in everything["appeals"]] == ids
    assert all(a["record"]["domain"] == HOST for a in everything["appeals"])  # the parent's block covers them
    assert client.get("/api/v1/appeals?state=closed", headers=magistrate).status_code == 422
    with rt.database.transaction() as s:
        assert s.execute(select(func.count()).select_from(Appeal)).scalar_one() == 3
