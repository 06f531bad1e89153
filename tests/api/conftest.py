"""A TestClient over this test's database, and a bearer token per role and for an ISP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist import isps, partners, users
from blocklist.models import User
from blocklist.settings import Settings
from tests.conftest import BACKENDS
from tests.support.postgres import scratch_database
from tests.support.smtp import SmtpServer, smtp_server


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


@pytest.fixture
def pg_rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """A Runtime over a fresh, migrated PostgreSQL database of its own, for tests of several processes on one
    PostgreSQL (test_workers.py, test_leader.py); the publication gate off (they approve many names at once)."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL not among BLOCKLIST_TEST_DATABASES")
    base: str = request.getfixturevalue("pg_base_url")
    with scratch_database(base, template=request.getfixturevalue("pg_template")) as url:
        runtime = Runtime(Settings(BLOCKLIST_DATA_DIR=tmp_path / "data", DATABASE_URL=url,  # type: ignore[call-arg]
                                   scheduler=False, feed_gate_min_changes=1_000_000))
        yield runtime
        runtime.database.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback for the requisitions."""
    with smtp_server() as server:
        yield server
