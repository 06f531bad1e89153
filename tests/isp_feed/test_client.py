"""The reference client's own logic against the stand-in feed server (no database, no resolver): what it fetches
(manifest, then a delta, a re-issue or the whole files), what it writes, what it remembers, what it reports, and each
way it refuses or fails with its exit code."""

from __future__ import annotations

import contextlib
import dataclasses
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

from isp_feed_client import delta, errors, formats, manifest, signing, trust
from isp_feed_client import pull as pull_module
from isp_feed_client.cli import EXIT_FETCH, EXIT_NOT_AUTHORISED, EXIT_OK, EXIT_REFUSED, EXIT_RELOAD, EXIT_USAGE, main
from tests.support.feed_server import FeedServer, feed_server, make_version
from tests.support.ports import free_port

MANIFEST = ["latest.manifest.json", "latest.manifest.json.minisig"]
BLOCKED = "csam-gallery.test"


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

    def fetched(self, *extra: str, **kwargs: object) -> tuple[int, list[str], str]:
        """Pull; the exit code, the paths it fetched, and what it printed (out and err)."""
        start = len(self.feed.fetches)
        code, out, err = self.pull(*extra, **kwargs)
        return code, self.feed.paths()[start:], out + err

    def stored(self) -> dict[str, object]:
        value: dict[str, object] = json.loads((self.state / "state.json").read_text())
        return value

    def state_files(self) -> list[str]:
        return sorted(p.name for p in self.state.iterdir())


@pytest.fixture
def isp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Isp]:
    with feed_server() as feed:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        yield Isp(feed, tmp_path, capsys)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the three ways to a version ----------------------------------------------------------------------------------


def test_first_pull_downloads_list_and_file_applies_records_and_acknowledges(isp: Isp) -> None:
    m = isp.feed.publish(make_version(1, [BLOCKED]))
    code, paths, text = isp.fetched()
    assert code == EXIT_OK, text
    assert "applied serial 1 (1 names)" in text
    served = isp.feed.files["versions/1.rpz"]
    assert isp.out.read_bytes() == served
    # the files come from the immutable URLs of the serial the verified manifest names
    assert paths == [*MANIFEST, "versions/1.list", "versions/1.rpz", "applied"]
    state = isp.stored()
    assert state["serial"] == 1 and state["content_serial"] == 1 and state["format"] == "rpz"
    assert state["manifest_sha256"] == _sha(isp.feed.manifest_bytes(1)) and state["count"] == 1
    assert state["file_sha256"] == _sha(served) == m.files["rpz"].sha256
    assert state["list_sha256"] == m.list_sha256 and state["list_file"] == "list-1.txt"
    assert state["expires_at"] == m.expires_at.isoformat()
    assert (isp.state / "list-1.txt").read_bytes() == isp.feed.files["versions/1.list"]
    assert isp.feed.applied == [{"serial": 1, "sha256": _sha(served), "format": "rpz"}]
    assert not list(isp.out.parent.glob(".*"))  # the temp file was renamed, not left behind
    assert isp.state_files() == ["list-1.txt", "lock", "state.json"]


