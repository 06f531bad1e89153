"""The set-up promise on a fresh machine: `make test` never quietly skips the real-component tests.

.ci/ensure-packages (run first by `make test` and by .ci/run) checks the Debian packages of .ci/packages; what is
missing it installs as root with apt-get, or it stops with the one command that installs it. Tested here with the
real dpkg-query and lists of our own, and with a PATH that lacks apt-get (no package is ever installed here). And
the run's last line, which counts the tests that ran against real components (tests/support/real_components.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.binaries import require_binary

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "ensure-packages"
ABSENT = "blocklist-no-such-package-for-tests"  # a name no Debian archive has
SUDO = "" if os.geteuid() == 0 else "sudo "


def _ensure(tmp_path: Path, *args: str, packages: list[str] | None = None,
            path: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {**os.environ, **env}
    if packages is not None:
        listed = tmp_path / "packages"
        listed.write_text("# a list like .ci/packages\n\n" + "".join(f"{p}  # why\n" for p in packages))
        variables["BLOCKLIST_PACKAGES"] = str(listed)
    if path is not None:
        variables["PATH"] = path
    # bash by its path: the script's `env bash` would look for it in the PATH under test.
    return subprocess.run(["/bin/bash", str(SCRIPT), *args], env=variables, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def dpkg_only(tmp_path: Path) -> str:
    """A PATH holding the real dpkg-query and nothing else: no apt-get, so nothing can be installed."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "dpkg-query").symlink_to(require_binary("dpkg-query", "dpkg"))
    return str(folder)


def test_check_names_what_is_missing_and_the_one_command_that_installs_it(tmp_path: Path) -> None:
    require_binary("dpkg-query", "dpkg")
    done = _ensure(tmp_path, "--check", packages=["dpkg", ABSENT, "bash"])
    assert done.returncode == 1
    assert f"Debian packages the tests run against are missing: {ABSENT}\n" in done.stderr
    assert f"    {SUDO}apt-get update && {SUDO}apt-get install -y --no-install-recommends {ABSENT}\n" in done.stderr
    assert done.stdout == ""  # --check installs nothing, not even as root


def test_nothing_missing_passes_silently(tmp_path: Path) -> None:
    require_binary("dpkg-query", "dpkg")
    done = _ensure(tmp_path, "--check", packages=["dpkg", "bash"])
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_without_apt_get_it_stops_at_once_with_the_command(tmp_path: Path, dpkg_only: str) -> None:
    done = _ensure(tmp_path, packages=[ABSENT, "dpkg"], path=dpkg_only)
    assert done.returncode == 1
    assert f"apt-get install -y --no-install-recommends {ABSENT}\n" in done.stderr
    assert "installing" not in done.stdout


def test_not_debian_is_said_and_fails_under_ci(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    here = _ensure(tmp_path, path=str(empty), CI="")
    assert here.returncode == 0 and "no dpkg-query (not a Debian system)" in here.stderr
    assert _ensure(tmp_path, path=str(empty), CI="true").returncode == 1


def test_a_wrong_argument_is_refused(tmp_path: Path) -> None:
    done = _ensure(tmp_path, "--install-everything")
    assert done.returncode == 2 and "usage:" in done.stderr


@pytest.mark.parametrize("workers", [[], ["-n", "2", "--dist", "loadfile"]], ids=["one-process", "xdist-workers"])
def test_the_last_line_counts_the_tests_that_ran_against_real_components(tmp_path: Path, workers: list[str]) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.support.real_components import RealComponents\n\n"
        "def pytest_configure(config):\n"
        "    config.pluginmanager.register(RealComponents(), 'real-components')\n")
    (tmp_path / "test_inner.py").write_text(
        "import pytest\n"
        "from tests.support.binaries import require_binary\n\n"
        "@pytest.fixture(scope='module')\n"
        "def shell():\n"
        "    return require_binary('sh', 'dash')\n\n"
        "def test_uses_it(shell):\n    assert shell\n\n"
        "def test_uses_it_again(shell):\n    assert shell\n\n"
        f"def test_lacks_one():\n    require_binary('{ABSENT}')\n\n"
        "def test_uses_nothing():\n    pass\n")
    # As `make test` runs it (pytest-xdist workers: the counts travel with the reports) and in one process.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           "-c", os.devnull, *workers, str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "CI": ""}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == (
        "real components: 2 of 4 tests ran against them (sh 2); 1 skipped because one was missing")
