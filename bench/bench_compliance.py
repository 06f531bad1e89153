"""Verification at scale, end to end: N blocked names (default 100,000), a real round against 3 ISPs (one local
Unbound, rate limit off) stored as evidence, then the compliance figures and the /compliance page."""

from __future__ import annotations

import datetime as dt
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from blocklist import isps, users, workflow
from blocklist.schemas import SubmissionCreate
from blocklist.settings import Settings
from isp_feed import compliance, verification
from tests.support.resolvers import start_internet

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def _database_bytes(rt: Runtime) -> int:
    """The database's size: its pages in use (SQLite, after a checkpoint of its write-ahead log)."""
    import sqlite3

    path = rt.settings.resolved_database_url().removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (connection.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
    finally:
        connection.close()
    return int((pages - free) * size)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-compliance-"))
    # The test client speaks plain http, where a Secure session cookie is never sent back.
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder, session_cookie_secure=False))  # type: ignore[call-arg]
    rt.ensure_schema()
    with rt.database.transaction() as s:
        officer, _ = users.create_user(s, actor="bench", username="officer", role="officer")
        magistrate, _ = users.create_user(s, actor="bench", username="magistrate", role="magistrate")
        users.create_user(s, actor="bench", username="auditor", role="auditor", password="correct horse battery")
    started = time.monotonic()
    policy = None
    for start in range(0, N, 5000):
        with rt.database.transaction() as s:
            policy = policy or rt.name_policy(s)
            ids = [workflow.submit(s, actor=s.merge(officer), policy=policy, data=SubmissionCreate(
                domain=f"n{i}.csam-gallery.test", legal_basis="art39bis", case_number="FCCU-2026-0001",
                evidence_ref="EVD-1", verified_on=dt.date.today(), hosting_country="NL")).id
                for i in range(start, min(N, start + 5000))]
        with rt.database.transaction() as s:
            workflow.approve(s, actor=s.merge(magistrate), submission_ids=ids)
    print(f"{N} names submitted and approved in {time.monotonic() - started:.1f} s (set-up)")
    with start_internet(folder) as unbound:
        with rt.database.transaction() as s:
            for name in ("ISP A", "ISP B", "ISP C"):
                isps.add_isp(s, actor="bench", name=name, email=f"noc@{name[-1].lower()}.example", language="fr",
                             resolvers=[f"127.0.0.1:{unbound.port}"])
        settings = rt.settings.model_copy(update={"verify_control_resolver": f"127.0.0.1:{unbound.port}",
                                                  "verify_rate_qps": 0, "verify_timeout": 3.0})
        for day in (1, 2):  # the second: a day on which nothing changed (the evidence is the same answers again)
            before = _database_bytes(rt)
            started = time.monotonic()
            verification.verify(rt.database, settings)
            took, grew = time.monotonic() - started, (_database_bytes(rt) - before) / 2**20
            print(f"round {day} over {N} names x 3 ISPs, verdicts and evidence stored: {took:.1f} s; "
                  f"the database grew by {grew:.0f} MiB")
    with rt.database.transaction() as s:
        started = time.monotonic()
        figures = compliance.compliance(s)
        print(f"compliance figures ({len(figures)} ISPs x {figures[0].checked} names): "
              f"{time.monotonic() - started:.2f} s")
    client = TestClient(create_app(rt))
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "auditor", "password": "correct horse battery", "csrf": token})
    for params in ({}, {"problems": "true", "start": "5000"}, {}):  # the third: a second view (warm caches)
        started = time.monotonic()
        response = client.get("/compliance", params=params)
        assert response.status_code == 200, response.text[:300]
        print(f"GET /compliance {params or ''}: {time.monotonic() - started:.2f} s, {len(response.content)} bytes")
    started = time.monotonic()
    client.get("/auditor", params={"q": "n5.csam-gallery.test", "verify": "true"})
    print(f"GET /auditor?q=<name>&verify=true (walks the whole audit chain): {time.monotonic() - started:.2f} s")
    started = time.monotonic()
    client.get("/auditor", params={"q": "n6.csam-gallery.test"})
    print(f"GET /auditor?q=<name> (chain checked less than 5 minutes ago): {time.monotonic() - started:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MiB")
    size = (folder / "blocklist.sqlite3")
    if size.exists():
        print(f"SQLite database: {size.stat().st_size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
