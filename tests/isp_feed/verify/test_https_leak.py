"""The verifier asks HTTPS (type 65) too, of real resolvers: a dnsmasq loading only `address=` lines (the format
before issue #16) answers A and AAAA with the stop page but passes the real HTTPS record through, with the real
server's `ipv4hint`, so browsers can still connect: that is `not_blocked`. The feed's dnsmasq format (with
`local=/d/`) is `blocked`, and so is Unbound with RPZ."""

from __future__ import annotations

import asyncio
from pathlib import Path

from isp_feed.verify.classify import StopPage
from isp_feed.verify.round import Target, run_round
from isp_feed_client import formats
from tests.support.feed_server import make_version
from tests.support.resolvers import STOP_NAME, STOP_V4, STOP_V6, start_dnsmasq, start_internet, start_unbound

NAME = "csam-gallery.test"


def test_an_https_record_with_the_real_address_hints_is_not_blocked(tmp_path: Path) -> None:
    version = make_version(1, [NAME])
    current = formats.render(version, "dnsmasq.conf")
    addresses_only = b"".join(line for line in current.splitlines(keepends=True) if not line.startswith(b"local="))
    (tmp_path / "leaky.conf").write_bytes(addresses_only)
    (tmp_path / "current.conf").write_bytes(current)
    (tmp_path / "feed.rpz").write_bytes(formats.render(version, "rpz"))
    with start_internet(tmp_path) as internet, \
            start_dnsmasq(tmp_path, tmp_path / "leaky.conf", internet, name="leaky") as leaky, \
            start_dnsmasq(tmp_path, tmp_path / "current.conf", internet, name="current") as current_dnsmasq, \
            start_unbound(tmp_path, tmp_path / "feed.rpz") as unbound:
        targets = [Target(1, r.ip, r.port) for r in (leaky, current_dnsmasq, unbound)]
        results = asyncio.run(run_round(targets, [NAME, "good.test"], Target(0, internet.ip, internet.port),
                                        StopPage(STOP_NAME, STOP_V4, STOP_V6), rate_qps=None, retries=0))
    verdicts = {(r.target.port, r.name): r.verdict for r in results}
    leak = verdicts[(leaky.port, NAME)]
    assert leak.value == "not_blocked" and "192.0.2.66" in leak.reason and "HTTPS" in leak.reason, leak
    assert [o.qtype for o in next(r for r in results if r.target.port == leaky.port).observations][:3] == [
        "A", "AAAA", "HTTPS"]  # every question is kept as evidence
    assert verdicts[(current_dnsmasq.port, NAME)].value == "blocked", verdicts[(current_dnsmasq.port, NAME)]
    assert verdicts[(unbound.port, NAME)].value == "blocked", verdicts[(unbound.port, NAME)]
    for target in targets:  # the positive control, HTTPS record and all
        assert verdicts[(target.port, "good.test")].value == "not_blocked"
