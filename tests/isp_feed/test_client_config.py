"""`isp-feed --config` (isp_feed_client/config.py): every pull option from the file, flags over the file, unknown keys
and wrong types refused with exit 2 and a message naming the key; `isp-feed check` one line per check, exiting with
the code of the first class that fails; `--textfile` written after every pull, success or not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from isp_feed_client import config
from isp_feed_client.cli import EXIT_FETCH, EXIT_NOT_AUTHORISED, EXIT_OK, EXIT_USAGE, main
from tests.support.feed_server import FeedServer, make_version
from tests.support.ports import free_port


def _config(feed: FeedServer, tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "isp-feed.toml"
    path.write_text(f'server = "{feed.url}"\ntoken = "{feed.token}"\npubkey = "{tmp_path / "feed.pub"}"\n'
                    f'state_dir = "{tmp_path / "state"}"\nout = "{tmp_path / "feed.rpz"}"\n{extra}')
    return path


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_pull_from_the_configuration_file_alone(feed: FeedServer, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    feed.publish(make_version(1, ["csam-gallery.test"]))
    code, out, err = _main(capsys, "pull", "--config", str(_config(feed, tmp_path, 'format = "txt"\n')))
    assert code == EXIT_OK and "applied serial 1" in out, err
    assert (tmp_path / "feed.rpz").read_bytes() == feed.files["versions/1.txt"]  # the file's format was used


def test_flags_override_the_file(feed: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed.publish(make_version(1, ["csam-gallery.test"]))
    path = _config(feed, tmp_path)
    code, _, err = _main(capsys, "pull", "--config", str(path), "--token", "isp_revoked")
    assert code == EXIT_NOT_AUTHORISED, err
    code, _, err = _main(capsys, "pull", "--config", str(path), "--server", f"http://127.0.0.1:{free_port()}",
                         "--retries", "0")
    assert code == EXIT_FETCH and "cannot reach" in err


@pytest.mark.parametrize(("text", "said"), [
    ('sever = "https://x.example"\n', "unknown key sever"),
    ("max_change_min = 0.5\n", "`max_change_min` must be an integer, not float 0.5"),
    ('interval = "60"\n', "`interval` must be a number, not str '60'"),
    ("refuse_confirmed_changes = 1\n", "`refuse_confirmed_changes` must be true or false"),
    ("resolver = [53]\n", "`resolver` must be a string or a list of them"),
    ("server = \n", "is not a TOML file"),
])
def test_unknown_keys_and_wrong_types_exit_2(feed: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             text: str, said: str) -> None:
    path = _config(feed, tmp_path, text) if "server" not in text else tmp_path / "bad.toml"
    if "server" in text:
        path.write_text(text)
    code, _, err = _main(capsys, "pull", "--config", str(path))
    assert code == EXIT_USAGE and said in err and str(path) in err, err
    assert not (tmp_path / "state").exists()  # refused before anything was written


def test_what_a_pull_needs_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.toml").write_text("")
    code, _, err = _main(capsys, "pull", "--config", str(tmp_path / "empty.toml"), "--server", "https://x.example")
    assert code == EXIT_USAGE and "missing --token, --pubkey, --state-dir, --out" in err
    code, _, err = _main(capsys, "pull", "--config", str(tmp_path / "absent.toml"))
    assert code == EXIT_USAGE and "cannot read the configuration file" in err


def test_every_pull_flag_has_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "pull", "--help")
    flags = set(re.findall(r"^  (--[a-z-]+)", out, re.M)) - {"--help", "--config"}
    assert code == 0 and flags == {f"--{name.replace('_', '-')}" for name in config.KEYS}


def test_check_passes_then_names_the_failing_class(feed: FeedServer, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    feed.publish(make_version(1, ["csam-gallery.test"]))
    path = _config(feed, tmp_path, 'reload = ["true"]\n')
    code, out, _ = _main(capsys, "check", "--config", str(path))
    assert code == EXIT_OK and "FAIL" not in out, out
    assert [line.split(":")[0] for line in out.splitlines()] == ["ok    configuration"] * 5 + ["ok    server"]
    assert f"state dir {tmp_path / 'state'} is writable" in out and "reload command 'true' found" in out
    assert not (tmp_path / "feed.rpz").exists() and feed.applied == []  # a check changes nothing

    code, out, _ = _main(capsys, "check", "--config", str(path), "--reload", "/nonexistent/rndc reload")
    assert code == EXIT_USAGE and "FAIL  configuration: reload command" in out and "server" not in out
    code, out, _ = _main(capsys, "check", "--config", str(path), "--token", "isp_revoked")
    assert code == EXIT_NOT_AUTHORISED and "FAIL  server: not authorised" in out
    feed.overrides["latest.manifest.json.minisig"] = feed.files["versions/1.rpz.minisig"]
    code, out, _ = _main(capsys, "check", "--config", str(path))
    assert code == 3 and "FAIL  server:" in out


def test_the_textfile_after_a_failed_pull(feed: FeedServer, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    textfile = tmp_path / "isp-feed.prom"
    path = _config(feed, tmp_path, f'textfile = "{textfile}"\nretries = 0\n')
    code, _, _ = _main(capsys, "pull", "--config", str(path))  # nothing published: 404
    assert code == EXIT_FETCH
    text = textfile.read_text()
    assert "# TYPE isp_feed_serial gauge\nisp_feed_serial 0\n" in text and "isp_feed_last_exit_code 4\n" in text
    metrics = dict(line.split() for line in text.splitlines() if not line.startswith("#"))
    assert float(metrics["isp_feed_last_success_timestamp_seconds"]) == 0  # never succeeded
    feed.publish(make_version(1, ["csam-gallery.test"]))
    assert _main(capsys, "pull", "--config", str(path))[0] == EXIT_OK
    assert "isp_feed_serial 1\n" in textfile.read_text() and "isp_feed_last_exit_code 0\n" in textfile.read_text()
