"""Feed cost at scale: render + sign every format of a 100,000-name version; the client's verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from isp_feed import formats, signing

N = 100_000


def main() -> None:
    now = dt.datetime.now(dt.UTC)
    entries = tuple(formats.FeedEntry(f"site-{i:06d}.test", f"site-{i:06d}.test",
                                      "exact" if i % 5 == 0 else "domain_and_subdomains") for i in range(N))
    version = formats.FeedVersion(1, now, now + dt.timedelta(hours=6), None, entries, "stop.blocklist.example",
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
    print(f"{N} names: render all {len(bodies)} formats {rendered - started:.2f} s, "
          f"hash+sign {signed - rendered:.2f} s, sizes (MB): "
          + ", ".join(f"{ext}={len(b) / 1e6:.1f}" for ext, b in bodies.items()))
    started = time.perf_counter()
    comment = signing.verify(bodies["rpz"], sigs["rpz"], [key.public_key()])
    parsed = formats.parse_envelope(bodies["json"])
    verified = time.perf_counter()
    assert parsed.count == N and "serial=1" in comment
    print(f"client: verify rpz signature + parse the JSON envelope: {verified - started:.2f} s")


if __name__ == "__main__":
    main()
