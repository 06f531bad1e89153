"""Signatures: key files, several trusted keys (rotation), each refusal reason, and Debian's `minisign` signing with
our secret key files and we with its (unencrypted) ones. test_minisign_interop.py covers -V and -S both ways."""

from __future__ import annotations

import base64
import stat
import subprocess
from pathlib import Path

import pytest

from isp_feed.keys import write_secret_key
from isp_feed_client import signing
from isp_feed_client.signing import SecretKey, SignatureError
from tests.support.binaries import require_binary

DATA = b"csam-gallery.test CNAME stop.blocklist.example.\n"


@pytest.fixture(scope="module")
def minisign() -> str:
    return require_binary("minisign")


def test_public_key_file_round_trip_and_id() -> None:
    key = SecretKey.generate()
    public = key.public_key()
    text = public.to_text()
    assert text.startswith(f"untrusted comment: minisign public key {public.key_id_hex}\n")
    assert signing.parse_public_key(text) == public == signing.parse_public_key(public.to_base64())
    assert len(public.key_id_hex) == 16


@pytest.mark.parametrize(("text", "message"), [
    ("", "one base64 line"),
    ("untrusted comment: x\nAAAA\nBBBB\n", "one base64 line"),
    ("untrusted comment: x\n!!!!\n", "not valid base64"),
    (base64.b64encode(b"Ed" + bytes(8)).decode(), "not an Ed25519 minisign public key"),
    (base64.b64encode(b"Xx" + bytes(40)).decode(), "not an Ed25519 minisign public key"),
])
def test_malformed_public_keys(text: str, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        signing.parse_public_key(text)


def test_secret_key_files_both_forms_mode_0600(tmp_path: Path) -> None:
    key = SecretKey.generate()
    for minisign_format, name in ((False, "ours.key"), (True, "minisign.key")):
        write_secret_key(tmp_path / name, key, minisign_format=minisign_format)
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
        assert signing.parse_secret_key((tmp_path / name).read_text()) == key
    with pytest.raises(SignatureError, match="damaged"):
        SecretKey.from_text("be-blocklist-ed25519-secret-key\nzz\nAAAA\n")


def test_damaged_or_encrypted_minisign_secret_key_refused() -> None:
    text = SecretKey.generate().to_minisign_text()
    blob = bytearray(base64.b64decode(text.splitlines()[1]))
    bad_checksum = bytes(blob[:-1]) + bytes([blob[-1] ^ 1])
    with pytest.raises(SignatureError, match="checksum mismatch"):
        SecretKey.from_minisign_text("untrusted comment: x\n" + base64.b64encode(bad_checksum).decode())
    blob[2:4] = b"Sc"
    with pytest.raises(SignatureError, match="password-protected"):
        SecretKey.from_minisign_text("untrusted comment: x\n" + base64.b64encode(bytes(blob)).decode())


def test_sign_and_verify_returns_the_trusted_comment() -> None:
    key = SecretKey.generate()
    sig = signing.sign(DATA, "feed=be-blocklist serial=1", key)
    assert sig.splitlines()[2] == "trusted comment: feed=be-blocklist serial=1"
    assert signing.verify(DATA, sig, [key.public_key()]) == "feed=be-blocklist serial=1"
    with pytest.raises(SignatureError, match="one line"):
        signing.sign(DATA, "two\nlines", key)


def test_rotation_old_and_new_keys_both_trusted() -> None:
    old, new = SecretKey.generate(), SecretKey.generate()
    trusted = [new.public_key(), old.public_key()]
    assert signing.verify(DATA, signing.sign(DATA, "by old", old), trusted) == "by old"
    assert signing.verify(DATA, signing.sign(DATA, "by new", new), trusted) == "by new"
    with pytest.raises(SignatureError, match=f"signed with key {old.public_key().key_id_hex}, which is not trusted"):
        signing.verify(DATA, signing.sign(DATA, "by old", old), [new.public_key()])


def test_each_refusal_says_why() -> None:
    key = SecretKey.generate()
    sig = signing.sign(DATA, "serial=1", key)
    with pytest.raises(SignatureError, match="does not match the data"):
        signing.verify(DATA + b"x", sig, [key.public_key()])
    with pytest.raises(SignatureError, match="does not match the data"):
        signing.verify(DATA[:-5], sig, [key.public_key()])
    with pytest.raises(SignatureError, match="global signature"):
        signing.verify(DATA, sig.replace("serial=1", "serial=2"), [key.public_key()])
    # the same key id with another key: an impostor cannot borrow a trusted id
    impostor = SecretKey(key_id=key.key_id, seed=SecretKey.generate().seed)
    with pytest.raises(SignatureError, match="does not match the data"):
        signing.verify(DATA, signing.sign(DATA, "serial=1", impostor), [key.public_key()])
    lines = sig.splitlines()
    blob = base64.b64decode(lines[1])
    legacy = "\n".join([lines[0], base64.b64encode(b"Ed" + blob[2:]).decode(), *lines[2:]])
    with pytest.raises(SignatureError, match="legacy non-prehashed"):
        signing.verify(DATA, legacy, [key.public_key()])
    short = "\n".join([lines[0], base64.b64encode(blob[:40]).decode(), *lines[2:]])
    with pytest.raises(SignatureError, match="wrong length"):
        signing.verify(DATA, short, [key.public_key()])
    with pytest.raises(SignatureError, match="not trusted \\(trusted: none\\)"):
        signing.verify(DATA, sig, [])


def test_minisign_signs_with_our_secret_key_file(minisign: str, tmp_path: Path) -> None:
    key = SecretKey.generate()
    write_secret_key(tmp_path / "feed.key", key, minisign_format=True)
    (tmp_path / "feed.rpz").write_bytes(DATA)
    subprocess.run([minisign, "-S", "-s", str(tmp_path / "feed.key"), "-m", str(tmp_path / "feed.rpz"),
                    "-t", "serial=9"], check=True, capture_output=True, input=b"")
    sig = (tmp_path / "feed.rpz.minisig").read_text()
    assert signing.verify(DATA, sig, [key.public_key()]) == "serial=9"


def test_we_sign_with_minisigns_unencrypted_key(minisign: str, tmp_path: Path) -> None:
    subprocess.run([minisign, "-G", "-W", "-p", str(tmp_path / "k.pub"), "-s", str(tmp_path / "k.key")],
                   check=True, capture_output=True)
    key = signing.parse_secret_key((tmp_path / "k.key").read_text())
    assert key.public_key() == signing.parse_public_key((tmp_path / "k.pub").read_text())
    (tmp_path / "list.txt").write_bytes(DATA)
    (tmp_path / "list.txt.minisig").write_text(signing.sign(DATA, "serial=4", key))
    checked = subprocess.run([minisign, "-V", "-p", str(tmp_path / "k.pub"), "-m", str(tmp_path / "list.txt")],
                             capture_output=True, text=True)
    assert checked.returncode == 0 and "serial=4" in checked.stdout, checked.stderr
