"""Account management through the JSON API and the `blocklist user` commands: profile, tokens, the refusals that
keep an administrator able to act (409 with a reason; exit 2 with a message)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.runtime import Runtime
from blocklist import audit, users
from blocklist.models import AuditEvent, User
from blocklist.settings import Settings
from tests.api.conftest import bearer
from tests.api.test_cli import run


def test_an_admin_cannot_disable_their_own_nor_the_last_admin_account(client: TestClient, tokens: dict[str, str],
                                                                    rt: Runtime) -> None:
    admin = bearer(tokens["admin"])
    own = client.post("/api/v1/users/admin/active", json={"active": False}, headers=admin)
    assert own.status_code == 409 and "their own account" in own.json()["reason"]
    with rt.database.transaction() as s:
        users.create_user(s, actor="test", username="deputy", role="admin")
    # Another administrator may; the last one left is then kept by the operator's commands too (below).
    with rt.database.transaction() as s:
        deputy = users.issue_token(s, actor="test", user=users.get_user(s, "deputy"))
    assert client.post("/api/v1/users/admin/active", json={"active": False}, headers=bearer(deputy)).status_code == 200
    own = client.post("/api/v1/users/deputy/active", json={"active": False}, headers=bearer(deputy))
    assert own.status_code == 409
    with rt.database.reading() as s:
        assert users.get_user(s, "deputy").active and not users.get_user(s, "admin").active


def test_profile_and_tokens(client: TestClient, tokens: dict[str, str], people: dict[str, User]) -> None:
    admin = bearer(tokens["admin"])
    changed = client.post("/api/v1/users/officer/profile", json={"language": "nl", "display_name": "Anna P."},
                          headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "nl" and changed.json()["confirmed"] is True
    moved = client.post("/api/v1/users/officer/profile", json={"email": "anna@police.example"}, headers=admin)
    assert moved.json()["confirmed"] is False  # a new address waits for a second administrator
    assert moved.json()["has_email"] is True and moved.json()["has_password"] is False  # never the address itself
    assert "anna@police.example" not in moved.text
    assert client.post("/api/v1/users/officer/profile", json={"language": "xx"}, headers=admin).status_code == 422
    assert client.get("/api/v1/users/officer", headers=admin).json()["display_name"] == "Anna P."

    listed = client.get("/api/v1/users/officer2/tokens", headers=admin)
    assert listed.status_code == 200
    (token,) = [t for t in listed.json() if t["prefix"] == tokens["officer2"][:12]]
    assert token["active"] and tokens["officer2"] not in listed.text
    assert client.get("/api/v1/me", headers=bearer(tokens["officer2"])).status_code == 200
    revoked = client.post(f"/api/v1/users/officer2/tokens/{token['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.get("/api/v1/me", headers=bearer(tokens["officer2"])).status_code == 401
    again = client.post(f"/api/v1/users/officer2/tokens/{token['id']}/revoke", headers=admin)
    assert again.status_code == 409
    assert client.post(f"/api/v1/users/officer/tokens/{token['id']}/revoke", headers=admin).status_code == 404
    no_mail = client.post("/api/v1/users/officer2/enrolment", headers=admin)
    assert no_mail.status_code == 422 and "e-mail address" in no_mail.json()["reason"]


def test_the_user_commands_refuse_with_exit_2(settings: Settings) -> None:
    assert run(settings, "user", "add", "root", "--role", "admin").exit_code == 0
    assert run(settings, "user", "add", "carla", "--role", "officer").exit_code == 0
    last = run(settings, "user", "disable", "root")
    assert last.exit_code == 2 and "last administrator" in last.output
    demoted = run(settings, "user", "set-role", "root", "officer")
    assert demoted.exit_code == 2 and "last administrator" in demoted.output
    assert run(settings, "user", "set-language", "carla", "de").output.strip() == "'carla' now reads de"
    listing = run(settings, "user", "list").output
    assert "carla\tofficer\tde\tenabled" in listing and "root\tadmin" in listing
    tokens = run(settings, "user", "tokens", "carla")
    assert tokens.exit_code == 0 and "\tactive" in tokens.output
    prefix = tokens.output.split("\t")[1].rstrip(".")
    assert run(settings, "user", "revoke-token", "carla", prefix).exit_code == 0
    assert "revoked" in run(settings, "user", "tokens", "carla").output
    again = run(settings, "user", "revoke-token", "carla", prefix)
    assert again.exit_code == 2 and "already revoked" in again.output
    assert run(settings, "user", "revoke-token", "carla", "bl_nothing").exit_code == 2
    assert run(settings, "user", "tokens", "nobody").exit_code == 2
    assert run(settings, "audit", "verify").exit_code == 0


def test_every_change_is_audited(client: TestClient, tokens: dict[str, str], rt: Runtime,
                                people: dict[str, User]) -> None:
    admin = bearer(tokens["admin"])
    assert client.post("/api/v1/users/officer/profile", json={"language": "fr"}, headers=admin).status_code == 200
    token_id = client.get("/api/v1/users/officer2/tokens", headers=admin).json()[0]["id"]
    assert client.post(f"/api/v1/users/officer2/tokens/{token_id}/revoke", headers=admin).status_code == 200
    with rt.database.reading() as s:
        assert audit.verify(s).intact
        found = {(e.action, e.object_id) for e in s.execute(select(AuditEvent)).scalars()}
    assert ("user.updated", str(people["officer"].id)) in found
    assert ("user.token_revoked", str(people["officer2"].id)) in found
