"""Migrations serialised: hosts that start at once on an empty database do not both migrate it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from api.runtime import migration_locations
from blocklist.db import alembic_config, applied_revisions, newest_revisions
from tests.conftest import BACKENDS
from tests.support.postgres import scratch_database

BLOCKLIST = str(Path(sys.executable).with_name("blocklist"))
HOSTS = 4  # `blocklist db upgrade` processes started together


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no schema at all) of one backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with scratch_database(request.getfixturevalue("pg_base_url"), prefix="empty") as url:
        yield url


@pytest.mark.timeout(300)
def test_upgrades_started_together_on_an_empty_database_all_succeed(empty_url: str, tmp_path: Path) -> None:
    processes = [subprocess.Popen([BLOCKLIST, "db", "upgrade"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  env={**os.environ, "DATABASE_URL": empty_url,
                                       "BLOCKLIST_DATA_DIR": str(tmp_path / f"host{n}")})
                 for n in range(HOSTS)]
    said = [p.communicate(timeout=240)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0] * HOSTS, said
    engine = create_engine(empty_url)
    try:
        with engine.connect() as connection:
            assert applied_revisions(connection) == newest_revisions(alembic_config(empty_url, migration_locations()))
    finally:
        engine.dispose()
