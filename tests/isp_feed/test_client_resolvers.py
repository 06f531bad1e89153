"""The reference client against the real server, applying the feed to real Unbound and BIND resolvers.

Every assertion that a name is blocked comes with the positive control: `good.test` still resolves to its
real address (an NXDOMAIN-everything resolver would otherwise pass).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.models import User
from blocklist.names import NamePolicy
from isp_feed import signing
from isp_feed.client.cli import main as isp_feed_main
from isp_feed.jobs import publish_feed
from tests.blocklist.helpers import submission
from tests.support.resolvers import (
    Resolver,
    assert_resolves,
    assert_stop_page,
    eventually,
    start_bind,
    start_internet,
    start_unbound,
)
from tests.support.server import live_server

POLICY = NamePolicy.build()


@dataclass
class Chain:
    """A server, an ISP's credential and pinned key, and a client command line."""

    rt: Runtime
    url: str
    token: str
    pubkey: Path
    folder: Path
    people: dict[str, User]

    def pull(self, out: Path, reload: str, *extra: str, fmt: str = "rpz") -> int:
        return isp_feed_main(["pull", "--server", self.url, "--token", self.token, "--pubkey", str(self.pubkey),
                              "--state-dir", str(out.parent / "state"), "--format", fmt, "--out", str(out),
                              "--reload", reload, *extra])

    def approve(self, *domains: str, scope: str = "domain_and_subdomains") -> None:
        with self.rt.database.transaction() as s:
            ids = [workflow.submit(s, actor=self.people["officer"], policy=POLICY,
                                   data=submission(d, scope=scope)).id for d in domains]
        with self.rt.database.transaction() as s:
            workflow.approve(s, actor=self.people["magistrate"], submission_ids=ids)
        publish_feed(self.rt.job_context)

    def lift(self, domain: str) -> None:
        with self.rt.database.transaction() as s:
            workflow.lift(s, actor=self.people["magistrate2"], domain=domain, reason="content gone")
        publish_feed(self.rt.job_context)


@pytest.fixture
def chain(rt: Runtime, people: dict[str, User], tmp_path: Path) -> Iterator[Chain]:
    with rt.database.transaction() as s:
        _, token = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
    pubkey = tmp_path / "feed.pub"
    pubkey.write_text(rt.keys.active_public_key().to_text())
    publish_feed(rt.job_context)
    with live_server(rt) as url:
        yield Chain(rt, url, token, pubkey, tmp_path, people)


def _reload_cmd(resolver: Resolver) -> str:
    return " ".join(resolver.reload_command)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unbound_blocks_after_pull_and_unblocks_after_lift(chain: Chain, tmp_path: Path) -> None:
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    with start_unbound(tmp_path, rpz) as unbound:
        started = time.monotonic()
        chain.approve("csam-gallery.test")
        chain.approve("exact-only.test", scope="exact")
        assert chain.pull(rpz, _reload_cmd(unbound)) == 0
        elapsed = time.monotonic() - started
        assert_stop_page(unbound, "csam-gallery.test")
        assert_stop_page(unbound, "a.b.csam-gallery.test")
        assert_stop_page(unbound, "exact-only.test")
        assert_resolves(unbound, "sub.exact-only.test")  # exact scope: its subdomain is not blocked
        assert_resolves(unbound, "good.test")  # the positive control
        assert chain.pull(rpz, _reload_cmd(unbound)) == 0  # already current
        chain.lift("csam-gallery.test")
        assert chain.pull(rpz, _reload_cmd(unbound)) == 0
        assert_resolves(unbound, "csam-gallery.test")
        assert_stop_page(unbound, "exact-only.test")
        print(f"approval -> pulled -> Unbound answers the stop page: {elapsed:.2f} s")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bind_applies_the_same_rpz(chain: Chain, tmp_path: Path) -> None:
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    with start_internet(tmp_path) as internet, start_bind(tmp_path, rpz, internet) as bind:
        chain.approve("csam-gallery.test")
        assert chain.pull(rpz, _reload_cmd(bind)) == 0
        eventually(lambda: assert_stop_page(bind, "csam-gallery.test"))  # rndc reload returns before the load

        assert_stop_page(bind, "a.b.csam-gallery.test")
        assert_resolves(bind, "good.test")
        chain.lift("csam-gallery.test")
        assert chain.pull(rpz, _reload_cmd(bind)) == 0
        eventually(lambda: assert_resolves(bind, "csam-gallery.test"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_server_sees_the_applied_serial(chain: Chain, tmp_path: Path) -> None:
    from isp_feed.serving import feed_states

    out = tmp_path / "isp" / "feed.json"
    chain.approve("csam-gallery.test")
    assert chain.pull(out, "true", fmt="json") == 0
    with chain.rt.database.transaction() as s:
        (state,) = feed_states(s)
        assert state.applied_serial == 2 and state.behind == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest()
    assert signing  # the client verified with the pinned key (see the attack tests for refusals)
    assert dt.datetime.now(dt.UTC)
