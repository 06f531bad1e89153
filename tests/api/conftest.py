"""A TestClient over this test's database, and a bearer token per role and for an ISP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist import isps, partners, users
from blocklist.models import User


@pytest.fixture
def client(rt: Runtime) -> TestClient:
    return TestClient(create_app(rt))


@pytest.fixture
def tokens(rt: Runtime, people: dict[str, User]) -> dict[str, str]:
    """Authorization headers' tokens: one per account in `people`, plus `isp` (a feed credential) and `partner` (a
    partner hotline's credential)."""
    found = {}
    with rt.database.transaction() as s:
        for name, user in people.items():
            found[name] = users.issue_token(s, actor="test", user=user)
        found["isp"] = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")[1]
        found["partner"] = partners.add_partner(s, actor="test", name="Hotline One")[1]
    return found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
