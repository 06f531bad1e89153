"""A success status leaves only after its commit; Idempotency-Key bound to the caller and the request; load."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from api.runtime import Runtime
from blocklist import users
from blocklist.models import Submission
from tests.api.conftest import bearer
from tests.support.server import ServerProcess


@pytest.fixture
def served(rt: Runtime, tokens: dict[str, str]) -> Iterator[str]:
    """`blocklist serve` in its own process over this test's database (scheduler off); yields its base URL."""
    server = ServerProcess({"DATABASE_URL": rt.settings.resolved_database_url(),
                            "BLOCKLIST_DATA_DIR": str(rt.settings.data_dir), "BLOCKLIST_SCHEDULER": "false",
                            "BLOCKLIST_SESSION_COOKIE_SECURE": "false"})
    server.start()
    try:
        yield server.base
    finally:
        server.stop()


def case(domain: str) -> dict[str, Any]:
    return {"domain": domain, "legal_basis": "art39bis", "case_number": "TX/2026/1", "evidence_ref": "EV-tx",
            "verified_on": "2026-11-30", "hosting_country": "NL"}


def test_a_201_is_visible_to_another_connection_at_once(served: str, db_url: str, tokens: dict[str, str]) -> None:
    """Before: the commit ran after the answer was sent; another connection missed the row in ~all of 200."""
    other = create_engine(db_url)
    missed = []
    with httpx.Client(base_url=served, timeout=30) as client, other.connect() as conn:
        for i in range(60):
            answer = client.post("/api/v1/submissions", json=case(f"seen{i}.tx.test"),
                                 headers=bearer(tokens["officer"]))
            assert answer.status_code == 201
            found = conn.execute(text("SELECT count(*) FROM submissions WHERE id = :id"),
                                 {"id": answer.json()["id"]}).scalar_one()
            conn.rollback()
            if not found:
                missed.append(i)
        for _ in range(20):  # approvals take the same path
            sub_id = client.get("/api/v1/submissions", headers=bearer(tokens["auditor"]),
                                params={"status": "submitted"}).json()[0]["id"]
            assert client.post(f"/api/v1/submissions/{sub_id}/approve", json={},
                               headers=bearer(tokens["magistrate"])).status_code == 200
            status = conn.execute(text("SELECT status FROM submissions WHERE id = :id"), {"id": sub_id}).scalar_one()
            conn.rollback()
            if status != "approved":
                missed.append(f"approval {sub_id}")
    other.dispose()
    print(f"{len(missed)} of 80 acknowledged writes not yet visible to another connection")
    assert missed == []


def test_key_is_bound_to_the_caller_and_never_replayed_to_another(client: TestClient, tokens: dict[str, str]) -> None:
    # Before: a cookie user's keyed POST was stored under an empty credential, so anyone replayed it.
    with client.app.state.runtime.database.transaction() as session:  # type: ignore[attr-defined]
        users.set_password(session, actor="test", user=users.get_user(session, "admin"),
                           password="correct horse battery staple")
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    client.post("/login", data={"csrf": csrf, "username": "admin", "password": "correct horse battery staple"})
    by_cookie = client.post("/api/v1/users", json={"username": "cookie-made", "role": "auditor"},
                            headers={"Idempotency-Key": "k-cookie"})
    client.cookies.clear()
    replayed = client.post("/api/v1/users", json={"username": "cookie-made", "role": "auditor"},
                           headers={"Idempotency-Key": "k-cookie"})
    assert by_cookie.status_code == 401 and replayed.status_code == 401
    assert "idempotent-replayed" not in replayed.headers
    made = client.post("/api/v1/users", json={"username": "keyed-user", "role": "auditor"},
                       headers={**bearer(tokens["admin"]), "Idempotency-Key": "k-1"})
    assert made.status_code == 201
    # Before: the same key with no credential replayed the admin's answer (a new account's token in it).
    anonymous = client.post("/api/v1/users", json={"username": "keyed-user", "role": "auditor"},
                            headers={"Idempotency-Key": "k-1"})
    assert anonymous.status_code == 401 and "idempotent-replayed" not in anonymous.headers
    assert "keyed-user" not in anonymous.text
    again = client.post("/api/v1/users", json={"username": "keyed-user", "role": "auditor"},
                        headers={**bearer(tokens["admin"]), "Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true" and again.json() == made.json()
    other_path = client.post("/api/v1/isps", json={"name": "Keyed ISP", "email": "noc@keyed.example",
                                                  "language": "fr"},
                             headers={**bearer(tokens["admin"]), "Idempotency-Key": "k-1"})
    assert other_path.status_code == 422 and "different request" in other_path.json()["reason"]


def test_a_refused_keyed_request_stores_nothing_and_a_retry_is_judged_again(
        client: TestClient, tokens: dict[str, str]) -> None:
    headers = {**bearer(tokens["officer"]), "Idempotency-Key": "k-refused"}
    refused = client.post("/api/v1/submissions", json=case("192.0.2.1"), headers=headers)
    assert refused.status_code == 422
    with client.app.state.runtime.database.reading() as session:  # type: ignore[attr-defined]
        assert session.execute(text("SELECT count(*) FROM idempotency_records")).scalar_one() == 0


async def _storm(base: str, token: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=base, timeout=180, limits=limits) as client:
        async def one(i: int) -> int:
            response = await client.post("/api/v1/submissions", json=case(f"storm{i}.tx.test"),
                                         headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())})
            return response.status_code
        return list(await asyncio.gather(*(one(i) for i in range(count))))


