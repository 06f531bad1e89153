"""The reference client's own logic against the stand-in feed server (no database, no resolver): what it fetches,
what it writes, what it remembers, what it reports, and each way it refuses or fails with its exit code."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from isp_feed import errors, formats, signing
from isp_feed.client import pull as pull_module
from isp_feed.client.cli import EXIT_FETCH, EXIT_NOT_AUTHORISED, EXIT_OK, EXIT_REFUSED, EXIT_RELOAD, EXIT_USAGE, main
from tests.support.feed_server import FeedServer, feed_server, make_version
from tests.support.ports import free_port


@dataclass
class Isp:
    """One ISP's client set-up against the stand-in server."""

    feed: FeedServer
    folder: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def out(self) -> Path:
        return self.folder / "resolver" / "feed.rpz"

    @property
    def state(self) -> Path:
        return self.folder / "state"

    def argv(self, *extra: str, fmt: str = "rpz", out: Path | None = None, server: str | None = None) -> list[str]:
        return ["pull", "--server", server or self.feed.url, "--token", self.feed.token, "--pubkey",
                str(self.folder / "feed.pub"), "--state-dir", str(self.state), "--format", fmt, "--out",
                str(out or self.out), *extra]

    def pull(self, *extra: str, **kwargs: object) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = main(self.argv(*extra, **kwargs))  # type: ignore[arg-type]
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def stored(self) -> dict[str, object]:
        value: dict[str, object] = json.loads((self.state / "state.json").read_text())
        return value


@pytest.fixture
def isp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Isp]:
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        yield Isp(feed, tmp_path, capsys)


