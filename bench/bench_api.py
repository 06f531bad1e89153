"""Submit + approve against `blocklist serve` (SQLite, then PostgreSQL), the server as in production (its scheduler
included).

Closed loop: 50 concurrent clients, each looping: an officer submits a new name, a magistrate approves it;
throughput and p50/p99 latency per operation. Open loop (PostgreSQL): 100 submit+approve pairs started per second
whatever the answers, each pair's latency counted from when it was due (no coordinated omission); p50/p99.

    python bench/bench_api.py                                    # one worker, SQLite then PostgreSQL
    python bench/bench_api.py --workers 4 --backend postgresql   # the production layout
    python bench/bench_api.py --workers 4 --backend postgresql --rate 25 --rate 50 --rate 100   # latency by load
"""

from __future__ import annotations

import argparse
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
OPEN_LOOP_RATE = 100  # submit+approve pairs started per second


def _body(name: str) -> dict[str, str]:
    return {"domain": name, "legal_basis": "art39bis", "case_number": "BENCH", "evidence_ref": "E",
            "verified_on": dt.date.today().isoformat(), "hosting_country": "NL"}


def _stat_cpu(pid: int | str) -> tuple[str, float]:
    """A process's command name and user + system CPU seconds (Linux /proc/PID/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text.rsplit(")", 1)[1].split()
    return text.split(" (", 1)[1].rsplit(")", 1)[0], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(root: int) -> float:
    """CPU of a process and all its descendants."""
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += _stat_cpu(pid)[1]
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _postgres_cpu() -> float:
    """CPU of every PostgreSQL process on this machine (the bench's own cluster is the only one)."""
    total = 0.0
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            command, seconds = _stat_cpu(folder.name)
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += seconds if command == "postgres" else 0.0
    return total


def _percentiles(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[max(0, int(len(values) * 0.99) - 1)] * 1000
    return f"p50 {statistics.median(values) * 1000:.1f} ms, p99 {p99:.1f} ms"


async def open_loop(base: str, officer: str, magistrate: str, seconds: float, errors: list[str],
                    rate: float = OPEN_LOOP_RATE) -> list[float]:
    """Start `rate` pairs a second for `seconds`; each pair's latency from its due time."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def pair(n: int, due: float) -> None:
            submitted = await http.post("/api/v1/submissions", headers={"Authorization": f"Bearer {officer}"},
                                        json=_body(f"open-r{rate:g}-n{n}.bench.test"))
            if submitted.status_code != 201:
                errors.append(f"submit {submitted.status_code} {submitted.text[:100]}")
                return
            decided = await http.post(f"/api/v1/submissions/{submitted.json()['id']}/approve",
                                      headers={"Authorization": f"Bearer {magistrate}"}, json={"reason": "bench"})
            if decided.status_code != 200:
                errors.append(f"approve {decided.status_code} {decided.text[:100]}")
                return
            latencies.append(time.monotonic() - due)

        start, tasks = time.monotonic(), []
        for n in range(int(seconds * rate)):
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(pair(n, due)))
        await asyncio.gather(*tasks)
    return latencies


async def client_loop(base: str, officer: str, magistrate: str, worker: int, deadline: float,
                      timings: dict[str, list[float]], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.monotonic()
            response = await http.post("/api/v1/submissions", headers={"Authorization": f"Bearer {officer}"},
                                       json=_body(f"w{worker}-n{n}.bench.test"))
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


def run(label: str, database_url: str, *, workers: int, seconds: float, open_loop_too: bool, clients: int,
        scheduler: str, rates: tuple[float, ...] = (OPEN_LOOP_RATE,)) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    # The publication gate would hold the versions of so many approvals: off, as for an approved bulk load.
    env = {**os.environ, "BLOCKLIST_DATA_DIR": str(folder), "DATABASE_URL": database_url,
           "BLOCKLIST_FEED_GATE_MIN_CHANGES": "100000000"}
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder, DATABASE_URL=database_url))  # type: ignore[call-arg]
    rt.ensure_schema()
    with rt.database.transaction() as s:
        _, officer = users.create_user(s, actor="bench", username="officer", role="officer")
        _, magistrate = users.create_user(s, actor="bench", username="magistrate", role="magistrate")
    rt.database.dispose()
    port = free_port()
    label = f"{label}, {workers} worker(s), scheduler {scheduler}"
    blocklist = str(Path(sys.executable).parent / "blocklist")
    # The scheduler inside the serving workers (they compete for the lead), or in a process of its own beside
    # them (the serving workers with BLOCKLIST_SCHEDULER=false: docs/operations/), or none (the requests alone).
    serve_env = env if scheduler == "in-serve" else {**env, "BLOCKLIST_SCHEDULER": "false"}
    server = subprocess.Popen([blocklist, "serve", "--port", str(port), "--workers", str(workers)],
                              env=serve_env, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("w"))
    jobs = subprocess.Popen([blocklist, "scheduler"], env=env, stdout=subprocess.DEVNULL,
                            stderr=(folder / "scheduler.log").open("w")) if scheduler == "separate" else None
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
        deadline = time.monotonic() + seconds

        async def everyone() -> None:
            await asyncio.gather(*(client_loop(base, officer, magistrate, w, deadline, timings, errors)
                                   for w in range(clients)))

        processes = [p for p in (server, jobs) if p is not None]
        cpu_before = sum(_cpu_seconds(p.pid) for p in processes), _postgres_cpu()
        asyncio.run(everyone())
        cpu_after = sum(_cpu_seconds(p.pid) for p in processes), _postgres_cpu()
        for op, values in timings.items():
            print(f"{label}: closed loop, {clients} clients: {op}: {len(values) / seconds:.0f}/s, "
                  f"{_percentiles(values)}")
        # CPU per pair: what the throughput costs, less sensitive than the rate to what else the machine runs.
        pairs = max(1, len(timings["approve"]))
        print(f"{label}: CPU per submit+approve pair: server {(cpu_after[0] - cpu_before[0]) / pairs * 1000:.1f} ms, "
              f"PostgreSQL {(cpu_after[1] - cpu_before[1]) / pairs * 1000:.1f} ms")
        print(f"{label}: {len(errors)} errors{': ' + errors[0] if errors else ''}")
        for rate in rates if open_loop_too else ():
            errors.clear()
            pairs = asyncio.run(open_loop(base, officer, magistrate, seconds, errors, rate))
            print(f"{label}: open loop, {rate:g} submit+approve pairs/s: {len(pairs)} pairs, "
                  f"{_percentiles(pairs)} (from each pair's due time); {len(errors)} errors"
                  f"{': ' + errors[0] if errors else ''}")
    finally:
        for process in (server, jobs):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="`blocklist serve --workers N`")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="length of each measurement")
    parser.add_argument("--rate", type=float, action="append", default=None,
                        help=f"open-loop pairs per second (repeatable; default {OPEN_LOOP_RATE})")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="closed-loop clients")
    parser.add_argument("--scheduler", choices=("in-serve", "separate", "none"), default="in-serve",
                        help="where the periodic jobs run: in the serving workers, in `blocklist scheduler`, nowhere")
    args = parser.parse_args()
    options = {"workers": args.workers, "seconds": args.seconds, "clients": args.clients,
               "scheduler": args.scheduler}
    if args.backend in ("both", "sqlite"):
        run("sqlite", "", **options, open_loop_too=False)
    if args.backend in ("both", "postgresql") and postgres.available():
        with ExitStack() as stack:
            base = stack.enter_context(postgres.temporary_cluster(durable=True))  # fsync on, as in production
            import sqlalchemy

            admin = sqlalchemy.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sqlalchemy.text("CREATE DATABASE bench"))
            admin.dispose()
            run("postgresql", f"{base}/bench", **options, open_loop_too=True,
                rates=tuple(args.rate or (OPEN_LOOP_RATE,)))


if __name__ == "__main__":
    main()
