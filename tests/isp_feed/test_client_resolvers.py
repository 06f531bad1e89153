"""The reference client's files loaded by REAL resolvers (Unbound, BIND) on loopback, fed by the stand-in feed
server: the first load (whole download), then the deltas the client splices into its own files, a lift, a changed
scope and a re-issue, each followed by what the resolver answers. Every "blocked" comes with the positive control
`good.test` still resolving (an NXDOMAIN-everything resolver would otherwise pass)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from isp_feed_client import formats
from isp_feed_client.cli import EXIT_OK, main
from tests.support.feed_server import FeedServer, make_version
from tests.support.resolvers import (
    Resolver,
    assert_resolves,
    assert_stop_page,
    assert_stop_page_address,
    eventually,
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

    def pull(self) -> list[str]:
        """Pull (it must apply); the paths it fetched."""
        start = len(self.feed.fetches)
        argv = ["pull", "--server", self.feed.url, "--token", self.feed.token, "--pubkey",
                str(self.folder / "feed.pub"), "--state-dir", str(self.folder / "state"), "--format", self.fmt,
                "--out", str(self.out)]
        if self.resolver is not None:
            argv += ["--reload", " ".join(self.resolver.reload_command)]
        assert main(argv) == EXIT_OK
        assert self.out.read_bytes() == self.feed.files[f"versions/{self.feed.latest}.{self.fmt}"]
        return self.feed.paths()[start:]





def _walk(client: Client, blocked: Callable[[Resolver, str], None], settle: Callable[[Callable[[], None]], None]
          ) -> None:
    """First load, +1 by delta, a changed scope by delta, a lift by delta, a re-issue: the resolver follows."""
    resolver, feed = client.resolver, client.feed
    assert resolver is not None

    feed.publish(make_version(1, [BLOCKED, EXACT]))
    assert "versions/1.list" in client.pull()
    settle(lambda: blocked(resolver, "a.b.csam-gallery.test"))
    blocked(resolver, "csam-gallery.test")
    blocked(resolver, "exact-only.test")
    assert_resolves(resolver, "sub.exact-only.test")  # exact scope: its subdomain is not blocked
    assert_resolves(resolver, "second.test")
    assert_resolves(resolver, "good.test")

    feed.publish(make_version(2, [BLOCKED, EXACT, SECOND]))
    assert client.pull() == ["latest.manifest.json", "latest.manifest.json.minisig", "diff?from=1&to=2", "applied"]
    settle(lambda: blocked(resolver, "second.test"))
    blocked(resolver, "csam-gallery.test")
    assert_resolves(resolver, "good.test")

    feed.publish(make_version(3, [BLOCKED, EXACT._replace(scope="domain_and_subdomains"), SECOND]))
    assert "diff?from=2&to=3" in client.pull()
    settle(lambda: blocked(resolver, "sub.exact-only.test"))  # now with its subdomains
    blocked(resolver, "exact-only.test")

    feed.publish(make_version(4, [EXACT, SECOND]))  # the lift
    assert "diff?from=3&to=4" in client.pull()
    settle(lambda: assert_resolves(resolver, "csam-gallery.test"))
    assert_resolves(resolver, "a.b.csam-gallery.test")
    blocked(resolver, "second.test")
    assert_resolves(resolver, "good.test")

    feed.reissue()  # serial 5: a new expiry, the same files: nothing downloaded, the resolver is unchanged
    assert client.pull() == ["latest.manifest.json", "latest.manifest.json.minisig", "applied"]
    blocked(resolver, "second.test")
    assert_resolves(resolver, "csam-gallery.test")


def _at_once(check: Callable[[], None]) -> None:
    check()  # Unbound's reload returns once the zone is loaded


@pytest.mark.parametrize(("fmt", "blocked"), [("rpz", assert_stop_page), ("a.rpz", assert_stop_page_address)])
def test_unbound_follows_whole_then_spliced_files(feed: FeedServer, tmp_path: Path, fmt: str,
                                                  blocked: Callable[[Resolver, str], None]) -> None:
    rpz = tmp_path / "isp" / f"feed.{fmt}"
    rpz.parent.mkdir()
    with start_unbound(tmp_path, rpz) as unbound:
        _walk(Client(feed, tmp_path, rpz, fmt, unbound), blocked, _at_once)


def test_unbound_local_zones_follow_spliced_configuration(feed: FeedServer, tmp_path: Path) -> None:
    conf = tmp_path / "isp" / "blocklist.unbound.conf"
    conf.parent.mkdir()
    conf.write_text("server:\n")  # Unbound includes it from the start; the client replaces it
    with start_unbound(tmp_path, None, extra_config=f'include: "{conf}"\n') as unbound:
        _walk(Client(feed, tmp_path, conf, "unbound.conf", unbound), assert_stop_page_address, _at_once)


def test_bind_follows_whole_then_spliced_files(feed: FeedServer, tmp_path: Path) -> None:
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    with start_internet(tmp_path) as internet, start_bind(tmp_path, rpz, internet) as bind:
        # `rndc reload` returns before the zone is loaded
        _walk(Client(feed, tmp_path, rpz, "rpz", bind), assert_stop_page, eventually)
