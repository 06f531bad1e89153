"""Approval -> a real Unbound answers the stop page, with the ISP client in --loop at a 1 s interval.

    python bench/bench_approval_latency.py [N ...]        (default 1000; e.g. 1000 1000000)

For each N: N approved names inserted in bulk (bench_feed_scale.setup, the project's own tables), the first version
published, then `blocklist serve` (its scheduler publishes every 2 s), an Unbound on loopback with the ISP manual's
RPZ configuration, and `isp-feed pull --loop --interval 1` writing the RPZ file and reloading Unbound (verified by
the canary). After the first load, ROUNDS approvals one at a time, each at a random moment (so that the rounds do
not fall into step with the scheduler's tick and the client's interval): the time from the approval's commit until
Unbound answers the stop page. Printed per N: the first load, then the median and max of the rounds.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))


def _blocked(unbound: object, name: str) -> bool:
    from tests.support.resolvers import STOP_NAME, cnames, query

    try:
        return STOP_NAME + "." in cnames(query(unbound, name, timeout=1.0))  # type: ignore[arg-type]
    except Exception:  # a timeout while Unbound reloads: not yet
        return False


def _wait(unbound: object, name: str, started: float, limit: float, folder: Path) -> float:
    while not _blocked(unbound, name):
        if time.monotonic() - started > limit:
            raise SystemExit(f"{name} not blocked after {limit:.0f} s; see {folder}/client.log, server.log")
        time.sleep(0.02)
    return time.monotonic() - started


def run(n: int, rounds: int) -> None:
    from bench_feed_scale import seeded as seeded_runtime

    from blocklist import isps, workflow
    from blocklist.models import User
    from blocklist.names import NamePolicy
    from blocklist.schemas import SubmissionCreate
    from tests.support.ports import free_port
    from tests.support.resolvers import start_unbound

    folder = Path(tempfile.mkdtemp(prefix=f"bench-latency-{n}-"))
    data = folder / "data"
    rt, seeded, first_version = seeded_runtime(data, n)
    with rt.database.transaction() as s:
        _, token = isps.add_isp(s, actor="bench", name="ISP", email="noc@isp.example", language="fr")
        officer_id = s.query(User).filter_by(username="officer").one().id
        magistrate_id = s.query(User).filter_by(username="magistrate").one().id
    (folder / "feed.pub").write_text(rt.keys.active_public_key().to_text())
    env = {**os.environ, "BLOCKLIST_DATA_DIR": str(data), "DATABASE_URL": "", "BLOCKLIST_SCHEDULER": "true",
           "BLOCKLIST_SESSION_COOKIE_SECURE": "false"}
    port = free_port()
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen([str(bin_dir / "blocklist"), "serve", "--port", str(port)], env=env,
                              stdout=(folder / "server.log").open("w"), stderr=subprocess.STDOUT)
    rpz = folder / "isp" / "feed.rpz"
    rpz.parent.mkdir(parents=True)
    rng = random.Random(n)
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        with start_unbound(folder, rpz) as unbound:
            started = time.monotonic()
            client = subprocess.Popen([str(bin_dir / "isp-feed"), "pull", "--server", f"http://127.0.0.1:{port}",
                                       "--token", token, "--pubkey", str(folder / "feed.pub"), "--state-dir",
                                       str(folder / "state"), "--out", str(rpz), *unbound.reload_args(),
                                       "--resolver", f"{unbound.ip}:{unbound.port}", "--loop", "--interval", "1"],
                                      stdout=(folder / "client.log").open("w"), stderr=subprocess.STDOUT)
            first_load = _wait(unbound, "site-0000001.test", started, 600, folder)
            samples = []
            policy = NamePolicy.build()
            for i in range(rounds):
                time.sleep(rng.uniform(0.0, 2.0))
                name = f"latency-{i}.test"
                with rt.database.transaction() as s:
                    sub = workflow.submit(s, actor=s.get_one(User, officer_id), policy=policy, data=SubmissionCreate(
                        domain=name, legal_basis="art39bis", case_number="BENCH", evidence_ref="E",
                        verified_on=dt.date.today(), hosting_country="NL"))
                with rt.database.transaction() as s:
                    workflow.approve(s, actor=s.get_one(User, magistrate_id), submission_ids=[sub.id])
                samples.append(_wait(unbound, name, time.monotonic(), 120, folder))
            client.terminate()
            client.wait(timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=30)
        rt.database.dispose()
    print(f"N={n}: set-up {seeded:.1f} s, first version {first_version:.1f} s, first load (client start -> Unbound "
          f"blocks) {first_load:.1f} s | approval -> Unbound answers the stop page ({rounds} approvals at random "
          f"moments, publish job every 2 s, client --loop --interval 1): median {statistics.median(samples):.2f} s, "
          f"max {max(samples):.2f} s   (files in {folder})", flush=True)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000]
    for n in sizes:
        run(n, ROUNDS)


if __name__ == "__main__":
    main()
