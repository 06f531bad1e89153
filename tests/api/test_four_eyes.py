"""No one person, an administrator included, can produce a decision that looks like two people's."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.cli import main
from api.runtime import Runtime
from blocklist import users
from blocklist.models import AuditEvent
from tests.api.conftest import bearer


def case(domain: str) -> dict[str, str]:
    return {"domain": domain, "legal_basis": "art39bis", "case_number": "4E/2026/1", "evidence_ref": "EV-4e",
            "verified_on": "2026-11-30", "hosting_country": "NL"}


def operator_token(rt: Runtime, username: str) -> str:
    """What the operator on the server can do: revoke and print a fresh token (never reachable over HTTP)."""
    with rt.database.transaction() as s:
        return users.reset_token(s, actor="operator", user=users.get_user(s, username))


def test_an_admin_alone_never_holds_a_credential_of_another(client: TestClient, tokens: dict[str, str]) -> None:
    """Before: POST /users returned the new account's token, POST /users/{name}/token a fresh one."""
    admin = bearer(tokens["admin"])
    for name, role in (("sock-officer", "officer"), ("sock-magistrate", "magistrate")):
        made = client.post("/api/v1/users", json={"username": name, "role": role}, headers=admin)
        assert made.status_code == 201 and "token" not in made.json() and "bl_" not in made.text
    reset = client.post("/api/v1/users/magistrate/token", headers=admin)
    assert reset.status_code == 200 and "bl_" not in reset.text
    # The magistrate's old token no longer works; the account awaits a second person's confirmation.
    assert client.get("/api/v1/me", headers=bearer(tokens["magistrate"])).status_code == 401
    assert reset.json()["confirmed"] is False


