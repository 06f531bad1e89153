"""Every resolver ISPs run, each the real Debian daemon on loopback with the configuration the manual shows, fed by
the reference client (which acknowledges only once the resolver answers the serial's canary): blocked name, its
subdomains, the exact scope (refused by the client where the format cannot express it: dnsmasq), IDN, case, the
positive control, A, AAAA and HTTPS never giving the real data of a blocked name, no PTR leak of a listed name, a name
cached before its block blocked at once, a lift, and which resolvers attach an Extended DNS Error to the block."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from isp_feed_client import formats
from isp_feed_client.cli import EXIT_OK, EXIT_REFUSED, EXIT_RELOAD, main
from tests.support.feed_server import FeedServer, make_version
from tests.support.resolvers import (
    RPZ_ZONE,
    STOP_NAME,
    STOP_URL,
    TEST_INTERNET,
    Resolver,
    assert_blocked,
    assert_resolves,
    ede,
    https_hints,
    ptr_names,
    query,
    start_bind,
    start_dnsmasq,
    start_internet,
    start_knot_resolver,
    start_pdns_recursor,
    start_unbound,
)

BLOCKED = formats.FeedEntry("csam-gallery.test", "csam-gallery.test", "domain_and_subdomains")
EXACT = formats.FeedEntry("exact-only.test", "exact-only.test", "exact")
IDN = formats.FeedEntry("xn--bcher-kva.test", "bücher.test", "domain_and_subdomains")
SECOND = formats.FeedEntry("second.test", "second.test", "domain_and_subdomains")

Starter = Callable[[Path, Path, Resolver], AbstractContextManager[Resolver]]


@dataclass(frozen=True)
class Setup:
    """One resolver as the manual configures it: how it starts, the format it loads, how the client reloads it."""

    fmt: str
    start: Starter
    cname: bool  # blocked by a CNAME to the stop page (else by its address)
    exact: bool  # the format honours the exact scope
    ede: set[int]  # the Extended DNS Error codes its block answer carries (RFC 8914; 16 "Censored")
    reload: Callable[[Resolver], list[str]] = Resolver.reload_args


def _unbound(tmp: Path, rpz: Path, internet: Resolver) -> AbstractContextManager[Resolver]:
    return start_unbound(tmp, rpz)  # resolves the test internet itself


def _unbound_zone_reload(unbound: Resolver) -> list[str]:
    # Only the RPZ zone is re-read (the manual's command): a full `reload` would also drop the cache.
    return ["--reload", " ".join([*unbound.reload_command[:-1], "auth_zone_reload", RPZ_ZONE])]


def _bind_zone_reload(bind: Resolver) -> list[str]:
    return ["--reload", " ".join([*bind.reload_command, RPZ_ZONE])]  # queued: the canary tells when it is loaded


SETUPS = {
    "unbound-rpz": Setup("rpz", _unbound, cname=True, exact=True, ede=set(), reload=_unbound_zone_reload),
    "unbound-a.rpz": Setup("a.rpz", _unbound, cname=False, exact=True, ede=set(), reload=_unbound_zone_reload),
    "bind-rpz": Setup("rpz", start_bind, cname=True, exact=True, ede=set(), reload=_bind_zone_reload),
    "pdns-rpz": Setup("rpz", start_pdns_recursor, cname=True, exact=True, ede={16}),
    "knot-a.rpz": Setup("a.rpz", start_knot_resolver, cname=False, exact=True, ede={4}),
    "dnsmasq": Setup("dnsmasq.conf", start_dnsmasq, cname=False, exact=False, ede=set()),
}


@dataclass
class Isp:
    """An ISP's resolver and its client."""

    feed: FeedServer
    folder: Path
    setup: Setup
    resolver: Resolver
    out: Path

    def pull(self, *, fault: bool = False) -> int:
        """`isp-feed pull`; with `fault`, the file the client installed gets one bad line just before the resolver
        reloads it, once (a resolver refusing what the client wrote: the client has verified it already)."""
        reload = self.setup.reload(self.resolver)
        if fault:
            armed = self.folder / "armed"
            armed.touch()
            script = self.folder / "fault"
            script.write_text(f"""#!/bin/sh
if [ -e {armed} ]; then rm {armed}; sed -i '2i this is not a record' {self.out}; fi
exec "$@"
""")
            script.chmod(0o755)
            reload[1] = f"{script} {reload[1]}"
        return main(["pull", "--server", self.feed.url, "--token", self.feed.token, "--pubkey",
                     str(self.folder / "feed.pub"), "--state-dir", str(self.folder / "state"), "--format",
                     self.setup.fmt, "--out", str(self.out), *reload,
                     "--resolver", f"{self.resolver.ip}:{self.resolver.port}", "--resolver-wait", "3"])


