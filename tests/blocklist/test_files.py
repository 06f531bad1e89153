"""Secret files: 0600 whatever the umask, whole or absent, never overwritten unless asked."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocklist.files import write_secret_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_mode_0600_whatever_the_umask(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    target = tmp_path / "keys" / "active.key"  # the folder is made too
    write_secret_file(target, b"secret\n")
    assert target.read_bytes() == b"secret\n" and _mode(target) == 0o600
    write_secret_file(target, b"other\n", exclusive=False)
    assert target.read_bytes() == b"other\n" and _mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["active.key"]


def test_an_exclusive_write_refuses_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "session_secret"
    write_secret_file(target, b"first")
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_secret_file(target, b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["session_secret"]


def test_replacing_makes_a_readable_file_private(tmp_path: Path) -> None:
    target = tmp_path / "probe.key"
    target.write_text("old")
    target.chmod(0o644)
    write_secret_file(target, b"new", exclusive=False)
    assert target.read_bytes() == b"new" and _mode(target) == 0o600


@pytest.mark.parametrize("exclusive", [True, False])
def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              exclusive: bool) -> None:
    kept = tmp_path / "kept.key"
    kept.write_bytes(b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_secret_file(tmp_path / "new.key", b"x" * 100_000, exclusive=exclusive)
    with pytest.raises(OSError, match="No space left"):
        write_secret_file(kept, b"half", exclusive=False)
    assert [p.name for p in tmp_path.iterdir()] == ["kept.key"]  # no new file, no temp file
    assert kept.read_bytes() == b"old"  # the old one whole


def test_without_hard_links_it_still_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "feed.key"
    write_secret_file(target, b"one")
    with pytest.raises(FileExistsError):
        write_secret_file(target, b"two")
    assert target.read_bytes() == b"one" and _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["feed.key"]


def test_probe_keygen_never_replaces_a_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from api.cli import main

    folder = tmp_path / "probe"
    first = CliRunner().invoke(main, ["probe-keygen", str(folder)])
    assert first.exit_code == 0, first.output
    key = (folder / "probe.key").read_bytes()
    assert _mode(folder / "probe.key") == 0o600 and key.startswith(b"be-blocklist-ed25519-secret-key")
    again = CliRunner().invoke(main, ["probe-keygen", str(folder)])
    assert again.exit_code == 2 and "exists already" in again.output
    assert (folder / "probe.key").read_bytes() == key
