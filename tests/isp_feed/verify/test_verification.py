"""Every verdict comes out right against real resolvers: a compliant Unbound (the feed's RPZ), one without it,
one with an NXDOMAIN policy, a port where nothing answers, and the control; evidence and compliance kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from api.runtime import Runtime
from blocklist import isps
from blocklist.models import User
from isp_feed import compliance, evidence, verification, versions
from isp_feed.jobs import publish_feed
from isp_feed.models import VerificationResult
from isp_feed.verify.querier import DestinationNotAllowed, Querier
from tests.support.factories import approved
from tests.support.ports import free_port
from tests.support.resolvers import start_internet, start_unbound
from tests.support.smtp import smtp_server


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_verdict(rt: Runtime, people: dict[str, User], tmp_path: Path) -> None:
    with rt.database.transaction() as s:
        # gone.test exists nowhere
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test", "second.test", "gone.test")
    publish_feed(rt.job_context)
    rpz = tmp_path / "feed.rpz"
    with rt.database.transaction() as s:
        rpz.write_bytes(versions.file_bytes(s, versions.latest_version(s), "rpz", rt.settings.data_dir))  # type: ignore[arg-type]
    dead_port = free_port()  # nothing listens here: timeouts
    with start_internet(tmp_path) as control, start_unbound(tmp_path, rpz, name="compliant") as compliant, \
            start_unbound(tmp_path, None, name="ignores") as ignores, \
            start_unbound(tmp_path, rpz, policy="nxdomain", name="nx") as nx:
        with rt.database.transaction() as s:
            for name, resolver, policy in (("Compliant", compliant, "stoppage"), ("Ignores", ignores, "stoppage"),
                                           ("Nx", nx, "nxdomain"), ("Nx as stop page", nx, "stoppage")):
                isps.add_isp(s, actor="test", name=name, email=f"noc@{name.split()[0].lower()}.example",
                             language="fr", resolvers=[f"127.0.0.1:{resolver.port}"], policy=policy)
            isps.add_isp(s, actor="test", name="Silent", email="noc@silent.example", language="nl",
                         resolvers=[f"127.0.0.1:{dead_port}"])
        settings = rt.settings.model_copy(update={"verify_control_resolver": f"127.0.0.1:{control.port}",
                                                  "verify_timeout": 0.4})
        # good.test is not listed: the positive control, which must resolve normally at every resolver.
        round_id = verification.verify(rt.database, settings,
                                       names=["csam-gallery.test", "second.test", "gone.test", "good.test"])
    with rt.database.transaction() as s:
        rows = s.execute(select(VerificationResult).where(VerificationResult.round_id == round_id)).scalars().all()
        names = {i.id: i.name for i in isps.list_isps(s)}
        verdicts = {(names[r.isp_id], r.domain): r.verdict for r in rows}
        figures = {c.isp_name: c for c in compliance.compliance(s)}
        kept = evidence.load(s, rows[0])
    assert verdicts[("Compliant", "csam-gallery.test")] == "blocked"
    assert verdicts[("Ignores", "csam-gallery.test")] == "not_blocked"
    assert verdicts[("Nx", "csam-gallery.test")] == "blocked"
    assert verdicts[("Nx as stop page", "csam-gallery.test")] == "blocked_other_way"
    assert verdicts[("Silent", "csam-gallery.test")] == "inconclusive"
    assert {verdicts[(isp, "gone.test")] for isp in ("Ignores", "Nx")} == {"domain_dead"}
    assert {verdicts[(isp, "good.test")] for isp in ("Compliant", "Ignores", "Nx", "Nx as stop page")} == {
        "not_blocked"}
    assert verdicts[("Compliant", "second.test")] == "blocked"
    assert verdicts[("Compliant", "gone.test")] == "blocked"  # the RPZ answers for it, existing or not
    assert figures["Compliant"].blocked == 3 and figures["Ignores"].blocked == 0
    assert figures["Ignores"].not_blocked == ["csam-gallery.test", "second.test"]
    question = kept["isp"][0]
    assert question["raw"] and question["rcode"] and question["sent_at"] and kept["control"]


def test_never_queries_an_address_that_is_not_configured() -> None:
    import asyncio

    async def attempt() -> None:
        async with Querier([("127.0.0.1", 5399)], rate_qps=None) as querier:
            await querier.query("127.0.0.2", 53, "csam-gallery.test")

    with pytest.raises(DestinationNotAllowed, match="not one of the configured resolvers"):
        asyncio.run(attempt())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_compliance_pages_and_regression_alert(rt: Runtime, people: dict[str, User], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from blocklist import users

    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], "csam-gallery.test")
    publish_feed(rt.job_context)
    rpz = tmp_path / "feed.rpz"
    with rt.database.transaction() as s:
        rpz.write_bytes(versions.file_bytes(s, versions.latest_version(s), "rpz", rt.settings.data_dir))  # type: ignore[arg-type]
        users.set_password(s, actor="test", user=users.get_user(s, "auditor"), password="correct horse battery")
    with start_internet(tmp_path) as control, start_unbound(tmp_path, rpz, name="isp") as isp:
        with rt.database.transaction() as s:
            isps.add_isp(s, actor="test", name="ISP", email="noc@isp.example", language="fr",
                         resolvers=[f"127.0.0.1:{isp.port}"])
        with smtp_server() as smtp:
            settings = rt.settings.model_copy(update={
                "verify_control_resolver": f"127.0.0.1:{control.port}", "alert_email": "duty@prosecutor.example",
                "smtp_host": "127.0.0.1", "smtp_port": smtp.port})
            verification.verify(rt.database, settings)
            rpz.write_text(rpz.read_text().replace("csam-gallery.test", "other.test"))  # the ISP drops the name
            isp.reload()
            verification.verify(rt.database, settings)
    received = smtp.inbox.raw
    assert len(received) == 1 and b"ISP: csam-gallery.test" in received[0]
    with rt.database.transaction() as s:
        (figure,) = compliance.compliance(s)
    assert figure.regressions == ["csam-gallery.test"]
    client = TestClient(create_app(rt))
    import re

    login = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "auditor", "password": "correct horse battery", "csrf": token})
    html = client.get("/compliance").text
    assert "was blocked and is no longer" in html and "<svg" in html and "verdict-not_blocked" in html
    # Consistent cells (issue #14, finding 9): a name blocked once and no longer says so, in words, not codes.
    assert "first blocked" in html and "not blocked at the latest round" in html and ">not_blocked<" not in html
    # One chart per ISP, named by its title (never told apart by colour alone), with its values written out.
    assert 'role="img"' in html and "ISP: share of the names blocked (%) in each round" in html
    assert "Verification is not configured" not in html and "No verification round has run yet" not in html
    evidence_link = re.search(r'href="(/compliance/evidence/\d+)"', html)
    assert evidence_link and "raw (base64)" in client.get(evidence_link.group(1)).text
    assert "Share blocked per access provider and round" in html and "100.0%" in html and "0.0%" in html
    problems = client.get("/compliance", params={"problems": "true"}).text
    assert "names 1-1 of 1" in problems and "verdict-not_blocked" in problems
    # The name's history carries its checks: in the auditor's search and in the API.
    assert "DNS checks of this name" in client.get("/auditor", params={"q": "csam-gallery.test"}).text
    with rt.database.transaction() as s:
        token = users.issue_token(s, actor="test", user=people["auditor"])
    checks = client.get("/api/v1/domains/csam-gallery.test/history",
                        headers={"Authorization": f"Bearer {token}"}).json()["checks"]
    assert [c["verdict"] for c in checks] == ["not_blocked", "blocked"]
    assert checks[0]["isp"] == "ISP" and checks[0]["evidence"]["isp"][0]["raw"]


def test_evidence_cannot_be_changed_or_deleted(rt: Runtime) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with rt.database.transaction() as s:
        isp, _ = isps.add_isp(s, actor="test", name="Evidence", email="noc@evidence.example", language="fr",
                           resolvers=["127.0.0.1:5399"])
        s.execute(text("INSERT INTO verification_rounds (started_at, names, resolvers, \"trigger\") "
                       "VALUES (CURRENT_TIMESTAMP, 1, 1, 'manual')"))
        round_id = s.execute(text("SELECT max(id) FROM verification_rounds")).scalar_one()
        s.execute(text("INSERT INTO verification_results (round_id, isp_id, resolver, domain, verdict, reason, "
                       "evidence, at) VALUES (:r, :i, '127.0.0.1:5399', 'csam-gallery.test', 'blocked', 'x', "
                       "'{\"isp\": [], \"control\": []}', "
                       "CURRENT_TIMESTAMP)"), {"r": round_id, "i": isp.id})
    for statement in ("UPDATE verification_results SET verdict = 'not_blocked'", "DELETE FROM verification_results",
                      "DELETE FROM verification_rounds"):
        with pytest.raises(DBAPIError, match="append-only"), rt.database.transaction() as s:
            s.execute(text(statement))
    with rt.database.transaction() as s:
        kept = s.execute(select(VerificationResult)).scalar_one()
        # A row kept before evidence was compressed reads the same way as a compressed one.
        assert kept.verdict == "blocked" and kept.evidence_z is None
        assert evidence.load(s, kept) == {"isp": [], "control": []}


def test_compliance_says_when_verification_is_not_configured(rt: Runtime, people: dict[str, User]) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from blocklist import users
    from tests.support.web import login

    with rt.database.transaction() as s:
        users.set_password(s, actor="test", user=users.get_user(s, "auditor"), password="correct horse battery")
    client = TestClient(create_app(rt))
    login(client, "auditor", "correct horse battery")
    html = client.get("/compliance").text
    assert "Verification is not configured: no access provider has a resolver registered" in html
    assert "blocklist isp add --resolver" in html
    with rt.database.transaction() as s:
        isps.add_isp(s, actor="test", name="ISP", email="noc@isp.example", language="fr",
                     resolvers=["127.0.0.1:5399"])
    html = client.get("/compliance").text
    assert "No verification round has run yet" in html and "blocklist verify run" in html