def test_first_pull_applies_records_and_acknowledges(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    code, out, err = isp.pull()
    assert code == EXIT_OK, err
    assert "applied serial 1 (1 names)" in out
    served = isp.feed.files["versions/1.rpz"]
    assert isp.out.read_bytes() == served
    state = isp.stored()
    assert state["serial"] == 1 and state["sha256"] == hashlib.sha256(served).hexdigest()
    assert isp.feed.applied == [{"serial": 1, "sha256": hashlib.sha256(served).hexdigest(), "format": "rpz"}]
    # the body comes from the immutable URL of the serial the verified envelope names
    assert [path for path, _ in isp.feed.fetches] == ["/feed/v1/latest.json", "/feed/v1/latest.json.minisig",
                                                      "/feed/v1/versions/1.rpz.minisig", "/feed/v1/versions/1.rpz",
                                                      "/feed/v1/applied"]
    assert not list(isp.out.parent.glob(".*.tmp"))  # the temp file was renamed, not left behind


def test_conditional_get_then_a_new_version(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    assert isp.pull()[0] == EXIT_OK
    code, out, _ = isp.pull()
    assert code == EXIT_OK and "already current (serial 1)" in out
    assert isp.feed.fetches[-1] == ("/feed/v1/latest.json", 304)
    isp.feed.publish(make_version(2, ["csam-gallery.test", "second.test"]))
    code, out, _ = isp.pull()
    assert code == EXIT_OK and "applied serial 2" in out and b"second.test" in isp.out.read_bytes()
    assert [a["serial"] for a in isp.feed.applied] == [1, 2]


@pytest.mark.parametrize("fmt", ["json", "a.rpz", "txt", "hosts", "dnsmasq.conf", "unbound.conf"])
def test_every_format_can_be_applied(isp: Isp, fmt: str) -> None:
    isp.feed.publish(make_version(3, ["csam-gallery.test"]))
    out = isp.folder / "resolver" / f"feed.{fmt}"
    code, _, err = isp.pull(fmt=fmt, out=out)
    assert code == EXIT_OK, err
    assert out.read_bytes() == isp.feed.files[f"versions/3.{fmt}"]
    assert isp.feed.applied[-1]["format"] == fmt


def test_network_errors_exit_4_and_write_nothing(isp: Isp) -> None:
    code, _, err = isp.pull(server=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert code == EXIT_FETCH and "fetch failed, keeping the last good list" in err and "cannot reach" in err
    assert "hint: check the network path to --server" in err and len(err.strip().splitlines()) == 1
    assert not isp.out.exists()
    code, _, err = isp.pull()  # nothing published yet: 404
    assert code == EXIT_FETCH and "HTTP 404" in err


def _serial_1_applied_and_2_offered(isp: Isp) -> bytes:
    """Apply serial 1, publish serial 2; the file serial 1 wrote (what a failed pull must leave in place)."""
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, ["csam-gallery.test", "second.test"]))
    return isp.out.read_bytes()


def test_a_wrong_token_exits_6_not_4(isp: Isp) -> None:
    good = _serial_1_applied_and_2_offered(isp)
    code, _, err = isp.pull("--token", "isp_revoked")  # the last --token given wins
    assert code == EXIT_NOT_AUTHORISED != EXIT_FETCH, err
    assert err.startswith("isp-feed: not authorised, keeping the last good list: GET /feed/v1/latest.json: HTTP 401")
    assert "does not accept the feed credential given with --token" in err and "hint: check --token" in err
    assert "an ISP feed credential is required" in err  # what the server said
    assert len(err.strip().splitlines()) == 1 and "isp_revoked" not in err  # never echo a credential
    assert isp.out.read_bytes() == good and isp.stored()["serial"] == 1
    assert isp.pull()[0] == EXIT_OK and isp.stored()["serial"] == 2  # the right token works again


@contextlib.contextmanager
def _answering(status: int, body: bytes) -> Iterator[str]:
    """A loopback HTTP server answering every request with this status (what the real server says to a disabled
    ISP, without its database)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_disabled_isp_exits_6_with_a_hint_for_the_authority(isp: Isp) -> None:
    with _answering(403, b'{"reason": "ISP \'ISP One\' is\ndisabled"}') as url:
        code, _, err = isp.pull(server=url)
    assert code == EXIT_NOT_AUTHORISED, err
    assert "HTTP 403" in err and "refuses the ISP" in err and "ask the authority to re-enable this ISP" in err
    assert "is disabled" in err and len(err.strip().splitlines()) == 1  # the server's newline does not split it
    assert not isp.out.exists()


def test_a_failed_reload_restores_the_file_and_does_not_advance(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    assert isp.pull("--reload", "true")[0] == EXIT_OK
    good = isp.out.read_bytes()
    isp.feed.publish(make_version(2, ["csam-gallery.test", "second.test"]))
    code, _, err = isp.pull("--reload", f"{sys.executable} -c 'import sys; sys.exit(\"zone broken\")'")
    assert code == EXIT_RELOAD and "exited 1: zone broken" in err and "previous file was put back" in err
    assert isp.out.read_bytes() == good and isp.stored()["serial"] == 1
    assert [a["serial"] for a in isp.feed.applied] == [1]
    code, _, err = isp.pull("--reload", "/nonexistent/reload-me")
    assert code == EXIT_RELOAD and "could not run" in err and isp.out.read_bytes() == good
    assert isp.pull("--reload", "true")[0] == EXIT_OK and isp.stored()["serial"] == 2


def test_a_failed_acknowledgement_is_only_a_warning(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    isp.feed.applied_status = 500
    code, out, _ = isp.pull()
    assert code == EXIT_OK and "warning: could not report it to the server" in out and isp.stored()["serial"] == 1


def test_freeze_while_the_server_answers_304(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    assert isp.pull()[0] == EXIT_OK
    keys = [signing.parse_public_key(isp.feed.public_key_text())]
    opts = pull_module.Options(server=isp.feed.url, token=isp.feed.token, pubkeys=keys, state_dir=isp.state,
                               fmt="rpz", out=isp.out, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=7))
    with pytest.raises(errors.Freeze, match="the feed is frozen: serial 1 expired") as info:
        pull_module.pull(opts)
    assert info.value.exit_code == EXIT_REFUSED and info.value.applied and info.value.serial == 1
    assert isp.out.read_bytes() == isp.feed.files["versions/1.rpz"]


def test_protected_names_builtin_and_from_a_file(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    assert isp.pull()[0] == EXIT_OK
    good = isp.out.read_bytes()
    for serial, name in ((2, "google.com"), (3, "maps.google.com"), (4, "fgov.be"), (5, "en.wikipedia.org")):
        isp.feed.publish(make_version(serial, ["csam-gallery.test", name]))
        code, _, err = isp.pull()
        assert code == EXIT_REFUSED and f"contains protected name(s): {name}" in err, err
        assert isp.out.read_bytes() == good
    (isp.folder / "protected.txt").write_text("# our own domains\nisp-own.example\n")
    isp.feed.publish(make_version(6, ["csam-gallery.test", "www.isp-own.example"]))
    code, _, err = isp.pull("--protected-file", str(isp.folder / "protected.txt"))
    assert code == EXIT_REFUSED and "www.isp-own.example" in err and isp.out.read_bytes() == good


def test_size_limits(isp: Isp) -> None:
    names = [f"n{i:03d}.test" for i in range(200)]
    isp.feed.publish(make_version(1, names))
    code, _, err = isp.pull("--max-initial", "100")
    assert code == EXIT_REFUSED and "first load: version 1 has 200 names, above --max-initial 100" in err
    assert isp.pull()[0] == EXIT_OK  # by default a new ISP bootstraps with the whole list
    isp.feed.publish(make_version(2, names[:170]))  # -30 of 200: 15 %
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "changes 30 of 200 names (+0 -30), above the limit of 20" in err
    assert isp.pull("--max-change-share", "0.2")[0] == EXIT_OK
    isp.feed.publish(make_version(3, [*names[:170], *(f"new{i}.test" for i in range(10))]))  # +10: within min
    assert isp.pull()[0] == EXIT_OK


def test_growth_from_an_empty_list_is_limited(isp: Isp) -> None:
    isp.feed.publish(make_version(1, []))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [f"n{i}.test" for i in range(11)]))
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "changes 11 of 0 names" in err
    assert isp.pull("--max-change-min", "11")[0] == EXIT_OK


def test_formats_of_different_versions_never_mix(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    isp.feed.publish(make_version(2, ["csam-gallery.test", "second.test"]))
    isp.feed.overrides = {"versions/2.rpz": isp.feed.files["versions/1.rpz"],
                          "versions/2.rpz.minisig": isp.feed.files["versions/1.rpz.minisig"]}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "signed serial 1 differs from 2" in err and not isp.out.exists()
    isp.feed.overrides = {"versions/2.rpz": isp.feed.files["versions/2.txt"],
                          "versions/2.rpz.minisig": isp.feed.files["versions/2.txt.minisig"]}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "signature is for be-blocklist/txt, not be-blocklist/rpz" in err


def test_unreadable_state_is_refused(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    assert isp.pull()[0] == EXIT_OK
    (isp.state / "state.json").write_text("{broken")
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "state file" in err and "unreadable" in err


def test_one_pull_at_a_time(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    isp.state.mkdir(parents=True)
    with (isp.state / "lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "another isp-feed pull is running" in err
    assert isp.pull()[0] == EXIT_OK


def test_usage_errors_exit_2(isp: Isp) -> None:
    (isp.folder / "bad.pub").write_text("not a key\n")
    assert isp.pull("--pubkey", str(isp.folder / "bad.pub"))[0] == EXIT_USAGE
    code, _, err = isp.pull("--protected-file", str(isp.folder / "missing.txt"))
    assert code == EXIT_USAGE and "cannot read --protected-file" in err
    assert isp.pull("--max-change-share", "2")[0] == EXIT_USAGE
    assert isp.pull(fmt="zip")[0] == EXIT_USAGE


def test_loop_follows_new_versions_until_sigterm(isp: Isp) -> None:
    isp.feed.publish(make_version(1, ["csam-gallery.test"]))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen([sys.executable, "-m", "isp_feed.client.cli", *isp.argv("--loop", "--interval", "0.1")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        _wait(lambda: [a["serial"] for a in isp.feed.applied] == [1], process)
        isp.feed.publish(make_version(2, ["csam-gallery.test", "second.test"]))
        _wait(lambda: [a["serial"] for a in isp.feed.applied] == [1, 2], process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == EXIT_OK, err
    assert b"applied serial 1" in out and b"applied serial 2" in out


def _wait(condition: object, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the looping client did not apply the version"
        time.sleep(0.05)


def test_trusted_comment_must_match_the_envelope(isp: Isp) -> None:
    version = make_version(2, ["csam-gallery.test"])
    isp.feed.publish(version)
    body = formats.render_json(version)
    lying = formats.trusted_comment(feed="be-blocklist", serial=7, expires_at=version.expires_at,
                                    sha256=hashlib.sha256(body).hexdigest(), fmt="json")
    isp.feed.overrides = {"latest.json.minisig": signing.sign(body, lying, isp.feed.key).encode()}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "differs from what its signature asserts" in err


def test_a_transfer_that_breaks_off_is_a_fetch_failure(isp: Isp) -> None:
    good = _serial_1_applied_and_2_offered(isp)
    isp.feed.broken = {"versions/2.rpz"}
    code, _, err = isp.pull()
    assert code == EXIT_FETCH and "transfer broke off" in err and "IncompleteRead" in err
    assert isp.out.read_bytes() == good and isp.stored()["serial"] == 1
    assert sorted(p.name for p in isp.out.parent.iterdir()) == ["feed.rpz"]  # no temp file or backup left
    isp.feed.broken = set()
    assert isp.pull()[0] == EXIT_OK
    assert sorted(p.name for p in isp.out.parent.iterdir()) == ["feed.rpz"]
    assert sorted(p.name for p in isp.state.iterdir()) == ["lock", "names-2.txt", "state.json"]
    assert (isp.state / "names-2.txt").read_text() == "csam-gallery.test\nsecond.test\n"


def test_state_written_by_an_older_client_is_understood(isp: Isp) -> None:
    names = [f"n{i:02d}.test" for i in range(20)]
    isp.feed.publish(make_version(1, names))
    assert isp.pull()[0] == EXIT_OK
    state = isp.stored()
    (isp.state / str(state.pop("names_file"))).unlink()
    (isp.state / "state.json").write_text(json.dumps({**state, "names": list(reversed(names))}))
    isp.feed.publish(make_version(2, [*names, *(f"x{i:02d}.test" for i in range(15))]))
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "changes 15 of 20 names (+15 -0)" in err
    isp.feed.publish(make_version(3, [*names[1:], "x.test"]))
    assert isp.pull()[0] == EXIT_OK and isp.stored()["names_file"] == "names-3.txt"