def test_a_changed_decision_maker_cannot_decide_until_a_second_admin_confirms(
        client: TestClient, rt: Runtime, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    client.post("/api/v1/users", json={"username": "new-magistrate", "role": "magistrate"}, headers=admin)
    with rt.database.transaction() as s:  # the operator's one-time link; the person enrols with it
        code = users.start_enrolment(s, actor="operator", user=users.get_user(s, "new-magistrate"))
        _, token = users.enrol(s, code=code, password="a sturdy long passphrase")
    sub = client.post("/api/v1/submissions", json=case("four-eyes.test"), headers=bearer(tokens["officer"])).json()
    refused = client.post(f"/api/v1/submissions/{sub['id']}/approve", json={}, headers=bearer(token))
    assert refused.status_code == 403 and "awaits confirmation" in refused.json()["reason"]
    own = client.post("/api/v1/users/new-magistrate/confirm", headers=admin)
    assert own.status_code == 403 and "cannot also confirm" in own.json()["reason"]
    with rt.database.transaction() as s:
        second_admin = users.create_user(s, actor="operator", username="admin-two", role="admin")[1]
    confirmed = client.post("/api/v1/users/new-magistrate/confirm", headers=bearer(second_admin))
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_by"] == "user:admin-two"
    assert client.post(f"/api/v1/submissions/{sub['id']}/approve", json={}, headers=bearer(token)).status_code == 200
    with rt.database.reading() as s:
        trail = [(e.actor, e.action) for e in s.execute(select(AuditEvent).where(
            AuditEvent.object_type == "user", AuditEvent.action.in_(("user.created", "user.confirmed")),
            AuditEvent.details.like('%new-magistrate%')).order_by(AuditEvent.id)).scalars()]
    assert trail == [("user:admin", "user.created"), ("user:admin-two", "user.confirmed")]


def test_an_admin_cannot_give_themself_or_confirm_a_new_role(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    mine = client.post("/api/v1/users/admin/role", json={"role": "magistrate"}, headers=admin)
    assert mine.status_code == 403
    moved = client.post("/api/v1/users/officer/role", json={"role": "magistrate"}, headers=admin)
    assert moved.status_code == 200 and moved.json()["confirmed"] is False
    assert client.post("/api/v1/users/officer/confirm", headers=admin).status_code == 403
    assert client.get("/api/v1/submissions", headers=bearer(tokens["officer"])).status_code == 403


def test_an_unconfirmed_admin_cannot_confirm_anyone(client: TestClient, rt: Runtime, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    client.post("/api/v1/users", json={"username": "sock-admin", "role": "admin"}, headers=admin)
    client.post("/api/v1/users", json={"username": "sock-auditor", "role": "auditor"}, headers=admin)
    sock = operator_token(rt, "sock-admin")
    with rt.database.transaction() as s:
        users.revoke_credentials(s, actor=users.get_user(s, "admin"), user=users.get_user(s, "sock-admin"))
    assert client.post("/api/v1/users/sock-auditor/confirm", headers=bearer(sock)).status_code == 401
    with rt.database.transaction() as s:
        code = users.start_enrolment(s, actor="operator", user=users.get_user(s, "sock-admin"))
        _, sock = users.enrol(s, code=code, password="a sturdy long passphrase")
    refused = client.post("/api/v1/users/sock-auditor/confirm", headers=bearer(sock))
    assert refused.status_code == 403 and "awaits confirmation" in refused.json()["reason"]


@pytest.mark.parametrize("path", ["/api/v1/submissions/{id}/approve", "/api/v1/users/officer/token",
                                  "/api/v1/isps/1/credential"])
def test_the_api_takes_no_session_cookie(client: TestClient, rt: Runtime, tokens: dict[str, str], path: str) -> None:
    """Before: the cookie alone, from Origin http://evil.example, approved, issued tokens and credentials."""
    with rt.database.transaction() as s:
        for name in ("magistrate", "admin"):
            users.set_password(s, actor="test", user=users.get_user(s, name), password="correct horse battery")
    sub = client.post("/api/v1/submissions", json=case("cookie.test"), headers=bearer(tokens["officer"])).json()
    who = "admin" if "approve" not in path else "magistrate"
    login = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data={"csrf": csrf, "username": who, "password": "correct horse battery"},
                       follow_redirects=False).status_code == 303
    answer = client.post(path.format(id=sub["id"]), json={}, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 401
    with rt.database.reading() as s:
        assert not s.execute(select(AuditEvent).where(AuditEvent.action.in_(
            ("submission.approved", "user.token_issued", "isp.credential_rotated"))).where(
            AuditEvent.actor.in_(("user:magistrate", "user:admin")))).first()


def test_enrolment_link_sets_the_persons_own_password_once(client: TestClient, rt: Runtime,
                                                           tokens: dict[str, str]) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": rt.settings.resolved_database_url(), "BLOCKLIST_DATA_DIR": str(rt.settings.data_dir)}
    client.post("/api/v1/users", json={"username": "enrolee", "role": "auditor"}, headers=bearer(tokens["admin"]))
    printed = runner.invoke(main, ["user", "enrol", "enrolee"], env=env)
    assert printed.exit_code == 0, printed.output
    link = printed.output.strip().splitlines()[-1]
    path = link.removeprefix("http://127.0.0.1:8000")
    form = client.get(path)
    assert form.status_code == 200 and "enrolee" in form.text and form.headers["cache-control"] == "no-store"
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    weak = client.post(path, data={"csrf": csrf, "password": "1234567890"})
    assert weak.status_code == 422
    done = client.post(path, data={"csrf": csrf, "password": "a sturdy long passphrase"})
    token = re.search(r"<code>(bl_[^<]+)</code>", done.text).group(1)  # type: ignore[union-attr]
    assert client.get("/api/v1/me", headers=bearer(token)).json()["username"] == "enrolee"
    assert client.get(path).status_code == 401  # used: never again
    # Still unconfirmed (an administrator made it): the operator confirms on the server.
    assert client.get("/api/v1/submissions", headers=bearer(token)).status_code == 403
    confirmed = runner.invoke(main, ["user", "confirm", "enrolee"], env=env)
    assert confirmed.exit_code == 0 and "confirmed auditor 'enrolee'" in confirmed.output
    assert client.get("/api/v1/submissions", headers=bearer(token)).status_code == 200
