"""The verifier against one local Unbound: dnsperf's qps versus the verifier's (rate limit off, one process),
then a round over many names x 3 resolvers (wall time)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isp_feed.verify.classify import StopPage
from isp_feed.verify.querier import Querier
from isp_feed.verify.round import Target, run_round
from tests.support.resolvers import STOP_NAME, STOP_V4, STOP_V6, start_internet

SECONDS = 10
ROUND_NAMES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def dnsperf(ip: str, port: int, folder: Path) -> float:
    queries = folder / "queries.txt"
    queries.write_text("good.test A\n" * 1000)
    out = subprocess.run(["dnsperf", "-s", ip, "-p", str(port), "-d", str(queries), "-l", str(SECONDS), "-c", "4",
                          "-Q", "1000000"], capture_output=True, text=True).stdout
    match = re.search(r"Queries per second:\s+([\d.]+)", out)
    return float(match.group(1)) if match else 0.0


async def verifier_qps(ip: str, port: int) -> float:
    async with Querier([(ip, port)], rate_qps=None, max_in_flight=512, timeout=2.0) as querier:
        done = 0
        deadline = time.monotonic() + SECONDS

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await querier.query(ip, port, "good.test", "A")
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(256)))
        elapsed = time.monotonic() - started
        stats = querier.stats
        print(f"  verifier: {stats.sent} sent, {stats.answered} answered, {stats.timeouts} timeouts, "
              f"{stats.malformed} malformed, {stats.unmatched} unmatched, {stats.dnspython_reads} read by dnspython")
        return stats.answered / elapsed


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    with start_internet(folder) as unbound:
        reference = dnsperf(unbound.ip, unbound.port, folder)
        ours = asyncio.run(verifier_qps(unbound.ip, unbound.port))
        share = ours / reference if reference else 0.0
        print(f"dnsperf {reference:.0f} qps; verifier {ours:.0f} qps in one process = {share:.1%} of dnsperf")
        names = [f"n{i}.csam-gallery.test" for i in range(ROUND_NAMES)]
        targets = [Target(i, unbound.ip, unbound.port) for i in (1, 2, 3)]
        started = time.monotonic()
        results = asyncio.run(run_round(targets, names, Target(0, unbound.ip, unbound.port),
                                        StopPage(STOP_NAME, STOP_V4, STOP_V6), rate_qps=None, timeout=3.0))
        print(f"round over {ROUND_NAMES} names x 3 resolvers (+control, A and AAAA; rate limit off): "
              f"{time.monotonic() - started:.1f} s, {len(results)} verdicts")


if __name__ == "__main__":
    main()
