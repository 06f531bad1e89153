"""The whole chain through the REAL server: workflow approvals and lifts, the incremental publisher, `/feed/v1` over
HTTP, `isp-feed pull`, and a real Unbound answering. The first load downloads the whole list; every later change
goes by manifest + delta only; the hourly re-issue downloads nothing; a tampered delta falls back to the genuine
files, and tampered files on top are refused while Unbound keeps blocking. (The attacks byte by byte, against the
stand-in server: test_client_attacks.py.)"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from api import feed_not_modified
from api.runtime import Runtime
from blocklist import isps, workflow
from blocklist.models import User
from isp_feed.jobs import publish_feed
from isp_feed.models import FeedFetch
from isp_feed_client import delta, formats
from isp_feed_client.cli import EXIT_OK, EXIT_REFUSED
from isp_feed_client.cli import main as isp_feed_main
from tests.support.factories import approved
from tests.support.resolvers import Resolver, assert_resolves, assert_stop_page, start_unbound
from tests.support.server import live_server
from tests.support.tamper_proxy import TamperProxy, tamper_proxy


@dataclass
class Chain:
    """The server, a tampering proxy in front of it, an ISP's credential and pinned key, and its Unbound."""

    rt: Runtime
    proxy: TamperProxy
    token: str
    folder: Path
    rpz: Path
    unbound: Resolver
    people: dict[str, User]
    url: str  # the server itself, not through the proxy
    seen: int = 0

    def pull(self) -> int:
        return isp_feed_main(["pull", "--server", self.proxy.url, "--token", self.token, "--pubkey",
                              str(self.folder / "feed.pub"), "--state-dir", str(self.folder / "state"),
                              "--out", str(self.rpz), "--reload", " ".join(self.unbound.reload_command)])

    def fetched(self) -> list[str]:
        """What the client asked the server for since the last call (from the server's own fetch log)."""
        self.rt.job_context.fetch_log.flush(self.rt.database)
        with self.rt.database.reading() as s:
            rows = s.execute(select(FeedFetch.id, FeedFetch.ext).where(FeedFetch.id > self.seen)
                             .order_by(FeedFetch.id)).all()
        if rows:
            self.seen = rows[-1][0]
        return [ext for _, ext in rows]

    def approve(self, *names: str) -> None:
        with self.rt.database.transaction() as s:
            approved(s, self.people["officer"], self.people["magistrate"], *names)
        assert publish_feed(self.rt.job_context) is not None


@pytest.fixture
def chain(rt: Runtime, people: dict[str, User], tmp_path: Path) -> Iterator[Chain]:
    with rt.database.transaction() as s:
        _, token = isps.add_isp(s, actor="test", name="ISP One", email="noc@isp-one.example", language="fr")
    (tmp_path / "feed.pub").write_text(rt.keys.active_public_key().to_text())
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    with live_server(rt) as url, tamper_proxy(url) as proxy, start_unbound(tmp_path, rpz) as unbound:
        yield Chain(rt, proxy, token, tmp_path, rpz, unbound, people, url)


