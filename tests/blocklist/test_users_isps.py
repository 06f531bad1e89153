"""Accounts, tokens and the ISP registry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from blocklist import isps, users
from blocklist.db import Database
from blocklist.errors import Conflict, InvalidInput, Unauthenticated
from blocklist.models import ApiToken, Isp
from blocklist.tokens import token_hash


def test_tokens_are_stored_hashed_and_revocable(database: Database) -> None:
    with database.transaction() as s:
        _, token = users.create_user(s, actor="test", username="anna", role="auditor")
    with database.transaction() as s:
        stored = s.execute(select(ApiToken.token_hash)).scalars().all()
        assert token not in stored and token_hash(token) in stored
        assert users.user_by_token(s, token).username == "anna"
        fresh = users.reset_token(s, actor="test", user=users.get_user(s, "anna"))
    with database.transaction() as s:
        with pytest.raises(Unauthenticated):
            users.user_by_token(s, token)
        assert users.user_by_token(s, fresh).username == "anna"
        users.set_active(s, actor="test", user=users.get_user(s, "anna"), active=False)
    with database.transaction() as s, pytest.raises(Unauthenticated, match="disabled"):
        users.user_by_token(s, fresh)


def test_passwords_use_argon2(database: Database) -> None:
    with database.transaction() as s:
        user, _ = users.create_user(s, actor="test", username="anna", role="officer", password="long enough pw")
        assert user.password_hash and user.password_hash.startswith("$argon2id$")
    with database.transaction() as s:
        assert users.check_password(s, "anna", "long enough pw").username == "anna"
        with pytest.raises(Unauthenticated, match="wrong username or password"):
            users.check_password(s, "anna", "wrong password")
        with pytest.raises(Unauthenticated, match="wrong username or password"):
            users.check_password(s, "nobody", "long enough pw")
    with database.transaction() as s, pytest.raises(InvalidInput, match="10 characters"):
        users.create_user(s, actor="test", username="ben", role="officer", password="short")


def test_unknown_role_refused(database: Database) -> None:
    with database.transaction() as s, pytest.raises(InvalidInput, match="unknown role"):
        users.create_user(s, actor="test", username="anna", role="superuser")


def test_isp_registry(database: Database) -> None:
    with database.transaction() as s:
        _, credential = isps.add_isp(s, actor="test", name="ISP One", email="NOC@ISP-One.Example", language="de",
                                       resolvers=["127.0.0.1", "[::1]:5353"], policy="nxdomain", operator_id="BIPT-1")
    with database.transaction() as s:
        found = isps.isp_by_token(s, credential)
        assert (found.name, found.email, found.policy) == ("ISP One", "NOC@isp-one.example", "nxdomain")
        assert [(r.address, r.port) for r in found.resolvers] == [("127.0.0.1", 53), ("::1", 5353)]
        assert credential not in s.execute(select(Isp.feed_token_hash)).scalars().all()
        assert isps.isp_own_domains(s) == ["isp-one.example"]
        new = isps.rotate_credential(s, actor="test", isp=found)
    with database.transaction() as s:
        with pytest.raises(Unauthenticated):
            isps.isp_by_token(s, credential)
        assert isps.isp_by_token(s, new).name == "ISP One"
        with pytest.raises(Conflict):
            isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "", "not a valid e-mail"),
        ("email", "noc@", "not a valid e-mail"),
        ("email", "noc@localhost", "no domain"),
        ("language", "es", "language must be one of"),
        ("policy", "drop", "policy must be one of"),
    ],
)
def test_isp_refusals(database: Database, field: str, value: str, message: str) -> None:
    fields = {"name": "ISP", "email": "noc@isp.example", "language": "fr", "policy": "stoppage"}
    fields[field] = value
    with database.transaction() as s, pytest.raises(InvalidInput, match=message):
        isps.add_isp(s, actor="test", **fields)
