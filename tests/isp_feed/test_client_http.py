"""The client's HTTP (isp_feed_client/http.py, requests): TLS verified against the system's CAs or `--ca-file`, the
proxy settings of the environment honoured, a restarting server (5xx) retried with backoff, and none of it changing
what a refusal or a fetch failure means (exit codes of test_client.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isp_feed_client.cli import EXIT_FETCH, EXIT_OK, main
from tests.support.feed_server import FeedServer, feed_server, make_version
from tests.support.ports import free_port
from tests.support.smtp import Pki, make_pki

BLOCKED = "csam-gallery.test"


def _pull(feed: FeedServer, folder: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["pull", "--server", feed.url, "--token", feed.token, "--pubkey", str(folder / "feed.pub"),
                 "--state-dir", str(folder / "state"), "--out", str(folder / "feed.rpz"), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def https_feed(tmp_path: Path, pki: Pki) -> Iterator[FeedServer]:
    with feed_server(tls=pki) as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        feed.publish(make_version(1, [BLOCKED]))
        yield feed


def test_https_with_a_private_ca_given_by_ca_file(https_feed: FeedServer, tmp_path: Path, pki: Pki,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert https_feed.url.startswith("https://127.0.0.1:")
    code, text = _pull(https_feed, tmp_path, capsys, "--ca-file", str(pki.ca_file))
    assert code == EXIT_OK and "applied serial 1" in text, text
    assert https_feed.applied[-1]["serial"] == 1


def test_a_certificate_no_trusted_ca_signed_is_a_fetch_failure(https_feed: FeedServer, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _pull(https_feed, tmp_path, capsys, "--retries", "0")  # the system's CAs know no test CA
    assert code == EXIT_FETCH and "CERTIFICATE_VERIFY_FAILED" in text, text
    assert not (tmp_path / "feed.rpz").exists() and https_feed.fetches == []  # not a byte was asked for


def test_a_restarting_server_is_retried_with_backoff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        feed.publish(make_version(1, [BLOCKED]))
        feed.failing = {"latest.manifest.json": [503, 502], "versions/1.rpz": [500]}
        code, text = _pull(feed, tmp_path, capsys, "--backoff", "0.05")
        assert code == EXIT_OK, text
        assert [f for f in feed.fetches if "manifest.json" in f[0] and "minisig" not in f[0]] == [
            ("/feed/v1/latest.manifest.json", 503), ("/feed/v1/latest.manifest.json", 502),
            ("/feed/v1/latest.manifest.json", 200)]
        # more failures than retries: the last answer is the failure, exit 4, nothing written over the last good file
        feed.publish(make_version(2, [BLOCKED, "second.test"]))
        feed.failing = {"latest.manifest.json": [503] * 5}
        start = len(feed.fetches)
        code, text = _pull(feed, tmp_path, capsys, "--backoff", "0.01", "--retries", "2")
        assert code == EXIT_FETCH and "HTTP 503" in text, text
        assert feed.fetches[start:] == [("/feed/v1/latest.manifest.json", 503)] * 3  # the first try, two retries
        assert (tmp_path / "feed.rpz").read_bytes() == feed.files["versions/1.rpz"]


def test_the_proxy_settings_of_the_environment_are_honoured(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        feed.publish(make_version(1, [BLOCKED]))
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # a proxy that is down
        monkeypatch.setenv("NO_PROXY", "")
        code, text = _pull(feed, tmp_path, capsys, "--retries", "0")
        assert code == EXIT_FETCH and "ProxyError" in text and feed.fetches == [], text
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # this server is reached directly
        code, text = _pull(feed, tmp_path, capsys, "--retries", "0")
        assert code == EXIT_OK, text