@pytest.fixture(params=list(SETUPS))
def isp(request: pytest.FixtureRequest, feed: FeedServer, tmp_path: Path) -> Iterator[Isp]:
    setup = SETUPS[request.param]
    out = tmp_path / "isp" / f"blocklist.{setup.fmt}"
    out.parent.mkdir()
    with ExitStack() as stack:
        internet = stack.enter_context(start_internet(tmp_path))
        resolver = stack.enter_context(setup.start(tmp_path, out, internet))
        yield Isp(feed, tmp_path, setup, resolver, out)


def test_blocks_every_type_and_lifts(isp: Isp) -> None:
    resolver, cname = isp.resolver, isp.setup.cname
    assert_resolves(resolver, "second.test")  # looked up, so cached, before it is blocked below
    assert https_hints(resolver, "csam-gallery.test") == {TEST_INTERNET["csam-gallery.test"]}  # the HTTPS control
    first = [BLOCKED, IDN, *([EXACT] if isp.setup.exact else [])]
    isp.feed.publish(make_version(1, first))
    assert isp.pull() == EXIT_OK

    for name in ("csam-gallery.test", "a.b.csam-gallery.test", "CSAM-Gallery.TEST", "xn--bcher-kva.test",
                 "www.xn--bcher-kva.test"):
        assert_blocked(resolver, name, cname=cname)
    if isp.setup.exact:
        assert_blocked(resolver, "exact-only.test", cname=cname)
        assert_resolves(resolver, "sub.exact-only.test")  # exact: its subdomains are not blocked
    assert_resolves(resolver, "good.test")  # the positive control, every type
    assert https_hints(resolver, "good.test") == {TEST_INTERNET["good.test"]}
    assert ptr_names(resolver) <= {STOP_NAME}  # the stop page's address names no listed site
    assert {code for code, _ in ede(resolver, "csam-gallery.test")} == isp.setup.ede
    for code, text in ede(resolver, "csam-gallery.test"):
        if code == 16:
            assert text == STOP_URL  # the extra text says where the block is explained

    isp.feed.publish(make_version(2, [IDN, SECOND]))  # lifts csam-gallery.test, blocks a name already cached
    assert isp.pull() == EXIT_OK
    assert_blocked(resolver, "second.test", cname=cname)
    assert_blocked(resolver, "www.second.test", cname=cname)
    assert_resolves(resolver, "csam-gallery.test")
    assert_resolves(resolver, "a.b.csam-gallery.test")
    assert https_hints(resolver, "csam-gallery.test") == {TEST_INTERNET["csam-gallery.test"]}
    assert_blocked(resolver, "xn--bcher-kva.test", cname=cname)


