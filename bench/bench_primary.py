"""Approval -> every ISP resolver answers the stop page, via the hidden primary: NOTIFY and IXFR.

`python bench/bench_primary.py [--shards K] [N ...]` (default 1000, K 1): N approved names inserted in bulk
(bench_feed_scale.setup), the first version published, `blocklist dns-primary`'s BIND loaded with it (the whole zone
once), then a BIND secondary (TSIG), a PowerDNS Recursor (`rpzPrimary`, TSIG, refresh=1) and an Unbound (`rpz:` +
`primary:`) transfer it, with the ISP manual's configurations (tests/support/dns_primary.py; with K shards, what
`blocklist dns-primary secondary-config` prints for each, the meta zone and K data zones). Each round approves one
more name through the workflow and runs the publish job at once, in a thread, as the scheduler runs it (it hands
the new version to the primary, then signs each file; in the scheduler the job ticks every second: add up to 1 s),
while this polls every resolver until it answers the stop page. Printed: per resolver the median and max from the
approval's commit to its stop-page answer, the same for "all" (the slowest resolver of each round), and the first
load's times."""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.resolvers import Resolver

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ROUNDS = 15


def _blocked(resolver: Resolver, name: str) -> bool:
    from tests.support.resolvers import STOP_NAME, cnames, query

    try:
        return STOP_NAME + "." in cnames(query(resolver, name, timeout=1.0))
    except Exception:  # a timeout while a resolver loads: not yet
        return False


def _wait(resolvers: dict[str, Resolver], name: str, started: float, limit: float = 120.0) -> dict[str, float]:
    pending, seen = dict(resolvers), {}
    while pending:
        for label, resolver in list(pending.items()):
            if _blocked(resolver, name):
                seen[label] = time.monotonic() - started
                del pending[label]
        if time.monotonic() - started > limit:
            raise SystemExit(f"{name} not blocked by {', '.join(pending)} after {limit:.0f} s")
        time.sleep(0.01)
    return seen


