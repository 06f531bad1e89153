"""The client's canary check, its options and its refusals (the checks against real resolvers, each failure case
included: test_resolvers_each.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from isp_feed_client import canary_check
from isp_feed_client.cli import EXIT_RELOAD, EXIT_USAGE, main
from tests.support.feed_server import FeedServer, make_version
from tests.support.resolvers import start_unbound


@pytest.mark.parametrize(("text", "parsed"), [("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
                                              ("[::1]:53", ("::1", 53)), ("::1", ("::1", 53))])
def test_resolver_addresses(text: str, parsed: tuple[str, int]) -> None:
    assert canary_check.parse_resolver(text) == parsed


@pytest.mark.parametrize("text", ["resolver.example:53", "127.0.0.1:0", "127.0.0.1:x", ""])
def test_a_resolver_is_an_address_never_a_name(text: str) -> None:
    with pytest.raises(ValueError, match=r"IP|port"):
        canary_check.parse_resolver(text)


def test_a_bad_resolver_option_is_a_usage_error(feed: FeedServer, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["pull", "--server", feed.url, "--token", feed.token, "--pubkey", str(tmp_path / "feed.pub"),
              "--state-dir", str(tmp_path / "state"), "--out", str(tmp_path / "feed.rpz"),
              "--resolver", "resolver.example"])
    assert exited.value.code == EXIT_USAGE and "never a name" in capsys.readouterr().err


def test_a_first_load_the_resolver_does_not_serve_is_not_acknowledged(feed: FeedServer, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # a resolver without the feed's file configured: it answers, but never the canary
    with start_unbound(tmp_path, None) as unbound:
        feed.publish(make_version(1, ["csam-gallery.test"]))
        code = main(["pull", "--server", feed.url, "--token", feed.token, "--pubkey", str(tmp_path / "feed.pub"),
                     "--state-dir", str(tmp_path / "state"), "--out", str(tmp_path / "feed.rpz"),
                     "--resolver", f"{unbound.ip}:{unbound.port}", "--resolver-wait", "0.5"])
    said = capsys.readouterr().err
    assert code == EXIT_RELOAD and "serial-1.canary.stop.blocklist.example with NXDOMAIN" in said, said
    assert "no previous file to put back; serial 1 is not acknowledged" in said
    # reported to the server as a failed apply, never acknowledged
    assert [(a["serial"], a["ok"]) for a in feed.applied] == [(1, False)] and "canary" in feed.applied[0]["error"]
    assert not (tmp_path / "state" / "state.json").exists()
