"""The client's output loaded by REAL resolvers, fed by the stand-in feed server (no database): both RPZ variants in
Unbound and BIND, the NXDOMAIN policy, the Unbound local-zone format, and `minisign -V` on a served file. Every
"blocked" comes with the positive control `good.test` still resolving.
(The attacks, each against real Unbound: test_client_attacks.py; the chain through the real server:
test_feed_end_to_end.py.)"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import dns.rcode
import dns.rdatatype

from isp_feed_client import formats
from isp_feed_client.cli import EXIT_OK, main
from tests.support.binaries import require_binary
from tests.support.feed_server import FeedServer, make_version
from tests.support.resolvers import (
    Resolver,
    assert_resolves,
    assert_stop_page,
    assert_stop_page_address,
    eventually,
    query,
    start_bind,
    start_internet,
    start_unbound,
)

BLOCKED = formats.FeedEntry("csam-gallery.test", "csam-gallery.test", "domain_and_subdomains")
EXACT = formats.FeedEntry("exact-only.test", "exact-only.test", "exact")
SECOND = formats.FeedEntry("second.test", "second.test", "domain_and_subdomains")


@dataclass
class Client:
    """`isp-feed pull` for one resolver."""

    feed: FeedServer
    folder: Path
    out: Path
    fmt: str
    resolver: Resolver | None = None

    def pull(self, *extra: str, pubkey: Path | None = None) -> int:
        argv = ["pull", "--server", self.feed.url, "--token", self.feed.token, "--pubkey",
                str(pubkey or self.folder / "feed.pub"), "--state-dir", str(self.folder / "state"), "--format",
                self.fmt, "--out", str(self.out), *extra]
        if self.resolver is not None:
            argv += ["--reload", " ".join(self.resolver.reload_command)]
        return main(argv)





def test_unbound_with_the_address_variant(feed: FeedServer, tmp_path: Path) -> None:
    rpz = tmp_path / "isp" / "feed.a.rpz"
    rpz.parent.mkdir()
    with start_unbound(tmp_path, rpz) as unbound:
        client = Client(feed, tmp_path, rpz, "a.rpz", unbound)
        feed.publish(make_version(1, [BLOCKED, EXACT]))
        assert client.pull() == EXIT_OK
        for name in ("csam-gallery.test", "a.b.csam-gallery.test", "exact-only.test"):
            assert_stop_page_address(unbound, name)
        assert_resolves(unbound, "sub.exact-only.test")
        assert_resolves(unbound, "good.test")
        feed.publish(make_version(2, [EXACT]))  # the lift
        assert client.pull() == EXIT_OK
        assert_resolves(unbound, "csam-gallery.test")
        assert_resolves(unbound, "a.b.csam-gallery.test")
        assert_stop_page_address(unbound, "exact-only.test")


def test_bind_with_both_variants(feed: FeedServer, tmp_path: Path) -> None:
    with start_internet(tmp_path) as internet:
        for fmt, blocked in (("rpz", assert_stop_page), ("a.rpz", assert_stop_page_address)):
            rpz = tmp_path / fmt / f"feed.{fmt}"
            rpz.parent.mkdir()
            with start_bind(tmp_path / fmt, rpz, internet) as bind:
                client = Client(feed, tmp_path / fmt, rpz, fmt, bind)
                (tmp_path / fmt / "feed.pub").write_text(feed.public_key_text())
                feed.publish(make_version(10, [BLOCKED, EXACT]))
                assert client.pull() == EXIT_OK
                eventually(lambda b=bind, f=blocked: f(b, "a.b.csam-gallery.test"))  # type: ignore[misc]
                blocked(bind, "csam-gallery.test")
                blocked(bind, "exact-only.test")
                assert_resolves(bind, "sub.exact-only.test")
                assert_resolves(bind, "good.test")
                feed.publish(make_version(11, [EXACT]))
                assert client.pull() == EXIT_OK
                eventually(lambda b=bind: assert_resolves(b, "csam-gallery.test"))  # type: ignore[misc]
                blocked(bind, "exact-only.test")


def test_unbound_nxdomain_policy_and_a_resolver_without_rpz(feed: FeedServer, tmp_path: Path) -> None:
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    feed.publish(make_version(1, [BLOCKED]))
    assert Client(feed, tmp_path, rpz, "rpz").pull() == EXIT_OK
    with start_unbound(tmp_path, rpz, policy="nxdomain") as strict, start_unbound(tmp_path, None, name="none") as none:
        assert query(strict, "a.b.csam-gallery.test").rcode() == dns.rcode.NXDOMAIN
        assert_resolves(strict, "good.test")
        assert_resolves(none, "csam-gallery.test")  # a non-compliant ISP: the verifier must see "not blocked"
        assert_resolves(none, "good.test")


def test_unbound_local_zone_format(feed: FeedServer, tmp_path: Path) -> None:
    conf = tmp_path / "isp" / "blocklist.unbound.conf"
    conf.parent.mkdir()
    feed.publish(make_version(1, [BLOCKED, EXACT]))
    assert Client(feed, tmp_path, conf, "unbound.conf").pull() == EXIT_OK
    with start_unbound(tmp_path, None, extra_config=f'include: "{conf}"\n') as unbound:
        assert_stop_page_address(unbound, "csam-gallery.test")
        assert_stop_page_address(unbound, "a.b.csam-gallery.test")
        assert_stop_page_address(unbound, "exact-only.test")
        assert_resolves(unbound, "sub.exact-only.test")
        assert_resolves(unbound, "good.test")
        aaaa = query(unbound, "good.test", "AAAA")
        assert {rd.to_text() for rrset in aaaa.answer if rrset.rdtype == dns.rdatatype.AAAA for rd in rrset} == \
            {"2001:db8::10"}


def test_minisign_checks_a_served_file_by_hand(feed: FeedServer, tmp_path: Path) -> None:
    minisign = require_binary("minisign")
    feed.publish(make_version(5, [BLOCKED]))
    (tmp_path / "5.rpz").write_bytes(feed.files["versions/5.rpz"])
    (tmp_path / "5.rpz.minisig").write_bytes(feed.files["versions/5.rpz.minisig"])
    key = feed.key.public_key().to_base64()
    ok = subprocess.run([minisign, "-V", "-P", key, "-m", str(tmp_path / "5.rpz")], capture_output=True, text=True)
    assert ok.returncode == 0 and "serial=5" in ok.stdout, ok.stderr
    (tmp_path / "5.rpz").write_bytes(feed.files["versions/5.rpz"].replace(b"csam-gallery", b"csam-galleri"))
    bad = subprocess.run([minisign, "-V", "-P", key, "-m", str(tmp_path / "5.rpz")], capture_output=True, text=True)
    assert bad.returncode != 0