def run(n: int, shards: int) -> None:
    from bench_feed_scale import seeded as seeded_runtime  # the bulk set-up of N approved names

    from blocklist import isps, workflow
    from blocklist.models import User
    from blocklist.names import NamePolicy
    from blocklist.schemas import SubmissionCreate
    from isp_feed import jobs as feed_jobs
    from isp_feed import primary
    from isp_feed.jobs import publish_feed, sync_primary
    from tests.support.dns_primary import (
        UNSIGNED_ADDRESS,
        printed_config,
        run_primary,
        start_bind_secondary,
        start_pdns_secondary,
        start_unbound_secondary,
    )
    from tests.support.ports import free_port
    from tests.support.resolvers import start_internet

    folder = Path(tempfile.mkdtemp(prefix="bench-primary-"))
    data = folder / "data"
    rt, seeded, first_publish = seeded_runtime(data, n)
    ports = {name: free_port() for name in ("bind", "pdns", "unbound")}
    keys = {}
    with rt.database.transaction() as s:
        for label, signed, unsigned in (("bind", (f"127.0.0.1:{ports['bind']}",), ()),
                                        ("pdns", (f"127.0.0.1:{ports['pdns']}",), ()),
                                        ("unbound", (), (f"{UNSIGNED_ADDRESS}:{ports['unbound']}",))):
            isp, _ = isps.add_isp(s, actor="bench", name=f"ISP {label}", email=f"noc@{label}.example",
                                  language="fr")
            key = primary.issue_key(s, rt.settings, actor="bench", isp=isp)
            keys[label] = (key.name, key.secret)
            isps.set_secondaries(s, actor="bench", isp=isp, signed=signed, unsigned=unsigned)
        magistrate = s.query(User).filter_by(username="magistrate").one()
        officer = s.query(User).filter_by(username="officer").one()
        officer_id, magistrate_id = officer.id, magistrate.id
    configured = primary.configure(rt.database, rt.settings, port=free_port(), control_port=free_port(),
                                   shards=shards)

    def config(resolver: str, label: str) -> list[str] | None:
        return printed_config(configured, resolver, *keys[label]) if shards > 1 else None

    policy = NamePolicy.build()
    with run_primary(configured), start_internet(folder) as internet:
        t = time.perf_counter()
        sync_primary(rt.job_context)  # the first version is already the primary's zone (configure wrote it)
        whole = time.perf_counter() - t
        started = time.monotonic()
        with (start_bind_secondary(folder, configured, internet, *keys["bind"], ports["bind"],
                                   config=config("bind", "bind")) as bind,
              start_pdns_secondary(folder, configured, internet, *keys["pdns"], ports["pdns"],
                                   config=config("pdns", "pdns")) as pdns,
              start_unbound_secondary(folder, configured, internet, ports["unbound"],
                                      config=config("unbound", "unbound")) as unbound):
            resolvers = {"bind": bind, "pdns": pdns, "unbound": unbound}
            # Loaded: one name of each shard blocked (each shard is transferred on its own).
            samples_of = {primary.shard_of(f"site-{i:07d}.test", shards): f"site-{i:07d}.test"
                          for i in range(1, min(n, 2000))}
            first = {}
            for sample in samples_of.values():
                first = _wait(resolvers, sample, started, limit=1800)
            samples: dict[str, list[float]] = {label: [] for label in resolvers}
            samples["all"] = []
            steps: dict[str, list[float]] = {"publish": [], "sync": []}  # the version built; pushed to the primary
            pushes: dict[str, Any] = {}

            def timed_push(ctx: Any) -> Any:  # publish_feed's own call of the sync job, timed
                pushes["started"] = time.monotonic()
                pushes["result"] = sync_primary(ctx)
                pushes["ended"] = time.monotonic()
                return pushes["result"]

            feed_jobs.sync_primary = timed_push
            for i in range(ROUNDS):
                # A random pause first: a round lasts about as long as PowerDNS's SOA poll (refresh=1), and
                # rounds in step with the poll would measure one phase of it only.
                time.sleep(random.uniform(0, 1))
                name = f"bench-primary-{i}.test"
                with rt.database.transaction() as s:
                    sub = workflow.submit(s, actor=s.get_one(User, officer_id), policy=policy, data=SubmissionCreate(
                        domain=name, legal_basis="art39bis", case_number="BENCH", evidence_ref="E",
                        verified_on=dt.date.today(), hosting_country="NL"))
                with rt.database.transaction() as s:
                    workflow.approve(s, actor=s.get_one(User, magistrate_id), submission_ids=[sub.id])
                approved_at = time.monotonic()
                # The publish job as the scheduler runs it (the push to the primary in it, then each file's own
                # signature), in a thread while the resolvers are polled from here.
                job = threading.Thread(target=publish_feed, args=(rt.job_context,))
                job.start()
                seen = _wait(resolvers, name, approved_at)
                job.join()
                result = pushes["result"]
                assert result is not None and result.updates == (2 if shards > 1 else 1), result  # shard, meta
                steps["publish"].append(pushes["started"] - approved_at)
                steps["sync"].append(pushes["ended"] - pushes["started"])
                for label, seconds in seen.items():
                    samples[label].append(seconds)
                samples["all"].append(max(seen.values()))
    rt.database.dispose()
    print(f"N={n}, shards={shards}: bulk set-up {seeded:.1f} s, first version {first_publish:.1f} s, "
          f"first sync {whole:.2f} s, "
          "first transfer (secondaries start -> blocking): "
          + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in first.items()))
    print(f"{'resolver':<10} {'median ms':>10} {'max ms':>10}   (approval committed -> stop page; {ROUNDS} rounds,"
          " jobs run at once)")
    for label, values in samples.items():
        print(f"{label:<10} {statistics.median(values) * 1000:>10.0f} {max(values) * 1000:>10.0f}")
    print("of which: " + ", ".join(f"{label} median {statistics.median(values) * 1000:.0f} ms, max "
                                   f"{max(values) * 1000:.0f} ms" for label, values in steps.items()))
    print(f"(files in {folder})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=1, help="the primary's shards (blocklist dns-primary --shards)")
    parser.add_argument("sizes", type=int, nargs="*", default=[1000], metavar="N", help="names listed")
    args = parser.parse_args()
    for n in args.sizes:
        run(n, args.shards)


if __name__ == "__main__":
    main()
