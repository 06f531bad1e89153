"""Our signatures and Debian's `minisign` understand each other, both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from isp_feed import signing
from tests.support.ci import missing


@pytest.fixture(scope="module")
def minisign() -> str:
    path = shutil.which("minisign")
    if path is None:
        missing("minisign", "install Debian's minisign package")
    return path


def test_minisign_verifies_ours_and_rejects_tampering(minisign: str, tmp_path: Path) -> None:
    key = signing.SecretKey.generate()
    data = b"csam-gallery.test CNAME stop.blocklist.example.\n"
    (tmp_path / "feed.rpz").write_bytes(data)
    comment = "feed=be-blocklist serial=7 expires=2026-11-28T12:00:00Z sha256=00 format=rpz"
    (tmp_path / "feed.rpz.minisig").write_text(signing.sign(data, comment, key))
    ok = subprocess.run([minisign, "-V", "-P", key.public_key().to_base64(), "-m", str(tmp_path / "feed.rpz")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert comment in ok.stdout
    (tmp_path / "feed.rpz").write_bytes(data.replace(b"stop.", b"evil."))
    bad = subprocess.run([minisign, "-V", "-P", key.public_key().to_base64(), "-m", str(tmp_path / "feed.rpz")],
                         capture_output=True, text=True)
    assert bad.returncode != 0


def test_we_verify_minisigns_signatures(minisign: str, tmp_path: Path) -> None:
    subprocess.run([minisign, "-G", "-W", "-p", str(tmp_path / "k.pub"), "-s", str(tmp_path / "k.key")],
                   check=True, capture_output=True)
    (tmp_path / "list.txt").write_bytes(b"csam-gallery.test\n")
    subprocess.run([minisign, "-S", "-s", str(tmp_path / "k.key"), "-m", str(tmp_path / "list.txt"),
                    "-t", "serial=3"], check=True, capture_output=True, input=b"")
    public = signing.parse_public_key((tmp_path / "k.pub").read_text())
    sig = (tmp_path / "list.txt.minisig").read_text()
    assert signing.verify(b"csam-gallery.test\n", sig, [public]) == "serial=3"
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(b"csam-gallery.tes\n", sig, [public])
    other = signing.SecretKey.generate().public_key()
    with pytest.raises(signing.SignatureError, match="not trusted"):
        signing.verify(b"csam-gallery.test\n", sig, [other])


def test_altered_trusted_comment_refused() -> None:
    key = signing.SecretKey.generate()
    sig = signing.sign(b"x", "serial=5", key).replace("serial=5", "serial=9")
    with pytest.raises(signing.SignatureError, match="trusted comment was altered"):
        signing.verify(b"x", sig, [key.public_key()])


@pytest.mark.parametrize("garbage", ["", "hello", "untrusted comment: x\n!!!\ntrusted comment: y\nzz\n"])
def test_malformed_signatures_refused(garbage: str) -> None:
    with pytest.raises(signing.SignatureError, match="malformed"):
        signing.verify(b"x", garbage, [signing.SecretKey.generate().public_key()])
