"""Approval -> a real Unbound answers the stop page, with the ISP client in --loop at a 1 s interval.

    python bench/bench_approval_latency.py [N ...]        (default 1000; e.g. 1000 1000000)
    python bench/bench_approval_latency.py --format unbound.conf --apply unbound-control [N ...]

For each N: N approved names inserted in bulk (bench_feed_scale.setup, the project's own tables), the first version
published, then `blocklist serve` (its publish job ticks every 0.25 s), an Unbound on loopback with the ISP manual's
RPZ configuration, and `isp-feed pull --loop --interval 1` writing the RPZ file and reloading Unbound (verified by
the canary; each poll of a current client is held by the server until a new version is published). After the first
load, ROUNDS approvals one at a time, each at a random moment (so that the rounds do not fall into step with the
scheduler's tick and the client's interval): the time from the approval's commit until Unbound answers the stop
page. Printed per N: the first load, then the median and max of the rounds.

`--format unbound.conf`: Unbound includes the client's file of local zones instead (the ISP manual's "Unbound, local
zones"), reloaded by `unbound-control reload`, and blocked means the stop page's own address; with `--apply
unbound-control` the client applies each delta through Unbound's control channel, the reload only for the first load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))


def _blocked(unbound: object, name: str, fmt: str) -> bool:
    from tests.support.resolvers import STOP_NAME, STOP_V4, addresses, cnames, query

    try:
        answer = query(unbound, name, timeout=1.0)  # type: ignore[arg-type]
    except Exception:  # a timeout while Unbound reloads: not yet
        return False
    if fmt == "unbound.conf":  # local data: the stop page's own address
        return addresses(answer) == {STOP_V4}
    return STOP_NAME + "." in cnames(answer)


def _wait(unbound: object, name: str, started: float, limit: float, folder: Path, fmt: str) -> float:
    while not _blocked(unbound, name, fmt):
        if time.monotonic() - started > limit:
            raise SystemExit(f"{name} not blocked after {limit:.0f} s; see {folder}/client.log, server.log")
        time.sleep(0.02)
    return time.monotonic() - started


def _unbound_and_client_args(folder: Path, fmt: str, apply: str) -> tuple[Any, list[str]]:
    """The ISP's Unbound (a context manager) for the format, and the client's options that write and load its file."""
    from tests.support.resolvers import start_unbound

    out = folder / "isp" / ("feed.rpz" if fmt == "rpz" else "blocklist.unbound.conf")
    out.parent.mkdir(parents=True)
    if fmt == "rpz":
        return start_unbound(folder, out), ["--out", str(out)]
    out.write_text("server:\n")  # Unbound includes it from the start; the client replaces it
    args = ["--format", fmt, "--out", str(out)]
    if apply != "reload":
        args += ["--apply", apply]
    return start_unbound(folder, None, extra_config=f'include: "{out}"\n'), args


def run(n: int, rounds: int, fmt: str = "rpz", apply: str = "reload") -> None:
    from bench_feed_scale import seeded as seeded_runtime

    from blocklist import isps, workflow
    from blocklist.models import User
    from blocklist.names import NamePolicy
    from blocklist.schemas import SubmissionCreate
    from tests.support.ports import free_port
    from tests.support.resolvers import unbound_control_command

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
    unbound_ctx, out_args = _unbound_and_client_args(folder, fmt, apply)
    rng = random.Random(n)
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        with unbound_ctx as unbound:
            # as the ISP manual says: unbound-control given a configuration of its control clause only
            control = ["--unbound-control", shlex.join(unbound_control_command(unbound))] if apply != "reload" else []
            started = time.monotonic()
            client = subprocess.Popen([str(bin_dir / "isp-feed"), "pull", "--server", f"http://127.0.0.1:{port}",
                                       "--token", token, "--pubkey", str(folder / "feed.pub"), "--state-dir",
                                       str(folder / "state"), *out_args, *control, *unbound.reload_args(),
                                       "--resolver", f"{unbound.ip}:{unbound.port}", "--loop", "--interval", "1"],
                                      stdout=(folder / "client.log").open("w"), stderr=subprocess.STDOUT)
            first_load = _wait(unbound, "site-0000001.test", started, 600, folder, fmt)
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
                samples.append(_wait(unbound, name, time.monotonic(), 120, folder, fmt))
            client.terminate()
            client.wait(timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=30)
        rt.database.dispose()
    print(f"N={n} ({fmt}, apply {apply}): set-up {seeded:.1f} s, first version {first_version:.1f} s, first load "
          f"(client start -> Unbound blocks) {first_load:.1f} s | approval -> Unbound answers the stop page "
          f"({rounds} approvals at random moments, publish job every 0.25 s, client --loop --interval 1): median "
          f"{statistics.median(samples):.2f} s, "
          f"max {max(samples):.2f} s   (files in {folder})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000], metavar="N")
    parser.add_argument("--format", choices=("rpz", "unbound.conf"), default="rpz")
    parser.add_argument("--apply", choices=("reload", "unbound-control"), default="reload")
    args = parser.parse_args()
    if args.apply != "reload" and args.format != "unbound.conf":
        parser.error("--apply unbound-control needs --format unbound.conf")
    for n in args.sizes:
        run(n, ROUNDS, args.format, args.apply)


if __name__ == "__main__":
    main()
