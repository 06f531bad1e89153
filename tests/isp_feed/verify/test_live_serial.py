"""The serial each ISP resolver really serves, measured from outside by the canaries, against real Unbound and BIND:
a resolver serving serial N while its client acknowledged N+1 is flagged (page, JSON API); a current one shows N+1,
since the first round that saw it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.runtime import Runtime
from blocklist import isps, users
from blocklist.models import AuditEvent, User
from isp_feed import compliance, serving, verification, versions
from isp_feed.jobs import publish_feed
from isp_feed.models import VerificationLive
from tests.support.factories import approved
from tests.support.resolvers import start_bind, start_internet, start_unbound


def _publish(rt: Runtime, people: dict[str, User], name: str, folder: Path) -> tuple[int, Path]:
    """Approve one name, publish, and write that version's RPZ file; (serial, file)."""
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], name)
    publish_feed(rt.job_context)
    with rt.database.transaction() as s:
        latest = versions.latest_version(s)
        assert latest is not None
        path = folder / f"feed-{latest.serial}.rpz"
        path.write_bytes(versions.file_bytes(s, latest, "rpz", rt.settings.data_dir))
        return latest.serial, path


def test_live_serial_from_outside(rt: Runtime, people: dict[str, User], tmp_path: Path) -> None:
    old, old_rpz = _publish(rt, people, "csam-gallery.test", tmp_path)
    new, new_rpz = _publish(rt, people, "second.test", tmp_path)
    assert new == old + 1
    with start_internet(tmp_path) as control, start_unbound(tmp_path, new_rpz, name="current") as current, \
            start_bind(tmp_path, old_rpz, control, name="stale") as stale, \
            start_unbound(tmp_path, None, name="nolist") as nolist, \
            start_unbound(tmp_path, new_rpz, policy="nxdomain", name="nx") as nx:
        with rt.database.transaction() as s:
            latest = versions.get_version(s, new)
            sha256 = versions.artifact_of(s, latest, "rpz").sha256
            for name, resolver, policy in (("Current", current, "stoppage"), ("Stale", stale, "stoppage"),
                                           ("No list", nolist, "stoppage"), ("Nx", nx, "nxdomain")):
                isp, _ = isps.add_isp(s, actor="test", name=name, email=f"noc@{name.split()[0].lower()}.example",
                                      language="fr", resolvers=[f"127.0.0.1:{resolver.port}"], policy=policy)
                # Both clients say they applied the new serial; only one resolver loaded it.
                serving.record_applied(s, isp=isp, serial=new, sha256=sha256, fmt="rpz")
        settings = rt.settings.model_copy(update={"verify_control_resolver": f"127.0.0.1:{control.port}",
                                                  "verify_timeout": 0.5})
        first = verification.verify(rt.database, settings)
        second = verification.verify(rt.database, settings)
    with rt.database.transaction() as s:
        by_isp = {r.isp_name: r for r in compliance.live_versions(s)}
        rows = s.execute(select(VerificationLive).order_by(VerificationLive.id)).scalars().all()
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "verification.round")
                          .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        users.set_password(s, actor="test", user=users.get_user(s, "auditor"), password="correct horse battery")
        token = users.issue_token(s, actor="test", user=people["auditor"])
    assert (by_isp["Current"].state, by_isp["Current"].serial, by_isp["Current"].mismatch) == ("serving", new, None)
    assert (by_isp["Stale"].state, by_isp["Stale"].serial) == ("serving", old)
    assert by_isp["Stale"].acknowledged == new
    assert by_isp["Stale"].mismatch == f"acknowledges serial {new} but serves serial {old}"
    assert (by_isp["No list"].state, by_isp["No list"].serial) == ("none", None)
    assert by_isp["No list"].mismatch == f"acknowledges serial {new} but serves none of serials {new},{old}"
    # An NXDOMAIN policy answers a canary as it answers a name that does not exist: no measure, no flag.
    assert (by_isp["Nx"].state, by_isp["Nx"].mismatch) == ("unknown", None)
    # Since when: the first round that saw it, carried by the second.
    first_rows = {r.resolver: r for r in rows if r.round_id == first}
    assert {r.round_id for r in rows} == {first, second}
    assert by_isp["Current"].since == first_rows[by_isp["Current"].resolver].at
    assert by_isp["Current"].checked_at is not None and by_isp["Current"].checked_at > by_isp["Current"].since
    assert by_isp["Current"].detail.startswith(f"{new}: NOERROR ({rt.settings.stop_page_host}, ")
    assert by_isp["Current"].detail.endswith(f"{old}: NXDOMAIN")
    assert sorted(map(str, json.loads(event.details)["live"].values())) == sorted(map(str, [old, new, "none",
                                                                                             "unknown"]))

    client = TestClient(create_app(rt))
    login = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "auditor", "password": "correct horse battery", "csrf": csrf})
    html = client.get("/compliance").text
    assert "Version served per resolver" in html
    assert f"Stale: resolver {by_isp['Stale'].resolver} acknowledges serial {new} but does not serve it" in html
    assert "Current: resolver" not in html and 'class="mismatch"' in html
    body = client.get("/api/v1/compliance", headers={"Authorization": f"Bearer {token}"}).json()
    served = {r["isp_name"]: r for r in body["resolvers"]}
    assert served["Current"]["serial"] == new and served["Current"]["mismatch"] is None
    assert served["Stale"]["serial"] == old and served["Stale"]["acknowledged"] == new
    assert f"Stale: resolver {by_isp['Stale'].resolver} acknowledges serial {new} but serves serial {old}" in body[
        "alerts"]