def test_a_looping_client_is_handed_each_version_as_it_is_published(chain: Chain,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`isp-feed pull --loop --interval 20`: each poll of a current client is held by the server until a new
    version is published (Prefer: wait, api/feed_not_modified.py) or its limit (here 1 s) runs out, and a held poll
    is followed by the next at once, so each version is in force long before the interval would have let the client
    ask again."""
    monkeypatch.setattr(feed_not_modified, "WAIT_LIMIT", 1.0)
    chain.approve("csam-gallery.test")
    state = chain.folder / "state" / "state.json"
    argv = [sys.executable, "-m", "isp_feed_client.cli", "pull", "--server", chain.url, "--token", chain.token,
            "--pubkey", str(chain.folder / "feed.pub"), "--state-dir", str(chain.folder / "state"), "--out",
            str(chain.rpz), "--reload", " ".join(chain.unbound.reload_command), "--loop", "--interval", "20"]
    log = (chain.folder / "client.log").open("w")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})

    def serial_applied(serial: int, within: float) -> None:
        deadline = time.monotonic() + within
        while not (state.exists() and f'"serial": {serial}' in state.read_text()):
            said = (chain.folder / "client.log").read_text()
            assert process.poll() is None and time.monotonic() < deadline, f"serial {serial} not applied: {said}"
            time.sleep(0.05)

    try:
        serial_applied(1, 60)
        for serial, name in ((2, "second-gallery.test"), (3, "third-gallery.test")):
            time.sleep(2.5)  # the client is current: its polls are held, one after the other
            chain.approve(name)
            serial_applied(serial, 10)  # the interval (20 s) would not have let it ask before
            assert_stop_page(chain.unbound, name)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_first_load_whole_then_deltas_then_a_reissue_that_downloads_nothing(chain: Chain) -> None:
    chain.approve("csam-gallery.test")
    assert chain.pull() == EXIT_OK
    assert_stop_page(chain.unbound, "www.csam-gallery.test")
    assert_resolves(chain.unbound, "good.test")
    first = chain.fetched()
    assert "list" in first and "rpz" in first  # the first load is the whole list

    chain.approve("second-gallery.test")
    assert chain.pull() == EXIT_OK
    assert_stop_page(chain.unbound, "second-gallery.test")
    assert [f for f in chain.fetched() if f not in ("manifest.json", "manifest.json.minisig")] == ["diff:1"]

    with chain.rt.database.transaction() as s:
        workflow.lift(s, actor=chain.people["magistrate2"], domain="csam-gallery.test", reason="content removed")
    assert publish_feed(chain.rt.job_context) == 3
    assert chain.pull() == EXIT_OK
    assert_resolves(chain.unbound, "csam-gallery.test")
    assert_stop_page(chain.unbound, "second-gallery.test")
    assert [f for f in chain.fetched() if not f.startswith("manifest")] == ["diff:2"]
    with chain.rt.database.reading() as s:  # what the client built from deltas is the server's file, byte for byte
        from isp_feed import versions

        assert chain.rpz.read_bytes() == versions.file_bytes(s, versions.get_version(s, 3), "rpz",
                                                             chain.rt.settings.data_dir)

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert publish_feed(chain.rt.job_context, now=later) == 4  # the hourly re-issue
    before = chain.rpz.read_bytes()
    assert chain.pull() == EXIT_OK
    assert chain.rpz.read_bytes() == before
    assert all(f.startswith("manifest") for f in chain.fetched())  # no list, no file, no diff
    state = (chain.folder / "state" / "state.json").read_text()
    assert '"serial": 4' in state


def test_a_tampered_delta_falls_back_and_tampered_files_are_refused(chain: Chain,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    chain.approve("csam-gallery.test")
    assert chain.pull() == EXIT_OK
    chain.approve("second-gallery.test")
    forged = delta.delta_bytes(delta.Delta(1, 2, (formats.FeedEntry("other.example", "other.example",
                                                                    "domain_and_subdomains"),), ()))
    chain.proxy.rewrites = {"/feed/v1/diff": lambda _: forged}
    chain.fetched()
    assert chain.pull() == EXIT_OK  # the forged delta does not give the signed list: the whole files instead
    assert {"list", "rpz"} <= set(chain.fetched())
    assert_stop_page(chain.unbound, "second-gallery.test")
    assert b"other.example" not in chain.rpz.read_bytes()

    chain.approve("third-gallery.test")
    good = chain.rpz.read_bytes()
    chain.proxy.rewrites = {"/feed/v1/diff": lambda _: forged,
                            "/feed/v1/versions/3.rpz": lambda body: body.replace(b"third-gallery", b"third-galler0")}
    capsys.readouterr()
    assert chain.pull() == EXIT_REFUSED
    assert "refused, keeping the last good list" in capsys.readouterr().err
    assert chain.rpz.read_bytes() == good
    assert_stop_page(chain.unbound, "csam-gallery.test")
    assert_resolves(chain.unbound, "good.test")
    assert b"third-gallery" not in chain.rpz.read_bytes()
    chain.proxy.rewrites = {}
    assert chain.pull() == EXIT_OK
    assert_stop_page(chain.unbound, "third-gallery.test")
