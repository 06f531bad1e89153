"""Approval -> a real Unbound answers the stop page, with the ISP client in --loop at a 1 s interval.

Starts `blocklist serve` (its scheduler publishes the feed), an Unbound on loopback, and `isp-feed pull --loop`;
approves N names one at a time and measures, for each, the time until Unbound answers the stop page.
"""

from __future__ import annotations

import datetime as dt
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
from blocklist import isps, users, workflow
from blocklist.names import NamePolicy
from blocklist.schemas import SubmissionCreate
from blocklist.settings import Settings
from tests.support.ports import free_port
from tests.support.resolvers import STOP_NAME, cnames, query, start_unbound

ROUNDS = 10


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    env = {**os.environ, "BLOCKLIST_DATA_DIR": str(folder / "data")}
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder / "data", scheduler=False))  # type: ignore[call-arg]
    rt.ensure_schema()
    with rt.database.transaction() as s:
        officer, _ = users.create_user(s, actor="bench", username="officer", role="officer")
        magistrate, _ = users.create_user(s, actor="bench", username="magistrate", role="magistrate")
        _, token = isps.add_isp(s, actor="bench", name="ISP", email="noc@isp.example", language="fr")
    (folder / "feed.pub").write_text(rt.keys.active_public_key().to_text())
    port = free_port()
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen([str(bin_dir / "blocklist"), "serve", "--port", str(port)], env=env,
                              stdout=(folder / "server.log").open("w"), stderr=subprocess.STDOUT)
    rpz = folder / "isp" / "feed.rpz"
    rpz.parent.mkdir(parents=True)
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        with start_unbound(folder, rpz) as unbound:
            client = subprocess.Popen([str(bin_dir / "isp-feed"), "pull", "--server", f"http://127.0.0.1:{port}",
                                       "--token", token, "--pubkey", str(folder / "feed.pub"), "--state-dir",
                                       str(folder / "state"), "--out", str(rpz), "--reload",
                                       " ".join(unbound.reload_command), "--loop", "--interval", "1",
                                       "--max-change-min", "100"],
                                      stdout=(folder / "client.log").open("w"), stderr=subprocess.STDOUT)
            samples = []
            policy = NamePolicy.build()
            for i in range(ROUNDS):
                name = f"latency-{i}.test"
                with rt.database.transaction() as s:
                    sub = workflow.submit(s, actor=officer, policy=policy, data=SubmissionCreate(
                        domain=name, legal_basis="art39bis", case_number="BENCH", evidence_ref="E",
                        verified_on=dt.date.today(), hosting_country="NL"))
                started = time.monotonic()
                with rt.database.transaction() as s:
                    workflow.approve(s, actor=magistrate, submission_ids=[sub.id])
                while STOP_NAME + "." not in cnames(query(unbound, name)):
                    time.sleep(0.05)
                    if time.monotonic() - started > 60:
                        raise SystemExit(f"{name} not blocked after 60 s; see {folder}/client.log, server.log")
                samples.append(time.monotonic() - started)
            client.terminate()
            client.wait(timeout=10)
        print(f"approval -> Unbound answers the stop page ({ROUNDS} approvals, publish job every 2 s, client --loop "
              f"--interval 1): median {statistics.median(samples):.2f} s, max {max(samples):.2f} s")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
