"""Our signatures and Debian's `minisign` understand each other, both ways; and an ISP checks a whole feed version
by hand: `minisign -V` on the manifest (and on each file's own signature), then `sha256sum` of each file against
the hash the verified manifest states."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from isp_feed_client import formats, manifest, signing
from tests.support.binaries import require_binary
from tests.support.feed_server import FeedServer, make_version


@pytest.fixture(scope="module")
def minisign() -> str:
    return require_binary("minisign")


def test_minisign_verifies_ours_and_rejects_tampering(minisign: str, tmp_path: Path) -> None:
    key = signing.SecretKey.generate()
    data = b"csam-gallery.test CNAME stop.blocklist.example.\n"
    (tmp_path / "feed.rpz").write_bytes(data)
    comment = "feed=be-blocklist serial=7 sha256=00 format=rpz"
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


def _verify(minisign: str, key: signing.SecretKey, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([minisign, "-V", "-P", key.public_key().to_base64(), "-m", str(path)], capture_output=True,
                          text=True)


def test_minisign_and_sha256sum_check_a_whole_version_by_hand(minisign: str, tmp_path: Path) -> None:
    sha256sum = require_binary("sha256sum", "coreutils")
    feed = FeedServer(key=signing.SecretKey.generate(), token="")
    feed.publish(make_version(7, ["csam-gallery.test", formats.FeedEntry("exact-only.test", "exact-only.test",
                                                                         "exact")]))
    feed.publish(make_version(8, ["csam-gallery.test", "second.test"]))
    reissued = feed.reissue(expires_in=dt.timedelta(hours=12))  # serial 9: the files of serial 8
    for name in ("latest.manifest.json", "latest.manifest.json.minisig"):
        (tmp_path / name).write_bytes(feed.files[name])
    ok = _verify(minisign, feed.key, tmp_path / "latest.manifest.json")
    assert ok.returncode == 0, ok.stderr
    digest = manifest.manifest_sha256(feed.files["latest.manifest.json"])
    assert (f"feed=be-blocklist serial=9 expires={formats.format_time(reissued.expires_at)} sha256={digest} "
            "format=manifest") in ok.stdout
    stated = json.loads((tmp_path / "latest.manifest.json").read_bytes())
    assert stated["serial"] == 9 and stated["content_serial"] == 8
    assert stated["previous_sha256"] == manifest.manifest_sha256(feed.files["versions/8.manifest.json"])
    sums = []
    for ext in formats.EXTENSIONS:
        name = f"9.{ext}"
        (tmp_path / name).write_bytes(feed.files[f"versions/9.{ext}"])
        (tmp_path / f"{name}.minisig").write_bytes(feed.files[f"versions/9.{ext}.minisig"])
        sums.append(f"{stated['files'][ext]['sha256']}  {name}\n")
        assert (tmp_path / name).stat().st_size == stated["files"][ext]["size"]
        own = _verify(minisign, feed.key, tmp_path / name)  # each file's own signature: its content serial
        assert own.returncode == 0 and "serial=8 sha256=" in own.stdout and f"format={ext}" in own.stdout, own
        assert "expires=" not in own.stdout
    (tmp_path / "SHA256SUMS").write_text("".join(sums))
    checked = subprocess.run([sha256sum, "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.count(": OK") == len(formats.EXTENSIONS), checked.stdout

    # tampering: a manifest with another hash fails minisign; a file fails its sum (and its own signature)
    (tmp_path / "latest.manifest.json").write_bytes(
        feed.files["latest.manifest.json"].replace(b'"count":2', b'"count":3'))
    assert _verify(minisign, feed.key, tmp_path / "latest.manifest.json").returncode != 0
    (tmp_path / "9.rpz").write_bytes(feed.files["versions/9.rpz"].replace(b"second", b"secont"))
    assert subprocess.run([sha256sum, "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True).returncode != 0
    assert _verify(minisign, feed.key, tmp_path / "9.rpz").returncode != 0
    # a manifest signed by another key: minisign refuses it with the pinned key
    other = FeedServer(key=signing.SecretKey.generate(), token="")
    other.publish(make_version(9, ["csam-gallery.test"]))
    (tmp_path / "latest.manifest.json").write_bytes(other.files["latest.manifest.json"])
    (tmp_path / "latest.manifest.json.minisig").write_bytes(other.files["latest.manifest.json.minisig"])
    assert _verify(minisign, feed.key, tmp_path / "latest.manifest.json").returncode != 0
