"""Shared fixtures: a real database per test, on SQLite and on PostgreSQL, cloned from a migrated template.

Select backends with BLOCKLIST_TEST_DATABASES (default "sqlite,postgresql").
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api.runtime import Runtime, upgrade_database
from blocklist import users
from blocklist.db import Database
from blocklist.models import User
from blocklist.settings import Settings
from tests.support import ci, postgres
from tests.support.ci import missing
from tests.support.postgres import scratch_database
from tests.support.real_components import RealComponents
from tests.support.reserved_names import PROTECTED

BACKENDS = [b.strip() for b in os.environ.get("BLOCKLIST_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]


def pytest_configure(config: pytest.Config) -> None:
    # The run's last line: how many tests ran against real components, how many skipped for want of one.
    config.pluginmanager.register(RealComponents(), "real-components")



@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """The base URL of a PostgreSQL cluster started for this test session."""
    ci.used("PostgreSQL")  # every test that asks for this fixture, even indirectly, runs against it
    if os.environ.get("BLOCKLIST_TEST_POSTGRES_URL"):
        yield os.environ["BLOCKLIST_TEST_POSTGRES_URL"]
        return
    if not postgres.available():
        missing("PostgreSQL", "install Debian's postgresql package (.ci/run does)")
    with postgres.temporary_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_base_url: str) -> str:
    """A PostgreSQL database migrated once; each test gets a clone (CREATE DATABASE ... TEMPLATE)."""
    admin = create_engine(f"{pg_base_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS bl_template"))
        conn.execute(text("CREATE DATABASE bl_template"))
    admin.dispose()
    upgrade_database(f"{pg_base_url}/bl_template")
    return "bl_template"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database of one backend, private to this test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    base: str = request.getfixturevalue("pg_base_url")
    template_name: str = request.getfixturevalue("pg_template")
    with scratch_database(base, template=template_name) as url:
        yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at this test's database and a private data directory."""
    # Periodic jobs stay off: tests run each job explicitly, so nothing happens behind their back.
    # Test clients and live servers speak plain http, where a browser never sends back a Secure cookie.
    # One protected name of the reserved namespace beside the shipped list (tests/support/reserved_names.py).
    return Settings(BLOCKLIST_DATA_DIR=tmp_path / "data", DATABASE_URL=db_url, scheduler=False,  # type: ignore[call-arg]
                    session_cookie_secure=False, protected_extra=PROTECTED)


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """A Runtime over this test's database."""
    runtime = Runtime(settings)
    yield runtime
    runtime.database.dispose()


@pytest.fixture
def database(rt: Runtime) -> Database:
    """This test's database."""
    return rt.database


@pytest.fixture
def people(database: Database) -> dict[str, User]:
    """One account per role, plus a second officer and a second magistrate."""
    created: dict[str, User] = {}
    with database.transaction() as session:
        for username, role in [("officer", "officer"), ("officer2", "officer"), ("magistrate", "magistrate"),
                               ("magistrate2", "magistrate"), ("auditor", "auditor"), ("admin", "admin")]:
            # No password: argon2 is deliberately slow, and these accounts use API tokens.
            created[username], _ = users.create_user(session, actor="test", username=username, role=role)
    return created
