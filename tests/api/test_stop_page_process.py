"""`blocklist stop-page`: the stop page in a process of its own, answering on while the database is unavailable."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, select, text

from api.models import StopPageHit
from api.runtime import Runtime
from blocklist.models import User
from blocklist.settings import Settings
from tests.support.factories import approved
from tests.support.server import ServerProcess

LISTED, LATER = "csam-gallery.test", "later-gallery.test"


@contextmanager
def stop_page_process(settings: Settings, output: Path) -> Iterator[str]:
    """`blocklist stop-page` on a loopback port (yields its base URL); stopped with SIGTERM, as a service manager
    does, so that it stores its counts."""
    server = ServerProcess({"DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir),
                            "BLOCKLIST_DB_LOCK_TIMEOUT_SECONDS": "1", "PYTHONUNBUFFERED": "1"},
                           command="stop-page", output=output)
    server.start()
    try:
        yield server.base
    finally:
        server.stop()


@contextmanager
def database_unavailable(settings: Settings) -> Iterator[None]:
    """SQLite: another process holds the write lock (counts cannot be stored). PostgreSQL: every connection to
    the database is cut and new ones refused (nothing can be read either)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                     {"name": name})
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()


def stored_hits(rt: Runtime) -> dict[str, int]:
    with rt.database.reading() as s:
        return {domain: total for domain, total in s.execute(
            select(StopPageHit.domain, StopPageHit.count))}


def test_serves_the_stop_page_and_nothing_else(settings: Settings, rt: Runtime, people: dict[str, User],
                                               tmp_path: Path) -> None:
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], LISTED)
    with stop_page_process(settings, tmp_path / "stop-page.log") as base:
        page = httpx.get(f"{base}/any/path", headers={"Host": f"www.{LISTED}", "Accept-Language": "nl"}, timeout=5)
        assert page.status_code == 451 and LISTED in page.text and "x-request-id" not in page.headers
        assert httpx.get(f"{base}/", headers={"Host": "stop.blocklist.example"}, timeout=5).status_code == 451
        # The staff app's pages are not here: the appeal form and the statistics the page links to included (a
        # reverse proxy sends those to the staff app), nor anything on another host.
        for host, path in ((LISTED, "/appeal"), (LISTED, "/transparency"), ("blocklist.example", "/api/v1/submissions"),
                           ("127.0.0.1", "/login"), ("127.0.0.1", "/metrics"), ("127.0.0.1", "/readyz"),
                           ("127.0.0.1", "/docs"), ("127.0.0.1", "/openapi.json")):
            answer = httpx.get(f"{base}{path}", headers={"Host": host}, timeout=5)
            assert answer.status_code == 404, (host, path, answer.status_code)
    log = (tmp_path / "stop-page.log").read_text()
    assert "Application startup complete" in log
    for trace in (LISTED, "/any/path", "stop.blocklist.example"):
        assert trace not in log, f"{trace!r} appears in the output:\n{log}"


def test_keeps_answering_while_the_database_is_unavailable(settings: Settings, rt: Runtime,
                                                           people: dict[str, User], tmp_path: Path) -> None:
    with rt.database.transaction() as s:
        approved(s, people["officer"], people["magistrate"], LISTED)
    output = tmp_path / "stop-page.log"
    with stop_page_process(settings, output) as base, httpx.Client(base_url=base, timeout=5) as http:
        visits = 0
        with database_unavailable(settings):
            ends = time.monotonic() + 6  # several reloads and at least one flush due (every 5 s), each failing
            while time.monotonic() < ends:
                assert http.get("/", headers={"Host": LISTED}).status_code == 451  # never waits for the database
                assert http.get("/healthz").status_code == 200
                visits += 1
                time.sleep(0.1)
        # Back: a name approved now is stopped within a few reloads, and nothing counted meanwhile was lost.
        with rt.database.transaction() as s:
            approved(s, people["officer"], people["magistrate"], LATER)
        deadline = time.monotonic() + 20
        while http.get("/", headers={"Host": LATER}).status_code != 451:
            assert time.monotonic() < deadline, "the new name was never loaded"
            time.sleep(0.2)
    assert stored_hits(rt) == {LISTED: visits, LATER: 1}
    assert "the database failed" in output.read_text()
