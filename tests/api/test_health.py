"""/healthz and /readyz: no credential, nothing sensitive; ready only with the database, the schema at its newest
revision, the signing key and a scheduler known to run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from api import health, scheduler
from api.app import create_app
from api.runtime import Runtime
from blocklist.settings import Settings


def checks(answer: Any) -> dict[str, bool]:
    return {check["name"]: check["ok"] for check in answer.json()["checks"]}


def test_healthz_needs_nothing(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    assert "set-cookie" not in answer.headers


def test_ready_once_key_and_scheduler_are_there(client: TestClient, rt: Runtime) -> None:
    fresh = client.get("/readyz")  # a migrated database, but no feed published yet and no scheduler anywhere
    assert fresh.status_code == 503 and fresh.json()["status"] == "not ready"
    assert checks(fresh) == {"database": True, "migrations": True, "signing_key": False, "scheduler": False}
    rt.keys.active_key_id()  # the first publication generates it
    health.beat(rt.job_context)  # a scheduler in another process wrote its heartbeat
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert all(check["ok"] for check in ready.json()["checks"])
    assert "heartbeat" in {c["name"]: c["detail"] for c in ready.json()["checks"]}["scheduler"]


def test_the_scheduler_of_this_process_counts(rt: Runtime) -> None:
    rt.keys.active_key_id()
    app = create_app(rt)
    with TestClient(app) as client:
        assert checks(client.get("/readyz"))["scheduler"] is False  # BLOCKLIST_SCHEDULER=false in the tests
        app.state.scheduler = scheduler.start(rt, jobs=[])  # what the lifespan starts when the setting is true
        try:
            answer = client.get("/readyz")
        finally:
            app.state.scheduler.shutdown(wait=False)
    assert answer.status_code == 200
    assert {c["name"]: c["detail"] for c in answer.json()["checks"]}["scheduler"] == "runs in this process"


def test_not_ready_when_migrations_are_behind(client: TestClient, rt: Runtime) -> None:
    rt.keys.active_key_id()
    health.beat(rt.job_context)
    with rt.database.transaction() as s:  # as if this release's newest migration had not run yet
        s.execute(text("UPDATE alembic_version SET version_num = 'api_0002' WHERE version_num = 'api_0003'"))
    answer = client.get("/readyz")
    assert answer.status_code == 503 and checks(answer)["migrations"] is False
    detail = {c["name"]: c["detail"] for c in answer.json()["checks"]}["migrations"]
    assert "api_0003" in detail and "blocklist db upgrade" in detail
    with rt.database.transaction() as s:
        s.execute(text("UPDATE alembic_version SET version_num = 'api_0003' WHERE version_num = 'api_0002'"))
    assert client.get("/readyz").status_code == 200


def test_not_ready_when_the_key_is_missing(client: TestClient, rt: Runtime) -> None:
    rt.keys.active_key_id()
    health.beat(rt.job_context)
    assert client.get("/readyz").status_code == 200
    (rt.settings.data_dir / "keys" / "active.key").rename(rt.settings.data_dir / "elsewhere.key")
    answer = client.get("/readyz")
    assert answer.status_code == 503 and checks(answer)["signing_key"] is False


def test_not_ready_when_the_database_does_not_answer(tmp_path: Path) -> None:
    """A database that cannot be opened (a directory where the file should be): 503, and not a word of where."""
    folder = tmp_path / "secret-location"
    folder.mkdir()
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=tmp_path / "data",  # type: ignore[call-arg]
                          DATABASE_URL=f"sqlite:///{folder}", scheduler=False))
    answer = TestClient(create_app(rt)).get("/readyz")
    assert answer.status_code == 503
    assert checks(answer) == {"database": False, "migrations": False, "signing_key": False, "scheduler": False}
    assert "secret-location" not in answer.text and str(tmp_path) not in answer.text
    rt.database.dispose()
