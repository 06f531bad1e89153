"""Feed cost at scale: render + sign every format of an N-name version (default 100,000; `python bench/bench_feed.py
1000000` for the issue's target), the client's verification, and a whole `isp-feed pull` (a separate process,
against the stand-in feed server on loopback) applying it: first load, then one more name. Prints figures."""

from __future__ import annotations

import datetime as dt
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from isp_feed import formats, signing  # noqa: E402
from tests.support.feed_server import feed_server, make_version  # noqa: E402


def _entries(n: int) -> tuple[formats.FeedEntry, ...]:
    return tuple(formats.FeedEntry(f"site-{i:07d}.test", f"site-{i:07d}.test",
                                   "exact" if i % 5 == 0 else "domain_and_subdomains") for i in range(n))


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


# Run the client under a small wrapper process: a child forked straight from this big process would report this
# process's pages as its own peak.
_MEASURE = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    version = formats.FeedVersion(1, now, now + dt.timedelta(hours=6), None, _entries(n), "stop.blocklist.example",
                                  "192.0.2.80", "2001:db8::80")
    key = signing.SecretKey.generate()
    started = time.perf_counter()
    bodies = formats.render_all(version)
    rendered = time.perf_counter()
    sigs = {}
    for ext, body in bodies.items():
        comment = formats.trusted_comment(feed="be-blocklist", serial=1, expires_at=version.expires_at,
                                          sha256=hashlib.sha256(body).hexdigest(), fmt=ext)
        sigs[ext] = signing.sign(body, comment, key)
    signed = time.perf_counter()
    print(f"{n} names: render all {len(bodies)} formats {rendered - started:.2f} s, "
          f"hash+sign {signed - rendered:.2f} s, sizes (MB): "
          + ", ".join(f"{ext}={len(b) / 1e6:.1f}" for ext, b in bodies.items()))
    started = time.perf_counter()
    comment = signing.verify(bodies["rpz"], sigs["rpz"], [key.public_key()])
    parsed = formats.parse_envelope(bodies["json"])
    verified = time.perf_counter()
    assert parsed.count == n and "serial=1" in comment
    print(f"verify the rpz signature + parse the JSON envelope: {verified - started:.2f} s")
    del bodies, sigs
    print(f"render/sign process peak RSS: {_peak_mib(resource.RUSAGE_SELF):.0f} MiB")

    with feed_server(key=key) as feed, tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "feed.pub").write_text(feed.public_key_text())
        command = [sys.executable, "-m", "isp_feed.client.cli", "pull", "--server", feed.url, "--token", feed.token,
                   "--pubkey", str(tmp / "feed.pub"), "--state-dir", str(tmp / "state"), "--out",
                   str(tmp / "feed.rpz"), "--reload", "true"]
        feed.publish(make_version(1, version.entries))
        for label, serial, entries in (("first load", 1, version.entries),
                                       ("one more name", 2, (*version.entries, formats.FeedEntry(
                                           "one-more.test", "one-more.test", "exact")))):
            if serial > 1:
                feed.publish(make_version(serial, entries))
            started = time.perf_counter()
            peak = subprocess.run([sys.executable, "-c", _MEASURE, *command], check=True, capture_output=True,
                                  cwd=ROOT, text=True).stdout
            print(f"isp-feed pull, {label} ({len(entries)} names, rpz): {time.perf_counter() - started:.2f} s, "
                  f"peak RSS {int(peak) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
