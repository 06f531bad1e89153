"""Account management by administrators: profile, tokens, enrolment by e-mail, and the guards that keep an
administrator able to act (never their own account, never the last one)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from blocklist import audit, users
from blocklist.db import Database
from blocklist.errors import Conflict, Forbidden, InvalidInput, MailError, NotFound, Unauthenticated
from blocklist.models import AuditEvent, User
from blocklist.roles import require_role
from blocklist.settings import Settings
from tests.support.factories import make_user
from tests.support.ports import free_port
from tests.support.smtp import smtp_server


def _events(database: Database, action: str) -> list[dict[str, object]]:
    with database.reading() as s:
        return [json.loads(d) for d in s.execute(select(AuditEvent.details).where(AuditEvent.action == action))
                .scalars()]


def test_an_admin_cannot_disable_themselves_nor_the_last_admin(database: Database) -> None:
    with database.transaction() as s:
        admin = make_user(s, "admin", "root")
        with pytest.raises(Conflict, match="cannot disable their own account"):
            users.set_active(s, actor=admin, user=admin, active=False)
    with database.transaction() as s, pytest.raises(Conflict, match="last administrator"):
        # Not even the operator: nobody could manage accounts any more.
        users.set_active(s, actor="cli", user=users.get_user(s, "root"), active=False)
    with database.transaction() as s, pytest.raises(Conflict, match="last administrator"):
        users.set_role(s, actor="cli", user=users.get_user(s, "root"), role="auditor")
    with database.transaction() as s:
        second = make_user(s, "admin", "second")
        users.set_active(s, actor=second, user=users.get_user(s, "root"), active=False)  # another admin may
    with database.transaction() as s:
        assert not users.get_user(s, "root").active
        with pytest.raises(Conflict, match="last administrator"):
            users.set_active(s, actor="cli", user=users.get_user(s, "second"), active=False)
    assert [e["username"] for e in _events(database, "user.disabled")] == ["root"]


def test_an_unconfirmed_admin_is_not_counted_as_one_who_can_act(database: Database) -> None:
    with database.transaction() as s:
        root = make_user(s, "admin", "root")
        users.create_account(s, actor=root, username="fresh", role="admin")  # awaits a second person
    with database.transaction() as s, pytest.raises(Conflict, match="last administrator"):
        users.set_active(s, actor="cli", user=users.get_user(s, "root"), active=False)


def test_profile_changes_are_audited_and_a_new_address_waits_for_confirmation(database: Database) -> None:
    with database.transaction() as s:
        root, other = make_user(s, "admin", "root"), make_user(s, "admin", "other")
        anna = make_user(s, "officer", "anna")
        users.update_profile(s, actor=root, user=anna, display_name="Anna Peeters", language="nl")
        assert anna.confirmed_at is not None  # a name and a language give no one a credential
        users.update_profile(s, actor=root, user=anna, email="Anna@Police.Example")
        assert anna.email == "Anna@police.example" and anna.confirmed_at is None
        assert anna.credentialed_by == "user:root"
        with pytest.raises(Forbidden):
            users.confirm(s, actor=root, user=anna)  # the one who changed it cannot confirm it
        users.confirm(s, actor=other, user=anna)
        assert users.update_profile(s, actor=root, user=anna, language="nl") is anna  # no change, no event
    updated = _events(database, "user.updated")
    assert updated == [{"username": "anna", "display_name": "Anna Peeters", "language": "nl"},
                       {"username": "anna", "email": "Anna@police.example"}]
    with database.transaction() as s:
        root = users.get_user(s, "root")
        for bad in ({"language": "xx"}, {"email": "not an address"}):
            with pytest.raises(InvalidInput):
                users.update_profile(s, actor=root, user=users.get_user(s, "anna"), **bad)
        with pytest.raises(Forbidden):
            users.update_profile(s, actor=users.get_user(s, "anna"), user=root, language="fr")


def test_tokens_are_listed_by_prefix_and_revoked_one_by_one(database: Database) -> None:
    with database.transaction() as s:
        root = make_user(s, "admin", "root")
        anna = make_user(s, "officer", "anna")
        second = users.issue_token(s, actor="cli", user=anna)
        listed = users.tokens_of(s, anna)
        assert [t.prefix for t in listed] == [second[:12], listed[1].prefix]  # newest first
        assert all(len(t.prefix) == 12 for t in listed)
        revoked = users.revoke_token(s, actor=root, user=anna, token_id=listed[0].id)
        assert revoked.revoked_at is not None
        with pytest.raises(Conflict, match="already revoked"):
            users.revoke_token(s, actor=root, user=anna, token_id=listed[0].id)
        with pytest.raises(NotFound):
            users.revoke_token(s, actor=root, user=root, token_id=listed[1].id)  # not root's token
        assert users.token_by_prefix(s, anna, listed[1].prefix[:6]).id == listed[1].id
    with database.transaction() as s, pytest.raises(Unauthenticated):
        users.user_by_token(s, second)
    assert _events(database, "user.token_revoked")[0]["prefix"] == second[:12]


def test_an_enrolment_link_is_mailed_to_the_person_never_shown_to_the_admin(database: Database,
                                                                           settings: Settings) -> None:
    port = free_port()
    config = settings.model_copy(update={"smtp_port": port, "smtp_timeout": 3.0,
                                         "public_url": "https://blocklist.example"})
    with database.transaction() as s:
        root = make_user(s, "admin", "root")
        make_user(s, "admin", "other")
        users.create_account(s, actor=root, username="bob", role="auditor", email="bob@justice.example")
        with pytest.raises(Conflict, match="already has a password"):
            users.mail_enrolment(s, actor=root, user=make_user(s, "officer", "pw", password="a long passphrase ok"),
                                 settings=config)
        with pytest.raises(InvalidInput, match="no e-mail address"):
            users.mail_enrolment(s, actor=root, user=make_user(s, "officer", "nomail"), settings=config)
    with smtp_server(port=port) as server, database.transaction() as s:
        shown = users.mail_enrolment(s, actor=users.get_user(s, "root"), user=users.get_user(s, "bob"),
                                     settings=config)
        assert shown.confirmed_at is None and shown.credentialed_by == "user:root"
    (message,) = server.inbox.messages
    assert message["To"] == "bob@justice.example"
    code = re.search(r"https://blocklist\.example/enrol/(enrol_\S+)", message.get_content()).group(1)  # type: ignore[union-attr]
    details = json.dumps([_events(database, a) for a in ("user.enrolment_mailed", "user.confirmation_required")])
    assert code not in details and "bob@justice.example" in details
    with database.transaction() as s:
        person, token = users.enrol(s, code=code, password="a quiet harbour at dawn")
        assert person.username == "bob"
        with pytest.raises(Forbidden, match="awaits confirmation"):
            require_role(users.user_by_token(s, token), "auditor", action="read")
        users.confirm(s, actor=users.get_user(s, "other"), user=person)
        assert users.check_password(s, "bob", "a quiet harbour at dawn").id == person.id
    with database.reading() as s:
        assert audit.verify(s).intact


def test_a_refused_mail_writes_nothing(database: Database, settings: Settings) -> None:
    config = settings.model_copy(update={"smtp_port": free_port(), "smtp_timeout": 1.0})  # nobody listens
    with database.transaction() as s:
        root = make_user(s, "admin", "root")
        users.create_account(s, actor=root, username="bob", role="auditor", email="bob@justice.example")
    with database.reading() as s:
        before = audit.current_head(s)
    with pytest.raises(MailError), database.transaction() as s:
        users.mail_enrolment(s, actor=users.get_user(s, "root"), user=users.get_user(s, "bob"), settings=config)
    with database.reading() as s:
        assert audit.current_head(s) == before
        assert s.execute(select(User.credentialed_by).where(User.username == "bob")).scalar_one() == "user:root"