def test_dnsmasq_exact_scope_is_refused_by_the_client(feed: FeedServer, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    setup = SETUPS["dnsmasq"]
    out = tmp_path / "isp" / "blocklist.dnsmasq.conf"
    out.parent.mkdir()
    with start_internet(tmp_path) as internet, start_dnsmasq(tmp_path, out, internet) as dnsmasq:
        isp = Isp(feed, tmp_path, setup, dnsmasq, out)
        feed.publish(make_version(1, [BLOCKED]))
        assert isp.pull() == EXIT_OK
        before = out.read_bytes()
        feed.publish(make_version(2, [BLOCKED, EXACT]))
        capsys.readouterr()
        assert isp.pull() == EXIT_REFUSED
        said = capsys.readouterr().err
        assert "exact-only.test without its subdomains (scope exact)" in said and "dnsmasq.conf" in said, said
        assert out.read_bytes() == before  # nothing written: the last good list stays in force
        assert_resolves(dnsmasq, "sub.exact-only.test")
        assert_blocked(dnsmasq, "csam-gallery.test", cname=False)


def test_a_file_the_resolver_refuses_is_never_acknowledged(isp: Isp, capsys: pytest.CaptureFixture[str]) -> None:
    """Unbound's zone reload exits 1 (keeping the zone cut at the bad line) and dnsmasq's restart fails (it stops
    answering); PowerDNS exits 0 and drops the policy, BIND exits 0 ("queued") and keeps the old zone, Knot restarts
    with the names before the bad line: those three only the canary check catches. In each case the client puts the
    previous file back, reloads it, sees the previous serial's canary again, and acknowledges nothing."""
    resolver, cname = isp.resolver, isp.setup.cname
    isp.feed.publish(make_version(1, [BLOCKED, IDN]))
    assert isp.pull() == EXIT_OK
    first = isp.out.read_bytes()
    isp.feed.publish(make_version(2, [BLOCKED, IDN, SECOND]))
    capsys.readouterr()
    assert isp.pull(fault=True) == EXIT_RELOAD
    said = capsys.readouterr().err
    assert "the previous file was put back and reloaded and served again" in said, said
    assert "serial 2 is not acknowledged" in said
    # reported as a failed apply (`ok: false`), never acknowledged
    assert [(a["serial"], a.get("ok", True)) for a in isp.feed.applied] == [(1, True), (2, False)]
    assert isp.out.read_bytes() == first
    assert_blocked(resolver, "csam-gallery.test", cname=cname)  # the previous list, whole, in force
    assert_blocked(resolver, "xn--bcher-kva.test", cname=cname)
    assert_resolves(resolver, "second.test")
    assert_resolves(resolver, "good.test")
    assert isp.pull() == EXIT_OK  # the next pull applies it
    assert [(a["serial"], a.get("ok", True)) for a in isp.feed.applied] == [(1, True), (2, False), (2, True)]
    assert_blocked(resolver, "second.test", cname=cname)


# The TTL of a blocked name's own record (its CNAME to the stop page, or its A/AAAA) as each set-up answers it, where
# every file of the feed says 300: BIND caps policy answers at its max-policy-ttl (default 5 s), dnsmasq answers its
# own data with local-ttl (default 0). What it means for time-to-block and for lifting: docs/isp.md ("TTLs").
FILE_TTL = 300
BLOCK_TTL = {"unbound-rpz": FILE_TTL, "unbound-a.rpz": FILE_TTL, "bind-rpz": 5, "pdns-rpz": FILE_TTL,
             "knot-a.rpz": FILE_TTL, "dnsmasq": 0}
STOP_ZONE_TTL = 300  # the stop page's own zone in the test internet


def test_the_ttl_of_a_block_answer(isp: Isp) -> None:
    name = next(n for n, s in SETUPS.items() if s is isp.setup)
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull() == EXIT_OK
    for qname in ("csam-gallery.test", "www.csam-gallery.test"):
        for qtype in ("A", "AAAA"):
            answer = query(isp.resolver, qname, qtype)
            own = {r.ttl for r in answer.answer if r.name.to_text().rstrip(".") == qname}
            assert own == {BLOCK_TTL[name]}, (name, answer.to_text())
            # Behind a CNAME, the stop page's own address keeps the TTL of the stop page's zone.
            stop = {r.ttl for r in answer.answer if r.name.to_text().rstrip(".") == STOP_NAME}
            assert stop == ({STOP_ZONE_TTL} if isp.setup.cname else set()), (name, answer.to_text())