@pytest.mark.slow
def test_200_concurrent_keyed_posts_all_succeed(rt: Runtime, served: str, tokens: dict[str, str]) -> None:
    """Before: 106 x 500 and 94 unanswered (pool exhausted, 'database is locked' outside the request slots)."""
    statuses = asyncio.run(_storm(served, tokens["officer"], 200))
    assert sorted(set(statuses)) == [201], {s: statuses.count(s) for s in set(statuses)}
    with rt.database.reading() as session:
        assert session.execute(select(func.count()).select_from(Submission)).scalar_one() == 200


def test_a_busy_database_answers_503_with_retry_after(rt: Runtime, tokens: dict[str, str]) -> None:
    """A writer that cannot get the lock in time is told to come back: JSON 503 + Retry-After, never a 500."""
    from api.app import create_app

    rt.settings.db_lock_timeout_seconds = 0.3
    rt.__dict__.pop("database", None)  # rebuilt with the short timeout
    client = TestClient(create_app(rt))
    url = rt.settings.resolved_database_url()
    blocker = create_engine(url, isolation_level=None if rt.database.dialect == "sqlite" else "AUTOCOMMIT")
    with blocker.connect() as conn:
        if rt.database.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's one write lock, held from outside
        else:
            conn.exec_driver_sql("BEGIN")
            conn.execute(text("SELECT last_id FROM audit_head WHERE id = 1 FOR UPDATE"))  # the chain's head, locked
        answer = client.post("/api/v1/submissions", json=case("busy.tx.test"), headers=bearer(tokens["officer"]))
        conn.exec_driver_sql("ROLLBACK")
    blocker.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] and "busy" in answer.json()["reason"]
    with rt.database.reading() as session:
        assert session.execute(select(func.count()).select_from(Submission)).scalar_one() == 0


def test_a_claim_left_by_a_crash_never_blocks_its_key(client: TestClient, rt: Runtime, tokens: dict[str, str]) -> None:
    """Before: a claim committed before the work, then a kill: that key answered 409 'still being processed'
    forever. Now nothing is claimed first; a claim left by the former scheme is completed by the retry."""
    import hashlib

    from api.models import IdempotencyRecord
    from blocklist.models import utcnow

    with rt.database.transaction() as session:
        officer = users.get_user(session, "officer")
        session.add(IdempotencyRecord(key=hashlib.sha256(f"user:{officer.id}\nk-stale".encode()).hexdigest(),
                                      method_path="POST /api/v1/submissions", body_sha256="", status_code=None,
                                      body=b"", created_at=utcnow()))
    headers = {**bearer(tokens["officer"]), "Idempotency-Key": "k-stale"}
    first = client.post("/api/v1/submissions", json=case("stale.tx.test"), headers=headers)
    again = client.post("/api/v1/submissions", json=case("stale.tx.test"), headers=headers)
    assert first.status_code == 201 and again.status_code == 201 and again.json() == first.json()
