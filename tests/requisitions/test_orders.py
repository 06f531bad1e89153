"""Requisitions per order to EVERY active ISP, delivered through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from blocklist import audit, isps, workflow
from blocklist.db import Database
from blocklist.jobs import JobContext
from blocklist.models import Order, User
from blocklist.settings import Settings
from requisitions import delivery, jobs, service
from requisitions.models import DeliveryAttempt, Requisition
from tests.support.factories import approved
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture
def req_settings(mail_settings: Settings) -> Settings:
    return mail_settings.model_copy(update={"requisitions_wait_for_feed": False})


@pytest.fixture
def three_isps(database: Database) -> list[int]:
    ids = []
    with database.transaction() as s:
        for name, lang in (("Opérateur Wallon", "fr"), ("Vlaamse Provider", "nl"), ("Ostbelgien Netz", "de")):
            ids.append(isps.add_isp(s, actor="test", name=name, email=f"noc@{lang}-isp.example", language=lang)[0].id)
        inactive, _ = isps.add_isp(s, actor="test", name="Gone Telecom", email="noc@gone.example", language="fr")
        isps.set_active(s, actor="test", isp=inactive, active=False)
    return ids


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_one_message_per_active_isp_in_its_language(
    database: Database, people: dict[str, User], three_isps: list[int], mailbox: Inbox, req_settings: Settings
) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test", "mirror.csam-gallery.test",
                 case_number="FCCU-2026-0777")
    assert jobs.issue_pending(JobContext.standalone(database, req_settings)) == 3
    assert jobs.issue_pending(JobContext.standalone(database, req_settings)) == 0  # issued once per order
    outcome = delivery.deliver_due(database, req_settings)
    with database.transaction() as s:
        errors = {r.last_error for r in service.list_requisitions(s)}
    assert outcome == {"sent": 3}, errors
    assert len(mailbox.messages) == 3
    by_addr = {m["To"]: m for m in mailbox.messages}
    assert set(by_addr) == {"noc@fr-isp.example", "noc@nl-isp.example", "noc@de-isp.example"}
    expected = {"fr": "39bis", "nl": "39bis", "de": "39bis"}
    for lang, word in expected.items():
        message = by_addr[f"noc@{lang}-isp.example"]
        pdfs = [p.get_payload(decode=True) for p in message.walk() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1
        text = _pdf_text(pdfs[0])  # type: ignore[arg-type]
        assert "csam-gallery.test" in text and "mirror.csam-gallery.test" in text
        assert "FCCU-2026-0777" in text and word in text
    with database.transaction() as s:
        reqs = service.list_requisitions(s)
        assert {r.status for r in reqs} == {"sent"}
        assert all(r.smtp_response and "250" in r.smtp_response for r in reqs)
        assert audit.verify(s).intact
        actions = [e.action for e in workflow.history(s, "csam-gallery.test")]
        assert actions.count("requisition.created") == 3 and actions.count("requisition.sent") == 3


def test_smtp_down_then_up_delivers_once_across_restart(
    database: Database, people: dict[str, User], three_isps: list[int], req_settings: Settings, smtp_port: int
) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    jobs.issue_pending(JobContext.standalone(database, req_settings))
    # Nothing listens on the port yet: every attempt fails transiently and is scheduled again.
    assert delivery.deliver_due(database, req_settings) == {"pending": 3}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert delivery.deliver_due(database, req_settings, now=later) == {"pending": 3}
    # "Restart": a brand-new Database object on the same storage picks up where the old one stopped.
    database.dispose()
    restarted = Database(database.url)
    with smtp_server(port=smtp_port) as server:
        assert delivery.deliver_due(restarted, req_settings, now=later + dt.timedelta(hours=2)) == {"sent": 3}
        assert delivery.deliver_due(restarted, req_settings, now=later + dt.timedelta(hours=9)) == {}
    assert len(server.inbox.messages) == 3
    with restarted.transaction() as s:
        attempts = s.execute(select(DeliveryAttempt.outcome)).scalars().all()
        assert sorted(attempts) == ["sent"] * 3 + ["transient"] * 6
    restarted.dispose()


def test_retry_budget_ends_in_failed(
    database: Database, people: dict[str, User], three_isps: list[int], req_settings: Settings
) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    jobs.issue_pending(JobContext.standalone(database, req_settings))
    moment = dt.datetime.now(dt.UTC)
    for _ in range(delivery.RETRY_BUDGET + 2):
        moment += dt.timedelta(days=1)
        delivery.deliver_due(database, req_settings, now=moment)
    with database.transaction() as s:
        assert {r.status for r in service.list_requisitions(s)} == {"failed"}
        assert [e.action for e in workflow.history(s, "csam-gallery.test")].count("requisition.failed") == 3


def test_lifting_and_catch_up(
    database: Database, people: dict[str, User], three_isps: list[int], mailbox: Inbox, req_settings: Settings
) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    jobs.issue_pending(JobContext.standalone(database, req_settings))
    with database.transaction() as s:
        workflow.lift(s, actor=people["magistrate2"], domain="csam-gallery.test", reason="content removed")
    jobs.issue_pending(JobContext.standalone(database, req_settings))
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "second.test")
    jobs.issue_pending(JobContext.standalone(database, req_settings))
    with database.transaction() as s:
        newcomer, _ = isps.add_isp(s, actor="test", name="New Fibre", email="noc@new-fibre.example", language="nl")
        newcomer_id = newcomer.id
    assert jobs.catch_up(JobContext.standalone(database, req_settings)) == 1
    assert jobs.catch_up(JobContext.standalone(database, req_settings)) == 0
    with database.transaction() as s:
        kinds = sorted(r.kind for r in service.list_requisitions(s))
        assert kinds == ["blocking"] * 6 + ["catch_up"] + ["lifting"] * 3
        catch = service.list_requisitions(s, isp_id=newcomer_id)[0]
        assert [n["a_label"] for n in service.names_of(catch)] == ["second.test"]


def test_render_failure_fails_the_whole_order(
    database: Database, people: dict[str, User], three_isps: list[int], req_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from requisitions import render as render_module
    from requisitions.errors import RenderError

    real = render_module.render
    calls = {"n": 0}

    def flaky(doc: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:  # the second ISP's template breaks
            raise RenderError("template blocking/nl/body.html failed: broken on purpose")
        return real(doc)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "render", flaky)
    with database.transaction() as s:
        order_id = approved(s, people["officer"], people["magistrate"], "csam-gallery.test").id
    assert jobs.issue_pending(JobContext.standalone(database, req_settings)) == 0
    with database.transaction() as s:
        assert service.list_requisitions(s) == []
        issue = service.order_issue(s, order_id)
        assert issue is not None and issue.status == "failed" and "broken on purpose" in (issue.error or "")


def test_overdue_and_isolation_between_isps(
    database: Database, people: dict[str, User], three_isps: list[int], mailbox: Inbox, req_settings: Settings
) -> None:
    with database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    jobs.issue_pending(JobContext.standalone(database, req_settings))
    delivery.deliver_due(database, req_settings)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    with database.transaction() as s:
        first, second, _ = (s.get(isps.Isp, i) for i in three_isps)
        mine = service.list_requisitions(s, isp_id=first.id)[0]  # type: ignore[union-attr]
        theirs = service.list_requisitions(s, isp_id=second.id)[0]  # type: ignore[union-attr]
        service.acknowledge(s, isp=first, requisition_id=mine.id)  # type: ignore[arg-type]
        with pytest.raises(service.NotFound):
            service.acknowledge(s, isp=first, requisition_id=theirs.id)  # type: ignore[arg-type]
        with pytest.raises(service.NotFound):
            service.get_for_isp(s, requisition_id=theirs.id, isp=first)
        overdue = service.list_requisitions(s, status="overdue", now=future)
        assert len(overdue) == 2 and mine.id not in {r.id for r in overdue}
        assert service.list_requisitions(s, status="overdue") == []


def test_waits_for_the_feed_serial(
    database: Database, people: dict[str, User], three_isps: list[int], req_settings: Settings
) -> None:
    waiting = req_settings.model_copy(update={"requisitions_wait_for_feed": True})
    with database.transaction() as s:
        order_id = approved(s, people["officer"], people["magistrate"], "csam-gallery.test").id
    assert jobs.issue_pending(JobContext.standalone(database, waiting)) == 0
    with database.transaction() as s:
        order = s.get(Order, order_id)
        assert order is not None
        order.feed_serial = 42
    assert jobs.issue_pending(JobContext.standalone(database, waiting)) == 3
    with database.transaction() as s:
        assert {r.feed_serial for r in s.execute(select(Requisition)).scalars()} == {42}