def test_a_current_client_fetches_only_the_manifest_its_signature_and_the_diff(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    code, paths, text = isp.fetched()
    assert code == EXIT_OK and "already current (serial 1)" in text
    assert paths == ["latest.manifest.json"] and isp.feed.fetches[-1][1] == 304
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    code, paths, text = isp.fetched()
    assert code == EXIT_OK, text
    assert "applied serial 2 (2 names)" in text and "by the delta from serial 1 (+1 -0)" in text
    assert paths == [*MANIFEST, "diff?from=1&to=2", "applied"]  # no list, no rpz
    assert isp.out.read_bytes() == isp.feed.files["versions/2.rpz"]  # spliced, byte for byte
    assert (isp.state / "list-2.txt").read_bytes() == isp.feed.files["versions/2.list"]
    assert isp.state_files() == ["list-2.txt", "lock", "state.json"]  # the older list is gone
    assert [a["serial"] for a in isp.feed.applied] == [1, 2]
    assert not list(isp.out.parent.glob(".*")) and not list(isp.state.glob(".*"))


def test_a_reissue_moves_the_expiry_on_without_downloading_any_file(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    before, installed = isp.stored(), isp.out.read_bytes()
    reissued = isp.feed.reissue(expires_in=dt.timedelta(hours=12))
    assert reissued.serial == 2 and reissued.content_serial == 1 and reissued.files == isp.feed.manifests[1].files
    code, paths, text = isp.fetched()
    assert code == EXIT_OK, text
    assert (f"serial 2 (re-issue of the list of serial 1): expiry moves on to "
            f"{formats.format_time(reissued.expires_at)}") in text
    assert paths == [*MANIFEST, "applied"]  # neither the list nor any format file
    state = isp.stored()
    assert state["serial"] == 2 and state["expires_at"] == reissued.expires_at.isoformat()
    assert state["manifest_sha256"] == _sha(isp.feed.manifest_bytes(2)) != before["manifest_sha256"]
    assert (state["content_serial"], state["file_sha256"], state["list_file"]) == (
        1, before["file_sha256"], "list-1.txt")
    assert isp.out.read_bytes() == installed
    assert isp.feed.applied[-1] == {"serial": 2, "sha256": _sha(installed), "format": "rpz"}
    assert isp.fetched()[1] == ["latest.manifest.json"]  # then 304 again
    # the next content: one delta from the content of serial 2 (that of serial 1)
    isp.feed.publish(make_version(3, [BLOCKED, "second.test"]))
    code, paths, text = isp.fetched()
    assert code == EXIT_OK and paths == [*MANIFEST, "diff?from=2&to=3", "applied"], text
    assert isp.out.read_bytes() == isp.feed.files["versions/3.rpz"]


@pytest.mark.parametrize("fmt", formats.EXTENSIONS)
def test_every_format_applies_whole_then_by_delta(isp: Isp, fmt: str) -> None:
    exact = formats.FeedEntry("exact-only.test", "exact-only.test", "exact")
    changed = exact._replace(scope="domain_and_subdomains")
    if fmt in trust.SUBDOMAINS_ALWAYS:  # it takes no exact name (test_resolvers_each.py): change the Unicode form
        exact, changed = changed, changed._replace(unicode="exäct-only.test")
    isp.feed.publish(make_version(3, [BLOCKED, exact, "gone.test", "xn--bcher-kva.test"]))
    out = isp.folder / "resolver" / f"feed.{fmt}"
    code, paths, text = isp.fetched(fmt=fmt, out=out)
    assert code == EXIT_OK, text
    assert out.read_bytes() == isp.feed.files[f"versions/3.{fmt}"]
    assert paths[-2:] == ([f"versions/3.{fmt}", "applied"] if fmt != "list" else ["versions/3.list", "applied"])
    # one added (first in order), one removed, one changed scope, one kept
    isp.feed.publish(make_version(4, ["aaa.test", BLOCKED, changed, "xn--bcher-kva.test"]))
    code, paths, text = isp.fetched(fmt=fmt, out=out)
    assert code == EXIT_OK and "by the delta from serial 3 (+1 -1 ~1)" in text, text
    assert paths == [*MANIFEST, "diff?from=3&to=4", "applied"]
    assert out.read_bytes() == isp.feed.files[f"versions/4.{fmt}"]
    assert isp.feed.applied[-1]["format"] == fmt and isp.feed.applied[-1]["sha256"] == _sha(out.read_bytes())
    isp.feed.publish(make_version(5, []))  # everything lifted (within --max-change-min)
    assert isp.pull(fmt=fmt, out=out)[0] == EXIT_OK
    assert out.read_bytes() == isp.feed.files[f"versions/5.{fmt}"]


def test_a_delta_the_server_no_longer_keeps_means_the_whole_list(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    isp.feed.deltas.clear()  # the applied serial is older than the deltas the server keeps: 404
    code, paths, text = isp.fetched()
    assert code == EXIT_OK, text
    assert "the delta did not fit (GET /feed/v1/diff?from=1&to=2: HTTP 404" in text
    assert "so the whole list was downloaded" in text
    assert paths == [*MANIFEST, "diff?from=1&to=2", "versions/2.list", "versions/2.rpz", "applied"]
    assert isp.out.read_bytes() == isp.feed.files["versions/2.rpz"]


def test_a_resolver_file_changed_locally_is_downloaded_again(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    isp.out.write_bytes(isp.out.read_bytes() + b"; edited by hand\n")
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    code, paths, text = isp.fetched()
    assert code == EXIT_OK and "so the rpz file was downloaded" in text, text
    assert paths == [*MANIFEST, "diff?from=1&to=2", "versions/2.rpz", "applied"]  # the list came from the delta
    assert isp.out.read_bytes() == isp.feed.files["versions/2.rpz"]


def test_a_reissue_hashes_the_installed_file_only_when_it_was_touched(isp: Isp, monkeypatch: pytest.MonkeyPatch
                                                                        ) -> None:
    """The installed file's identity (inode, size, mtime, ctime) is kept with the state: a re-issue finding it
    untouched does not read 88 MB at a national size; one touched since is hashed, and an edit is not a re-issue."""
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    hashed: list[Path] = []
    real = pull_module._file_sha256
    monkeypatch.setattr(pull_module, "_file_sha256", lambda path: hashed.append(path) or real(path))
    isp.feed.reissue()
    code, _, text = isp.fetched()
    assert code == EXIT_OK and "re-issue" in text and hashed == []
    # the same bytes written again, even with the old mtime put back: its ctime moved, so it is hashed (and passes)
    st = isp.out.stat()
    isp.out.write_bytes(isp.out.read_bytes())
    os.utime(isp.out, ns=(st.st_atime_ns, st.st_mtime_ns))
    isp.feed.reissue()
    code, _, text = isp.fetched()
    assert code == EXIT_OK and "re-issue" in text and hashed == [isp.out]
    # edited: not the re-issue of what was installed; the file is made again from the delta or downloaded
    isp.out.write_bytes(isp.out.read_bytes() + b"; edited by hand\n")
    isp.feed.reissue()
    code, _, text = isp.fetched()
    assert code == EXIT_OK and "re-issue" not in text, text
    assert isp.out.read_bytes() == isp.feed.files["versions/1.rpz"]


def test_a_file_newer_than_the_state_heals(isp: Isp) -> None:
    """A crash after the install but before the state was saved: the next pull finds a file the delta does not fit."""
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    isp.out.write_bytes(isp.feed.files["versions/2.rpz"])
    code, _, text = isp.fetched()
    assert code == EXIT_OK and "the delta adds 'second.test', which the rpz file already holds" in text, text
    assert isp.out.read_bytes() == isp.feed.files["versions/2.rpz"] and isp.stored()["serial"] == 2


def test_switching_format_downloads_the_new_one_whole(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    txt = isp.folder / "resolver" / "feed.txt"
    code, paths, text = isp.fetched(fmt="txt", out=txt)
    assert code == EXIT_OK and paths == [*MANIFEST, "versions/1.list", "versions/1.txt", "applied"], text
    assert txt.read_bytes() == isp.feed.files["versions/1.txt"] and isp.stored()["format"] == "txt"


# --- failures: exit codes ----------------------------------------------------------------------------------------


def test_network_errors_exit_4_and_write_nothing(isp: Isp) -> None:
    code, _, err = isp.pull(server=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert code == EXIT_FETCH and "fetch failed, keeping the last good list" in err and "cannot reach" in err
    assert "hint: check the network path to --server" in err and len(err.strip().splitlines()) == 1
    assert not isp.out.exists()
    code, _, err = isp.pull()  # nothing published yet: 404
    assert code == EXIT_FETCH and "HTTP 404" in err


def _serial_1_applied_and_2_offered(isp: Isp) -> bytes:
    """Apply serial 1, publish serial 2; the file serial 1 wrote (what a failed pull must leave in place)."""
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    return isp.out.read_bytes()


def test_a_wrong_token_exits_6_not_4(isp: Isp) -> None:
    good = _serial_1_applied_and_2_offered(isp)
    code, _, err = isp.pull("--token", "isp_revoked")  # the last --token given wins
    assert code == EXIT_NOT_AUTHORISED != EXIT_FETCH, err
    assert err.startswith("isp-feed: not authorised, keeping the last good list: GET /feed/v1/latest.manifest.json: "
                          "HTTP 401")
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
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull("--reload", "true")[0] == EXIT_OK
    good, state = isp.out.read_bytes(), isp.stored()
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    code, _, err = isp.pull("--reload", f"{sys.executable} -c 'import sys; sys.exit(\"zone broken\")'")
    assert code == EXIT_RELOAD and "exited 1: zone broken" in err and "previous file was put back" in err
    assert isp.out.read_bytes() == good and isp.stored() == state
    assert isp.state_files() == ["list-1.txt", "lock", "state.json"]
    assert sorted(p.name for p in isp.out.parent.iterdir()) == ["feed.rpz"]
    assert [(a["serial"], a.get("ok", True)) for a in isp.feed.applied] == [(1, True), (2, False)]  # reported
    code, _, err = isp.pull("--reload", "/nonexistent/reload-me")
    assert code == EXIT_RELOAD and "could not run" in err and isp.out.read_bytes() == good
    assert isp.pull("--reload", "true")[0] == EXIT_OK and isp.stored()["serial"] == 2


def test_a_failed_acknowledgement_is_only_a_warning(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    isp.feed.applied_status = 500
    code, out, _ = isp.pull()
    assert code == EXIT_OK and "warning: could not report it to the server" in out and isp.stored()["serial"] == 1


def test_freeze_while_the_server_answers_304(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    keys = [signing.parse_public_key(isp.feed.public_key_text())]
    opts = pull_module.Options(server=isp.feed.url, token=isp.feed.token, pubkeys=keys, state_dir=isp.state,
                               fmt="rpz", out=isp.out, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=7))
    with pytest.raises(errors.Freeze, match="the feed is frozen: serial 1 expired") as info:
        pull_module.pull(opts)
    assert info.value.exit_code == EXIT_REFUSED and info.value.applied and info.value.serial == 1
    assert isp.feed.fetches[-1] == ("/feed/v1/latest.manifest.json", 304)
    assert isp.out.read_bytes() == isp.feed.files["versions/1.rpz"]
    isp.feed.reissue()  # the server re-issues: the expiry moves on, the freeze ends
    opts.now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
    assert pull_module.pull(opts).serial == 2


# --- refusals of the content ------------------------------------------------------------------------------------


NO_DELTA = {"diff": b"not a delta"}  # the delta unusable: the client takes the whole list


@pytest.mark.parametrize("way", ["delta", "whole"])
def test_protected_names_builtin_and_from_a_file(isp: Isp, way: str) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    good, state = isp.out.read_bytes(), isp.stored()
    isp.feed.overrides = NO_DELTA if way == "whole" else {}
    # Shipped protected entries (the only real names a test may give, as inputs to refuse), a sample of four.
    for serial, name in enumerate(trust.BUILTIN_PROTECTED[::3], start=2):
        isp.feed.publish(make_version(serial, [BLOCKED, name]))
        code, _, err = isp.pull()
        assert code == EXIT_REFUSED and f"contains protected name(s): {name}" in err, err
        assert isp.out.read_bytes() == good and isp.stored() == state
    (isp.folder / "protected.txt").write_text("# our own domains\nisp-own.example\n")
    isp.feed.publish(make_version(6, [BLOCKED, "www.isp-own.example"]))
    code, _, err = isp.pull("--protected-file", str(isp.folder / "protected.txt"))
    assert code == EXIT_REFUSED and "www.isp-own.example" in err and isp.out.read_bytes() == good
    assert isp.state_files() == ["list-1.txt", "lock", "state.json"]


def test_names_protected_after_they_were_applied_are_refused_too(isp: Isp) -> None:
    """A delta shows only what it adds: when --protected-file grows, the whole applied list is checked again."""
    isp.feed.publish(make_version(1, [BLOCKED, "www.isp-own.example"]))
    assert isp.pull()[0] == EXIT_OK
    good = isp.out.read_bytes()
    (isp.folder / "protected.txt").write_text("isp-own.example\n")
    protected = ("--protected-file", str(isp.folder / "protected.txt"))
    isp.feed.reissue()
    code, _, err = isp.pull(*protected)
    assert code == EXIT_REFUSED and "protected name(s): www.isp-own.example" in err, err
    isp.feed.publish(make_version(3, [BLOCKED, "second.test", "www.isp-own.example"]))
    code, paths, text = isp.fetched(*protected)
    assert code == EXIT_REFUSED and "protected name(s): www.isp-own.example" in text, text
    assert "diff?from=1&to=3" in paths and isp.out.read_bytes() == good and isp.stored()["serial"] == 1
    isp.feed.publish(make_version(4, [BLOCKED, "second.test"]))  # the authority lifts it
    assert isp.pull(*protected)[0] == EXIT_OK
    isp.feed.publish(make_version(5, [BLOCKED, "second.test", "third.test"]))
    assert isp.fetched(*protected)[1] == [*MANIFEST, "diff?from=4&to=5", "applied"]


@pytest.mark.parametrize("way", ["delta", "whole"])
def test_size_limits(isp: Isp, way: str) -> None:
    names = [f"n{i:03d}.test" for i in range(200)]
    isp.feed.publish(make_version(1, names))
    code, _, err = isp.pull("--max-initial", "100")
    assert code == EXIT_REFUSED and "first load: version 1 has 200 names, above --max-initial 100" in err
    assert not isp.out.exists() and not isp.state.joinpath("state.json").exists()
    assert isp.pull()[0] == EXIT_OK  # by default a new ISP bootstraps with the whole list
    isp.feed.overrides = NO_DELTA if way == "whole" else {}
    isp.feed.publish(make_version(2, names[:170]))  # -30 of 200: 15 %
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "changes 30 of 200 names (+0 -30), above the limit of 20" in err
    assert isp.pull("--max-change-share", "0.2")[0] == EXIT_OK
    isp.feed.publish(make_version(3, [*names[:170], *(f"new{i}.test" for i in range(10))]))  # +10: within min
    assert isp.pull()[0] == EXIT_OK
    assert isp.out.read_bytes() == isp.feed.files["versions/3.rpz"]


@pytest.mark.parametrize("way", ["delta", "whole"])
def test_a_changed_scope_counts_once(isp: Isp, way: str) -> None:
    names = [f"n{i:02d}.test" for i in range(20)]
    isp.feed.publish(make_version(1, names))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.overrides = NO_DELTA if way == "whole" else {}
    exact = [formats.FeedEntry(n, n, "exact") for n in names[:11]]
    isp.feed.publish(make_version(2, [*exact, *names[11:]]))
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "changes 11 of 20 names (+0 -0 ~11), above the limit of 10" in err, err
    code, _, err = isp.pull("--max-change-min", "11")
    assert code == EXIT_OK, err
    assert isp.out.read_bytes() == isp.feed.files["versions/2.rpz"]


def test_growth_from_an_empty_list_is_limited(isp: Isp) -> None:
    isp.feed.publish(make_version(1, []))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [f"n{i}.test" for i in range(11)]))
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "changes 11 of 0 names" in err
    assert isp.pull("--max-change-min", "11")[0] == EXIT_OK


def test_the_delta_is_believed_only_when_it_gives_the_signed_list(isp: Isp) -> None:
    """An unsigned delta that adds a protected name (or anything else) does not refuse the genuine version: it does
    not give the list the manifest signs, so the client takes the whole list, which passes."""
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    name = trust.BUILTIN_PROTECTED[0]  # a shipped protected entry
    protected = formats.FeedEntry(name, name, "domain_and_subdomains")
    lying = delta.Delta(1, 2, (protected,), ())  # the right count, another name
    isp.feed.overrides = {"diff": delta.delta_bytes(lying)}
    code, paths, text = isp.fetched()
    assert code == EXIT_OK and "it does not give the list the manifest signs" in text, text
    assert paths == [*MANIFEST, "diff?from=1&to=2", "versions/2.list", "versions/2.rpz", "applied"]
    assert isp.out.read_bytes() == isp.feed.files["versions/2.rpz"]


def test_files_of_another_version_never_apply(isp: Isp) -> None:
    good = _serial_1_applied_and_2_offered(isp)
    isp.feed.overrides = {**NO_DELTA, "versions/2.rpz": isp.feed.files["versions/1.rpz"]}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "rpz: body does not match the signed SHA-256" in err, err
    assert isp.out.read_bytes() == good
    isp.feed.overrides = {**NO_DELTA, "versions/2.list": isp.feed.files["versions/1.list"]}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "list: body does not match the signed SHA-256" in err, err
    isp.feed.overrides = {**NO_DELTA, "versions/2.rpz": isp.feed.files["versions/2.txt"]}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "rpz: body does not match the signed SHA-256" in err, err
    assert isp.out.read_bytes() == good and isp.stored()["serial"] == 1


def test_the_manifest_must_state_what_its_signature_asserts(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    data = isp.feed.manifest_bytes(1)
    m = isp.feed.manifests[1]
    for comment, message in (
        (formats.trusted_comment(feed="be-blocklist", serial=7, expires_at=m.expires_at, sha256=_sha(data),
                                 fmt="manifest"), "differs from what its signature asserts"),
        (formats.trusted_comment(feed="be-blocklist", serial=1, expires_at=m.expires_at + dt.timedelta(days=9),
                                 sha256=_sha(data), fmt="manifest"), "differs from what its signature asserts"),
        (formats.trusted_comment(feed="be-blocklist", serial=1, sha256=_sha(data), fmt="manifest"),
         "(no expiry)"),
        (formats.trusted_comment(feed="be-blocklist", serial=1, expires_at=m.expires_at, sha256=_sha(data),
                                 fmt="rpz"), "signature is for be-blocklist/rpz, not be-blocklist/manifest"),
        (formats.trusted_comment(feed="be-blocklist", serial=1, expires_at=m.expires_at, sha256="0" * 64,
                                 fmt="manifest"), "manifest: body does not match the signed SHA-256"),
    ):
        isp.feed.overrides = {"latest.manifest.json.minisig": signing.sign(data, comment, isp.feed.key).encode()}
        code, _, err = isp.pull()
        assert code == EXIT_REFUSED and message in err, (comment, err)
        assert not isp.out.exists()
    isp.feed.overrides = {}
    assert isp.pull()[0] == EXIT_OK


def test_a_successor_that_does_not_chain_to_the_applied_manifest_is_refused(isp: Isp) -> None:
    good = _serial_1_applied_and_2_offered(isp)
    isp.feed.reissue()  # serial 3
    forked = dataclasses.replace(isp.feed.manifests[2], previous_sha256="ab" * 32)
    isp.feed.overrides = isp.feed.signed(forked)
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED, err
    assert "manifest 2 does not follow the applied serial 1: it names abababababababab as its predecessor" in err
    assert "keep the state dir as evidence" in err and isp.out.read_bytes() == good
    # a manifest further on cannot be checked against the applied one without those in between: it applies
    isp.feed.overrides = isp.feed.signed(dataclasses.replace(isp.feed.manifests[3], previous_sha256="ab" * 32))
    assert isp.pull()[0] == EXIT_OK and isp.stored()["serial"] == 3


def test_a_malformed_manifest_or_list_is_refused(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    oversized = b" " * (manifest.MAX_MANIFEST_BYTES + 1)
    isp.feed.overrides = {"latest.manifest.json": oversized,
                          "latest.manifest.json.minisig": isp.feed.files["latest.manifest.json.minisig"]}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "manifest: more than 65536 bytes" in err, err
    # a list the manifest signs but that is not a list (the server's own bug): refused, never installed
    bad_list = b"csam-gallery.test\tdomain_and_subdomains\n"
    version = make_version(1, [BLOCKED])
    files = {**isp.feed.build(version), "versions/1.list": bad_list}
    m = dataclasses.replace(isp.feed.manifests[1],
                            files={**isp.feed.manifests[1].files, "list": manifest.FileRef(_sha(bad_list), 40)})
    isp.feed.overrides = {**files, **isp.feed.signed(m)}
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "list: line 1 is not name<TAB>scope<TAB>unicode" in err, err
    assert not isp.out.exists()


# --- the state dir ------------------------------------------------------------------------------------------------


def test_unreadable_state_is_refused(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    state = (isp.state / "state.json").read_text()
    (isp.state / "state.json").write_text("{broken")
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "state file" in err and "unreadable" in err
    (isp.state / "state.json").write_text(state)
    (isp.state / "list-1.txt").unlink()
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "unreadable (list-1.txt is missing)" in err
    (isp.state / "state.json").write_text(json.dumps({**json.loads(state), "list_file": "../elsewhere.txt"}))
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "unreadable" in err


def test_one_pull_at_a_time(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
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
    isp.feed.publish(make_version(1, [BLOCKED]))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen([sys.executable, "-m", "isp_feed_client.cli", *isp.argv("--loop", "--interval", "0.1")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        _wait(lambda: [a["serial"] for a in isp.feed.applied] == [1], process)
        isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
        _wait(lambda: [a["serial"] for a in isp.feed.applied] == [1, 2], process)
        isp.feed.reissue()
        _wait(lambda: [a["serial"] for a in isp.feed.applied] == [1, 2, 3], process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == EXIT_OK, err
    assert b"applied serial 1" in out and b"applied serial 2" in out and b"serial 3 (re-issue" in out
    # Each poll of a current client asks to be held up to the interval (api/feed_not_modified.py holds it until a
    # new version is published); a single pull never does.
    assert isp.feed.prefers and set(isp.feed.prefers) == {"wait=0.1"}
    isp.feed.prefers.clear()
    assert isp.pull()[0] == EXIT_OK and isp.feed.prefers == [None]


def _wait(condition: object, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the looping client did not apply the version"
        time.sleep(0.05)


def test_a_transfer_that_breaks_off_is_a_fetch_failure(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED]))
    isp.feed.broken = {"versions/1.rpz"}
    code, _, err = isp.pull()
    assert code == EXIT_FETCH and "transfer broke off" in err and "IncompleteRead" in err
    assert not isp.out.exists() and not (isp.state / "state.json").exists()
    assert not list(isp.out.parent.iterdir()) and isp.state_files() == ["lock"]  # no temp file left
    isp.feed.broken = set()
    assert isp.pull()[0] == EXIT_OK
    # a delta that breaks off only means the whole list
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    isp.feed.broken = {"diff"}
    code, paths, text = isp.fetched()
    assert code == EXIT_OK and "transfer broke off" in text and "versions/2.list" in paths, text
    assert sorted(p.name for p in isp.out.parent.iterdir()) == ["feed.rpz"]
    assert isp.state_files() == ["list-2.txt", "lock", "state.json"]
    assert (isp.state / "list-2.txt").read_bytes() == b"csam-gallery.test\tdomain_and_subdomains\tcsam-gallery.test\n" \
                                                      b"second.test\tdomain_and_subdomains\tsecond.test\n"


def _legacy(isp: Isp, names: list[str], *, inline: bool) -> None:
    """Turn the state into one an older client (before manifests) wrote, for serial 1."""
    state = isp.stored()
    for path in isp.state.glob("list-*.txt"):
        path.unlink()
    installed = state.get("file_sha256", state.get("sha256"))
    old: dict[str, object] = {"serial": 1, "envelope_sha256": "ab" * 32, "sha256": installed,
                              "etag": '"' + "ab" * 32 + '"', "expires_at": state["expires_at"], "format": "rpz",
                              "applied_at": state["applied_at"], "count": len(names)}
    if inline:
        old["names"] = list(reversed(names))
    else:
        (isp.state / "names-1.txt").write_text("".join(f"{n}\n" for n in names))
        old["names_file"] = "names-1.txt"
    (isp.state / "state.json").write_text(json.dumps(old))


@pytest.mark.parametrize("inline", [False, True])
def test_state_written_by_an_older_client_is_understood(isp: Isp, inline: bool) -> None:
    names = [f"n{i:02d}.test" for i in range(20)]
    isp.feed.publish(make_version(1, names))
    assert isp.pull()[0] == EXIT_OK
    _legacy(isp, names, inline=inline)
    isp.feed.publish(make_version(2, [*names, *(f"x{i:02d}.test" for i in range(15))]))
    code, paths, text = isp.fetched()
    assert code == EXIT_REFUSED and "changes 15 of 20 names (+15 -0)" in text, text
    assert "latest.manifest.json" in paths and not any(p.startswith("diff") for p in paths)  # no delta from it
    isp.feed.publish(make_version(3, [*names[1:], "x.test"]))
    code, paths, text = isp.fetched()
    assert code == EXIT_OK and paths == [*MANIFEST, "versions/3.list", "versions/3.rpz", "applied"], text
    assert isp.stored()["list_file"] == "list-3.txt" and isp.state_files() == ["list-3.txt", "lock", "state.json"]


def test_an_older_clients_serial_again_needs_the_same_names(isp: Isp) -> None:
    isp.feed.publish(make_version(1, [BLOCKED, "second.test"]))
    assert isp.pull()[0] == EXIT_OK
    _legacy(isp, [BLOCKED], inline=False)  # the older client applied serial 1 with other names
    good = isp.out.read_bytes()
    code, _, err = isp.pull()
    assert code == EXIT_REFUSED and "serial 1 arrived with a different content than the one applied" in err, err
    assert isp.out.read_bytes() == good
    _legacy(isp, [BLOCKED, "second.test"], inline=False)
    code, _, err = isp.pull()
    assert code == EXIT_OK and isp.stored()["manifest_sha256"] == _sha(isp.feed.manifest_bytes(1)), err


def test_an_oversized_delta_is_not_read_whole(isp: Isp) -> None:
    """A `diff` answer larger than any change this client accepts is cut off unread: the whole list decides."""
    isp.feed.publish(make_version(1, [BLOCKED]))
    assert isp.pull()[0] == EXIT_OK
    isp.feed.publish(make_version(2, [BLOCKED, "second.test"]))
    isp.feed.overrides = {"diff": b" " * 10_000_000}
    code, paths, text = isp.fetched()
    assert code == EXIT_OK and "more than 46080 bytes, a larger change than this client accepts" in text, text
    assert "versions/2.list" in paths and isp.out.read_bytes() == isp.feed.files["versions/2.rpz"]
