"""The stop page under a flood, and what the flood does to the staff API.

A fresh SQLite install with 1,000 listed names; `blocklist serve` (the staff app, scheduler off so that nothing
else runs) and `blocklist stop-page` (the stop page in its own process), both real uvicorn processes on loopback.
Measured, for SECONDS each:

- the stop page's requests/s, p50 and p99 at 200 concurrent connections (a separate client process: 200 asyncio
  tasks, keep-alive), against the stop-page process, then against `serve` itself as before;
- the staff API's p50/p99 (one client asking GET /api/v1/submissions/{id} in a loop) quiet, while the
  stop-page process is flooded, and while `serve` itself is flooded.

On a machine with at least two CPUs, the stop-page process and its flood share one CPU and the staff app and
its client the other, as two hosts (or a reserved core) would in production: otherwise the staff figures would
measure this machine's CPU contention, not the isolation. Printed as a table, never asserted (timing is not a
test). The target: the flood on the stop-page process moves the staff p99 by less than 2x.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from api.runtime import Runtime
from blocklist import users, workflow
from blocklist.schemas import SubmissionCreate
from blocklist.settings import Settings
from tests.support.ports import free_port

NAMES, CONNECTIONS, SECONDS = 1_000, 200, 10
LISTED = "n7.csam-gallery.test"
BIN = Path(sys.executable).parent


def setup(folder: Path) -> tuple[Runtime, str, int]:
    """The install: NAMES listed names; an officer's token and one submission's id for the staff client."""
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder, scheduler=False))  # type: ignore[call-arg]
    rt.ensure_schema()
    with rt.database.transaction() as s:
        officer, token = users.create_user(s, actor="bench", username="officer", role="officer")
        magistrate, _ = users.create_user(s, actor="bench", username="magistrate", role="magistrate")
        policy = rt.name_policy(s)
        ids = [workflow.submit(s, actor=officer, policy=policy, data=SubmissionCreate(
            domain=f"n{i}.csam-gallery.test", legal_basis="art39bis", case_number="FCCU-2026-0001",
            evidence_ref="EVD-1", verified_on=dt.date.today(), hosting_country="NL")).id for i in range(NAMES)]
    with rt.database.transaction() as s:
        workflow.approve(s, actor=s.merge(magistrate), submission_ids=ids)
    rt.database.dispose()
    return rt, token, ids[0]


def start(command: str, folder: Path, cpu: int | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BLOCKLIST_DATA_DIR": str(folder), "BLOCKLIST_SCHEDULER": "false",
           "BLOCKLIST_LOG_FORMAT": "json"}
    process = subprocess.Popen([str(BIN / "blocklist"), command, "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=(folder / f"{command}.log").open("wb"))
    if cpu is not None:
        os.sched_setaffinity(process.pid, {cpu})
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{command} did not start: see {folder / (command + '.log')}")


async def _flood(base: str, seconds: float) -> dict[str, float]:
    """CONNECTIONS keep-alive connections, each asking for the stop page of a listed name until the time is up.

    A bare HTTP/1.1 client on asyncio streams: an HTTP library's own cost per request (httpx: a few hundred
    requests/s over 200 connections on one core) would be measured instead of the server's.
    """
    host, port = base.removeprefix("http://").split(":")
    request = f"GET / HTTP/1.1\r\nHost: {LISTED}\r\nAccept-Language: fr\r\n\r\n".encode()
    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + seconds

    async def one() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                latencies.append(time.monotonic() - started)
                failures += not head.startswith(b"HTTP/1.1 451")
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
    elapsed = time.monotonic() - started
    return {"rps": len(latencies) / elapsed, **_percentiles(latencies), "failures": failures}


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {"p50": float("nan"), "p99": float("nan")}
    return {"p50": statistics.median(ordered) * 1000, "p99": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000}


def flood_process(base: str, seconds: float, cpu: int | None) -> subprocess.Popen[str]:
    """The flood in a process of its own (its CPU is not the staff client's); prints its figures as JSON."""
    process = subprocess.Popen([sys.executable, __file__, "--flood", base, str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    if cpu is not None:
        os.sched_setaffinity(process.pid, {cpu})
    return process


def staff(base: str, token: str, submission_id: int, seconds: float) -> dict[str, float]:
    """One staff client reading a submission again and again: the latency a magistrate would feel."""
    latencies = []
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert http.get(f"/api/v1/submissions/{submission_id}").status_code == 200
            latencies.append(time.monotonic() - started)
    return {"n": len(latencies), **_percentiles(latencies)}


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-stop-page-"))
    _, token, submission_id = setup(folder)
    two = (os.cpu_count() or 1) >= 2
    stop_cpu, staff_cpu = (1, 0) if two else (None, None)
    if two:
        os.sched_setaffinity(0, {staff_cpu})  # the staff client, beside the staff app
    app, app_base = start("serve", folder, staff_cpu)
    stop, stop_base = start("stop-page", folder, stop_cpu)
    rows: list[tuple[str, str]] = []
    try:
        staff(app_base, token, submission_id, 2)  # warm-up
        quiet = staff(app_base, token, submission_id, SECONDS)
        flood = flood_process(stop_base, SECONDS + 2, stop_cpu)
        time.sleep(1)  # the flood at full strength before measuring
        beside = staff(app_base, token, submission_id, SECONDS)
        isolated = json.loads(flood.communicate()[0])
        flood = flood_process(app_base, SECONDS + 2, stop_cpu)
        time.sleep(1)
        inside = staff(app_base, token, submission_id, SECONDS)
        shared = json.loads(flood.communicate()[0])
    finally:
        for process in (app, stop):
            process.terminate()
            process.wait(timeout=30)
    for label, figures in (("stop page, own process", isolated), ("stop page, inside serve", shared)):
        rows.append((label, f"{figures['rps']:,.0f} req/s   p50 {figures['p50']:.1f} ms   p99 {figures['p99']:.1f} ms"
                            f"   ({figures['failures']:.0f} failed)"))
    for label, figures in (("staff API, quiet", quiet), ("staff API, stop-page process flooded", beside),
                           ("staff API, serve itself flooded", inside)):
        rows.append((label, f"p50 {figures['p50']:.1f} ms   p99 {figures['p99']:.1f} ms   "
                            f"({figures['n']:.0f} requests)"))
    rows.append(("staff p99 flooded / quiet", f"{beside['p99'] / quiet['p99']:.2f}x with the stop page in its own "
                 f"process (target < 2x); {inside['p99'] / quiet['p99']:.2f}x inside serve"))
    print(f"stop page under a flood: {NAMES:,} listed names, {CONNECTIONS} connections, {SECONDS} s each, "
          f"{'stop page + flood on CPU 1, staff on CPU 0' if two else 'one CPU shared by all'}")
    width = max(len(label) for label, _ in rows)
    for label, figures_text in rows:
        print(f"  {label:<{width}}  {figures_text}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--flood":
        print(json.dumps(asyncio.run(_flood(sys.argv[2], float(sys.argv[3])))))
    else:
        main()
