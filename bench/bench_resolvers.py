"""Reloading a national list in each real resolver (issue #16): N names, then one more, with a steady query stream.

For each resolver of the tests (Unbound `rpz`, BIND `response-policy`, PowerDNS Recursor `rpzFile`, Knot Resolver
`policy.rpz` on the `a.rpz` format, dnsmasq `conf-file`), configured as the ISP manual shows
(tests/support/resolvers.py), on loopback, forwarding to the test internet:
- load: the N-name file written and the documented reload run, until the resolver answers the version's canary
  (isp_feed_client/canary.py) with the block; its time and the daemon's peak memory (VmHWM) after it;
- +1: the next version (one more name), the same reload, until its canary answers; meanwhile a steady stream of
  queries (QPS a second, each waiting 300 ms) for a blocked name: how many went unanswered, and the longest silence.

    python bench/bench_resolvers.py [N ...]        # default 100000 1000000
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dns.message
import dns.query
import dns.rcode

from isp_feed_client import formats
from isp_feed_client.canary import canary_name
from tests.support import resolvers
from tests.support.resolvers import STOP_NAME, STOP_V4, STOP_V6, Resolver

QPS = 200
DEADLINE = 600.0  # seconds a reload may take before the bench gives up on it


@dataclass(frozen=True)
class Setup:
    name: str
    fmt: str
    start: Callable[[Path, Path, Resolver], AbstractContextManager[Resolver]]


SETUPS = [
    Setup("unbound", "rpz", lambda tmp, file, internet: resolvers.start_unbound(tmp, file)),
    Setup("bind", "rpz", resolvers.start_bind),
    Setup("pdns-recursor", "rpz", resolvers.start_pdns_recursor),
    Setup("knot-resolver", "a.rpz", resolvers.start_knot_resolver),
    Setup("dnsmasq", "dnsmasq.conf", resolvers.start_dnsmasq),
]


def _version(serial: int, n: int) -> formats.FeedVersion:
    entries = tuple(formats.FeedEntry(f"site-{i:07d}.test", f"site-{i:07d}.test",
                                      "exact" if i % 5 == 0 else "domain_and_subdomains") for i in range(n))
    return formats.FeedVersion(serial, dt.datetime.now(dt.UTC).replace(microsecond=0), entries, STOP_NAME, STOP_V4,
                               STOP_V6)


def _write(path: Path, body: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(body)
    tmp.replace(path)


def _blocks(resolver: Resolver, name: str) -> bool:
    try:
        answer = resolvers.query(resolver, name, timeout=0.5)
    except Exception:  # not answering (a restart)
        return False
    return answer.rcode() == dns.rcode.NOERROR and (STOP_V4 in resolvers.addresses(answer)
                                                     or f"{STOP_NAME}." in resolvers.cnames(answer))


def _reload(resolver: Resolver, canary: str) -> float:
    """Run the documented reload, then wait for the canary: seconds until it is blocked."""
    started = time.perf_counter()
    for command in resolver.reload_commands:
        subprocess.run(command, capture_output=True, timeout=DEADLINE)
    while not _blocks(resolver, canary):
        if time.perf_counter() - started > DEADLINE:
            raise RuntimeError(f"{resolver.name} never served {canary}:\n{resolver.log()[-2000:]}")
        time.sleep(0.05)
    return time.perf_counter() - started


def _peak_mib(resolver: Resolver) -> float:
    pid = resolver.process.pid if resolver.process is not None else resolvers._daemon_pid(resolver)
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return float("nan")


class Stream:
    """QPS queries a second for `name`, each given 300 ms: when each was sent and whether it was answered."""

    def __init__(self, resolver: Resolver, name: str) -> None:
        self.resolver, self.name = resolver, name
        self.sent: list[tuple[float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        interval, due = 1 / QPS, time.perf_counter()
        while not self._stop.is_set():
            at = time.perf_counter()
            try:
                dns.query.udp(dns.message.make_query(self.name, "A"), self.resolver.ip, port=self.resolver.port,
                              timeout=0.3)
                self.sent.append((at, True))
            except Exception:
                self.sent.append((at, False))
            due += interval
            time.sleep(max(0.0, due - time.perf_counter()))

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, start: float, end: float) -> tuple[int, int, float]:
        """Sent, unanswered, and the longest run of unanswered queries (seconds) in [start, end]."""
        window = [(t, ok) for t, ok in self.sent if start <= t <= end]
        silence, longest = None, 0.0
        for t, ok in window:
            if not ok and silence is None:
                silence = t
            if ok and silence is not None:
                longest, silence = max(longest, t - silence), None
        if silence is not None:
            longest = max(longest, end - silence)
        return len(window), sum(1 for _, ok in window if not ok), longest


def measure(setup: Setup, n: int, tmp: Path) -> dict[str, float]:
    file = tmp / f"blocklist.{setup.fmt}"
    file.write_bytes(formats.render(_version(1, 1), setup.fmt))
    with resolvers.start_internet(tmp) as internet, setup.start(tmp, file, internet) as resolver:
        _write(file, formats.render(_version(2, n), setup.fmt))
        load = _reload(resolver, canary_name(2, STOP_NAME))
        peak = _peak_mib(resolver)
        body = formats.render(_version(3, n + 1), setup.fmt)
        with Stream(resolver, "site-0000001.test") as stream:
            time.sleep(1)
            _write(file, body)
            start = time.perf_counter()
            plus = _reload(resolver, canary_name(3, STOP_NAME))
            time.sleep(0.5)
            sent, lost, silence = stream.between(start, time.perf_counter())
        return {"load": load, "peak_mib": peak, "plus": plus, "sent": sent, "lost": lost, "silence": silence,
                "peak_after_mib": _peak_mib(resolver)}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    for n in sizes:
        for setup in SETUPS:
            with tempfile.TemporaryDirectory(prefix=f"bench-resolver-{setup.name}-") as folder:
                r = measure(setup, n, Path(folder))
            row = (f"{n:>9} names | {setup.name:<14} {setup.fmt:<13} | load {r['load']:6.1f} s, peak "
                   f"{r['peak_after_mib']:6.0f} MiB | +1 reload {r['plus']:5.2f} s, {r['lost']}/{r['sent']} queries "
                   f"unanswered, longest silence {r['silence']:.2f} s")
            print(row, flush=True)


if __name__ == "__main__":
    main()
