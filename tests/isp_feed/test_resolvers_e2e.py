"""The client's output loaded by REAL resolvers, fed by the stand-in feed server (no database): both RPZ variants in
Unbound and BIND, the NXDOMAIN policy, the Unbound local-zone format, the nine attacks with their messages, and
`minisign -V` on a served file. Every "blocked" comes with the positive control `good.test` still resolving.
(The same chain through the real server: test_client_resolvers.py and test_client_attacks.py.)"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.rcode
import dns.rdatatype
import pytest

from isp_feed import formats, signing
from isp_feed.client.cli import EXIT_OK, EXIT_REFUSED, main
from tests.support.binaries import require_binary
from tests.support.feed_server import FeedServer, feed_server, make_version, signed_files
from tests.support.resolvers import (
    STOP_V4,
    Resolver,
    addresses,
    assert_resolves,
    assert_stop_page,
    cnames,
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


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[FeedServer]:
    with feed_server() as server:
        (tmp_path / "feed.pub").write_text(server.public_key_text())
        yield server


def stop_page_address(resolver: Resolver, name: str) -> None:
    answer = query(resolver, name)
    assert addresses(answer) == {STOP_V4} and not cnames(answer), (name, answer.to_text())
    assert addresses(query(resolver, name, "AAAA")) == {"2001:db8::80"}


def test_unbound_with_the_address_variant(feed: FeedServer, tmp_path: Path) -> None:
    rpz = tmp_path / "isp" / "feed.a.rpz"
    rpz.parent.mkdir()
    with start_unbound(tmp_path, rpz) as unbound:
        client = Client(feed, tmp_path, rpz, "a.rpz", unbound)
        feed.publish(make_version(1, [BLOCKED, EXACT]))
        assert client.pull() == EXIT_OK
        for name in ("csam-gallery.test", "a.b.csam-gallery.test", "exact-only.test"):
            stop_page_address(unbound, name)
        assert_resolves(unbound, "sub.exact-only.test")
        assert_resolves(unbound, "good.test")
        feed.publish(make_version(2, [EXACT]))  # the lift
        assert client.pull() == EXIT_OK
        assert_resolves(unbound, "csam-gallery.test")
        assert_resolves(unbound, "a.b.csam-gallery.test")
        stop_page_address(unbound, "exact-only.test")


def test_bind_with_both_variants(feed: FeedServer, tmp_path: Path) -> None:
    with start_internet(tmp_path) as internet:
        for fmt, blocked in (("rpz", assert_stop_page), ("a.rpz", stop_page_address)):
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
        stop_page_address(unbound, "csam-gallery.test")
        stop_page_address(unbound, "a.b.csam-gallery.test")
        stop_page_address(unbound, "exact-only.test")
        assert_resolves(unbound, "sub.exact-only.test")
        assert_resolves(unbound, "good.test")
        aaaa = query(unbound, "good.test", "AAAA")
        assert {rd.to_text() for rrset in aaaa.answer if rrset.rdtype == dns.rdatatype.AAAA for rd in rrset} == \
            {"2001:db8::10"}


def test_nine_attacks_refused_with_a_clear_message_while_unbound_keeps_blocking(
    feed: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    key = feed.key
    attacker = signing.SecretKey.generate()
    (tmp_path / "attacker.pub").write_text(attacker.public_key().to_text())
    applied = make_version(1, [BLOCKED])
    genuine = make_version(2, [BLOCKED, SECOND])
    with start_unbound(tmp_path, rpz) as unbound:
        client = Client(feed, tmp_path, rpz, "rpz", unbound)
        feed.publish(applied)
        assert client.pull() == EXIT_OK
        good = rpz.read_bytes()
        feed.publish(genuine)

        def envelope_of(version: formats.FeedVersion, signer: signing.SecretKey = key) -> dict[str, bytes]:
            files = signed_files(version, signer)
            return {"latest.json": files["json"], "latest.json.minisig": files["json.minisig"]}

        served = feed.files
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=8)
        attacks: list[tuple[str, dict[str, bytes], str, Path | None]] = [
            ("wrong key", {}, "which is not trusted", tmp_path / "attacker.pub"),
            ("wrong signature", envelope_of(genuine, attacker), "which is not trusted", None),
            ("tampered body", {"versions/2.rpz": served["versions/2.rpz"].replace(b"second.test", b"second.exampl")},
             "signature does not match the data", None),
            ("truncated body", {"versions/2.rpz": served["versions/2.rpz"][:-30]}, "does not match the data", None),
            ("truncated envelope", {"latest.json": served["latest.json"][:-30]}, "does not match the data", None),
            ("same serial, other hash", envelope_of(make_version(1, [BLOCKED, SECOND])),
             "serial 1 arrived with a different content", None),
            ("expired", envelope_of(make_version(3, [BLOCKED, SECOND], generated_at=past)), "expired at", None),
            ("protected name", envelope_of(make_version(3, [BLOCKED, "google.com"])), "protected name(s): google.com",
             None),
            ("size jump", envelope_of(make_version(3, [BLOCKED, *(f"n{i}.test" for i in range(40))])),
             "changes 40 of 1 names", None),
        ]
        for name, overrides, message, pubkey in attacks:
            feed.overrides = overrides
            capsys.readouterr()
            code = client.pull(pubkey=pubkey)
            err = capsys.readouterr().err
            assert code == EXIT_REFUSED, (name, err)
            assert message in err and err.startswith("isp-feed: refused, keeping the last good list:"), (name, err)
            assert len(err.strip().splitlines()) == 1, err
            assert rpz.read_bytes() == good, name
            assert_stop_page(unbound, "csam-gallery.test")
            assert_resolves(unbound, "good.test")
        feed.overrides = {}
        assert client.pull() == EXIT_OK  # the genuine version applies once the attacker is gone
        assert_stop_page(unbound, "second.test")
        # The rollback (ninth attack) needs an applied serial above a genuinely signed older one: now 2 over 1.
        applied_now = rpz.read_bytes()
        feed.overrides = envelope_of(applied)
        capsys.readouterr()
        assert client.pull() == EXIT_REFUSED
        assert "rollback: offered serial 1 is older than the applied 2" in capsys.readouterr().err
        assert rpz.read_bytes() == applied_now
        assert_stop_page(unbound, "second.test")
        assert_resolves(unbound, "good.test")


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
