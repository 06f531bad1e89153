"""Submit + approve at 50 concurrent clients for 30 s against `blocklist serve` (SQLite, then PostgreSQL).

Each client loops: an officer submits a new name, a magistrate approves it. Prints throughput and p50/p99
latency per operation. The server runs as in production (its scheduler included).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from api.runtime import Runtime
from blocklist import users
from blocklist.settings import Settings
from tests.support import postgres
from tests.support.ports import free_port

CLIENTS, SECONDS = 50, 30


async def client_loop(base: str, officer: str, magistrate: str, worker: int, deadline: float,
                      timings: dict[str, list[float]], errors: list[str]) -> None:
    today = dt.date.today().isoformat()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.monotonic()
            response = await http.post("/api/v1/submissions", headers={"Authorization": f"Bearer {officer}"}, json={
                "domain": f"w{worker}-n{n}.bench.test", "legal_basis": "art39bis", "case_number": "BENCH",
                "evidence_ref": "E", "verified_on": today, "hosting_country": "NL"})
            timings["submit"].append(time.monotonic() - started)
            if response.status_code != 201:
                errors.append(f"submit {response.status_code} {response.text[:100]}")
                continue
            started = time.monotonic()
            decided = await http.post(f"/api/v1/submissions/{response.json()['id']}/approve",
                                      headers={"Authorization": f"Bearer {magistrate}"}, json={"reason": "bench"})
            timings["approve"].append(time.monotonic() - started)
            if decided.status_code != 200:
                errors.append(f"approve {decided.status_code} {decided.text[:100]}")


def run(label: str, database_url: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = {**os.environ, "BLOCKLIST_DATA_DIR": str(folder), "DATABASE_URL": database_url}
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder, DATABASE_URL=database_url))  # type: ignore[call-arg]
    rt.ensure_schema()
    with rt.database.transaction() as s:
        _, officer = users.create_user(s, actor="bench", username="officer", role="officer")
        _, magistrate = users.create_user(s, actor="bench", username="magistrate", role="magistrate")
    rt.database.dispose()
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "blocklist"), "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        timings: dict[str, list[float]] = {"submit": [], "approve": []}
        errors: list[str] = []
        deadline = time.monotonic() + SECONDS

        async def everyone() -> None:
            await asyncio.gather(*(client_loop(base, officer, magistrate, w, deadline, timings, errors)
                                   for w in range(CLIENTS)))

        asyncio.run(everyone())
        for op, values in timings.items():
            values.sort()
            p50 = statistics.median(values) * 1000
            p99 = values[int(len(values) * 0.99) - 1] * 1000
            print(f"{label}: {op}: {len(values) / SECONDS:.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        print(f"{label}: {len(errors)} errors{': ' + errors[0] if errors else ''}")
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    run("sqlite", "")
    if postgres.available():
        with ExitStack() as stack:
            base = stack.enter_context(postgres.temporary_cluster())
            import sqlalchemy

            admin = sqlalchemy.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sqlalchemy.text("CREATE DATABASE bench"))
            admin.dispose()
            run("postgresql", f"{base}/bench")


if __name__ == "__main__":
    main()
