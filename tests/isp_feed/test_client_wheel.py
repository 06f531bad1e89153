"""What an ISP installs: the wheel of isp-feed/ built alone, installed into a clean virtualenv with only its own
dependencies (from the package index; nothing of the server: `import sqlalchemy` fails there), then that venv's
`isp-feed` run from a configuration file against the stand-in feed server and a real Unbound: `check` passes,
`pull` applies and Unbound blocks, the textfile says so."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.client_wheel import clean_env, install_client
from tests.support.feed_server import feed_server, make_version
from tests.support.resolvers import assert_resolves, assert_stop_page, eventually, start_unbound

BLOCKED = "csam-gallery.test"


@pytest.fixture(scope="session")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding the isp-feed wheel and its dependencies only (made once per test session)."""
    return install_client(tmp_path_factory.mktemp("isp-feed-wheel"))


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Outside this checkout (cwd) and without its PYTHONPATH: only what the venv installed can be imported.
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=clean_env())


def test_the_wheel_holds_the_client_and_none_of_the_server(client_venv: Path, tmp_path: Path) -> None:
    probe = _run(client_venv, "python", "-c", "import isp_feed_client.cli, requests, dns, cryptography; "
                 "print(isp_feed_client.cli.__file__)", cwd=tmp_path)
    assert probe.returncode == 0 and str(client_venv) in probe.stdout, probe.stderr
    for server_module in ("sqlalchemy", "fastapi", "blocklist", "isp_feed", "api"):
        absent = _run(client_venv, "python", "-c", f"import {server_module}", cwd=tmp_path)
        assert absent.returncode != 0 and "ModuleNotFoundError" in absent.stderr, server_module


def test_the_installed_client_checks_pulls_and_unbound_blocks(client_venv: Path, tmp_path: Path) -> None:
    rpz = tmp_path / "resolver" / "blocklist.rpz"
    rpz.parent.mkdir()
    with feed_server() as feed, start_unbound(tmp_path, rpz) as unbound:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        feed.publish(make_version(1, [BLOCKED]))
        reload = " ".join(unbound.reload_command)
        textfile = tmp_path / "metrics" / "isp-feed.prom"
        config = tmp_path / "isp-feed.toml"
        config.write_text(f'''# what /etc/isp-feed.toml holds on an ISP's resolver host
server = "{feed.url}"
token = "{feed.token}"
pubkey = ["{tmp_path / 'feed.pub'}"]
state_dir = "{tmp_path / 'state'}"
format = "rpz"
out = "{rpz}"
reload = ["{reload}"]
resolver = ["{unbound.ip}:{unbound.port}"]
textfile = "{textfile}"
retries = 1
''')
        checked = _run(client_venv, "isp-feed", "check", "--config", str(config), cwd=tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "ok    server:" in checked.stdout and "serial 1" in checked.stdout
        assert "nothing applied yet" in checked.stdout and "FAIL" not in checked.stdout

        pulled = _run(client_venv, "isp-feed", "pull", "--config", str(config), cwd=tmp_path)
        assert pulled.returncode == 0 and "applied serial 1 (1 names)" in pulled.stdout, pulled.stderr
        eventually(lambda: assert_stop_page(unbound, BLOCKED))
        assert_stop_page(unbound, f"www.{BLOCKED}")
        assert_resolves(unbound, "good.test")  # the positive control
        assert [a["serial"] for a in feed.applied] == [1]  # acknowledged once the canary was served

        metrics = dict(line.split() for line in textfile.read_text().splitlines() if not line.startswith("#"))
        assert metrics["isp_feed_serial"] == "1" and metrics["isp_feed_last_exit_code"] == "0"
        assert float(metrics["isp_feed_last_success_timestamp_seconds"]) > 0
        assert float(metrics["isp_feed_expires_timestamp_seconds"]) > float(
            metrics["isp_feed_last_success_timestamp_seconds"])

        checked = _run(client_venv, "isp-feed", "check", "--config", str(config), cwd=tmp_path)
        assert checked.returncode == 0 and "answers the canary of serial 1 with the stop page" in checked.stdout, (
            checked.stdout)

        # a flag overrides the file: a wrong token is refused (exit 6), the list in force stays, the textfile says so
        refused = _run(client_venv, "isp-feed", "pull", "--config", str(config), "--token", "isp_revoked",
                       cwd=tmp_path)
        assert refused.returncode == 6 and "not authorised" in refused.stderr, refused.stderr
        metrics = dict(line.split() for line in textfile.read_text().splitlines() if not line.startswith("#"))
        assert metrics["isp_feed_serial"] == "1" and metrics["isp_feed_last_exit_code"] == "6"
        assert_stop_page(unbound, BLOCKED)
