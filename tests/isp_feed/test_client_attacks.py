"""The attacks, through the manifest path: each time the client refuses (exit 3, one clear line), the file the
resolver loads is byte-identical, the state does not advance, and the real Unbound keeps blocking while the control
name still resolves. A tampered delta alone is no attack on the result: the client falls back to the whole download
and applies the genuine list. The stand-in feed server plays both the genuine server and the attacker in the
middle (its `overrides`), so that each attack is exactly the bytes it names."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from isp_feed_client import delta, formats, manifest, signing
from isp_feed_client.cli import EXIT_OK, EXIT_REFUSED, main
from tests.support.feed_server import FeedServer, feed_server, make_version, sign_manifest
from tests.support.resolvers import Resolver, assert_resolves, assert_stop_page, start_unbound

BLOCKED = formats.FeedEntry("csam-gallery.test", "csam-gallery.test", "domain_and_subdomains")
SECOND = formats.FeedEntry("second.test", "second.test", "domain_and_subdomains")
GOOGLE = formats.FeedEntry("google.com", "google.com", "domain_and_subdomains")
MANIFEST, SIGNATURE = "latest.manifest.json", "latest.manifest.json.minisig"


@dataclass
class Scene:
    """An ISP's Unbound fed by `isp-feed pull`, serial 1 applied, the genuine serial 2 published."""

    feed: FeedServer
    folder: Path
    rpz: Path
    unbound: Resolver
    capsys: pytest.CaptureFixture[str]
    attacker: signing.SecretKey

    def pull(self, pubkey: Path | None = None) -> tuple[int, str]:
        self.capsys.readouterr()
        code = main(["pull", "--server", self.feed.url, "--token", self.feed.token, "--pubkey",
                     str(pubkey or self.folder / "feed.pub"), "--state-dir", str(self.folder / "state"),
                     "--out", str(self.rpz), "--reload", " ".join(self.unbound.reload_command)])
        captured = self.capsys.readouterr()
        return code, captured.out + captured.err

    def still_enforced(self, good: bytes, state: bytes) -> None:
        assert self.rpz.read_bytes() == good
        assert (self.folder / "state" / "state.json").read_bytes() == state
        assert sorted(p.name for p in self.rpz.parent.iterdir()) == ["feed.rpz"]  # no temp file, no backup
        assert_stop_page(self.unbound, "csam-gallery.test")
        assert_stop_page(self.unbound, "a.b.csam-gallery.test")
        assert_resolves(self.unbound, "good.test")

    def refused(self, name: str, overrides: dict[str, bytes], message: str, *, pubkey: Path | None = None,
                whole: bool | None = None) -> None:
        """The pull refuses with `message`, having downloaded the whole list (`whole`), or not (False)."""
        good, state = self.rpz.read_bytes(), (self.folder / "state" / "state.json").read_bytes()
        self.feed.overrides = overrides
        start = len(self.feed.fetches)
        code, text = self.pull(pubkey)
        self.feed.overrides = {}
        if whole is not None:
            fetched = self.feed.paths()[start:]
            assert any(p.endswith(".list") for p in fetched) == whole, (name, fetched)
            assert any(p.startswith("diff") for p in fetched), (name, fetched)
        assert code == EXIT_REFUSED, (name, text)
        assert text.startswith("isp-feed: refused, keeping the last good list:") and message in text, (name, text)
        assert len(text.strip().splitlines()) == 1, text
        self.still_enforced(good, state)


@pytest.fixture
def scene(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Scene]:
    rpz = tmp_path / "isp" / "feed.rpz"
    rpz.parent.mkdir()
    attacker = signing.SecretKey.generate()
    (tmp_path / "attacker.pub").write_text(attacker.public_key().to_text())
    with feed_server() as feed, start_unbound(tmp_path, rpz) as unbound:
        (tmp_path / "feed.pub").write_text(feed.public_key_text())
        scene = Scene(feed, tmp_path, rpz, unbound, capsys, attacker)
        feed.publish(make_version(1, [BLOCKED]))
        assert scene.pull()[0] == EXIT_OK
        assert_stop_page(unbound, "csam-gallery.test")
        assert_resolves(unbound, "second.test")
        feed.publish(make_version(2, [BLOCKED, SECOND]))  # the genuine new version every attack stands in for
        yield scene


def _tampered_delta(scene: Scene) -> bytes:
    """A delta that does not give the signed list (it adds another name than the genuine one)."""
    return delta.delta_bytes(delta.Delta(1, 2, (formats.FeedEntry("second.example", "second.example",
                                                                  "domain_and_subdomains"),), ()))


def test_every_attack_is_refused_and_the_block_stays(scene: Scene) -> None:
    feed, attacker = scene.feed, scene.attacker
    genuine = feed.manifests[2]
    data, signature = feed.files["versions/2.manifest.json"], feed.files["versions/2.manifest.json.minisig"]
    later = make_version(3, [BLOCKED, SECOND])
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=8)
    no_delta = {"diff": _tampered_delta(scene)}  # the client then downloads the whole files

    # a key the ISP does not pin
    scene.refused("unknown key", {}, "manifest: signed with key", pubkey=scene.folder / "attacker.pub")
    # a manifest forged with another key: with its own files, its own delta
    scene.refused("forged", feed.build(make_version(3, [BLOCKED, SECOND, GOOGLE]), key=attacker),
                  f"signed with key {attacker.public_key().key_id_hex}, which is not trusted")
    # a forged signature claiming the pinned key's id
    forged_sig = sign_manifest(genuine, attacker)[1].decode().splitlines()
    raw = base64.b64decode(forged_sig[1])
    forged_sig[1] = base64.b64encode(raw[:2] + feed.key.key_id + raw[10:]).decode()
    scene.refused("forged with the pinned key id", {SIGNATURE: ("\n".join(forged_sig) + "\n").encode()},
                  "manifest: signature does not match the data")
    # the manifest tampered with on the way (one hash of the rpz swapped): its signature no longer matches
    tampered = data.replace(genuine.files["rpz"].sha256.encode(), b"0" * 64)
    scene.refused("tampered manifest", {MANIFEST: tampered}, "manifest: signature does not match the data")
    scene.refused("truncated manifest", {MANIFEST: data[:-40]}, "manifest: signature does not match the data")
    # the applied serial again with other content
    scene.refused("same serial, other hash", feed.build(make_version(1, [BLOCKED, SECOND])),
                  "serial 1 arrived with a different content than the one applied")
    # an expired version (freeze)
    scene.refused("expired", feed.build(later, generated_at=past), "version 3 expired at")
    # a protected name, by the delta (proven by the list it gives) and by the whole list
    with_google = make_version(3, [BLOCKED, SECOND, GOOGLE])
    scene.refused("protected name", feed.build(with_google, diff_from=1), "contains protected name(s): google.com",
                  whole=False)
    scene.refused("protected name, whole", {**feed.build(with_google), **no_delta},
                  "contains protected name(s): google.com", whole=True)
    # a huge change, by the delta and by the whole list
    many = make_version(3, [BLOCKED, SECOND, *(formats.FeedEntry(f"n{i}.test", f"n{i}.test", "exact")
                                              for i in range(40))])
    scene.refused("huge change", feed.build(many, diff_from=1), "changes 41 of 1 names (+41 -0), above the limit of 10",
                  whole=False)
    scene.refused("huge change, whole", {**feed.build(many), **no_delta}, "changes 41 of 1 names", whole=True)
    # a successor that does not chain to the applied manifest
    scene.refused("fork", feed.signed(dataclasses.replace(genuine, previous_sha256="ab" * 32)),
                  "manifest 2 does not follow the applied serial 1")
    # the whole files tampered with or truncated, once the delta is unusable
    rpz, listed = feed.files["versions/2.rpz"], feed.files["versions/2.list"]
    scene.refused("tampered rpz", {**no_delta, "versions/2.rpz": rpz.replace(b"second.test", b"second.exampl")},
                  "rpz: body does not match the signed SHA-256 (tampered or truncated)", whole=True)
    scene.refused("truncated rpz", {**no_delta, "versions/2.rpz": rpz[:-30]}, "rpz: body does not match")
    scene.refused("tampered list", {**no_delta, "versions/2.list": listed.replace(b"second", b"secont")},
                  "list: body does not match the signed SHA-256")
    scene.refused("truncated list", {**no_delta, "versions/2.list": listed[:-10]}, "list: body does not match")
    # a genuinely signed manifest whose file hash does not match the files (a signer's bug, or files swapped)
    wrong_rpz = dataclasses.replace(genuine, files={**genuine.files, "rpz": manifest.FileRef("0" * 64, len(rpz))})
    scene.refused("manifest with a wrong rpz hash", feed.signed(wrong_rpz), "rpz: body does not match the signed")
    wrong_list = dataclasses.replace(genuine, files={**genuine.files, "list": manifest.FileRef("1" * 64, 99)})
    scene.refused("manifest with a wrong list hash", feed.signed(wrong_list), "list: body does not match the signed")
    assert signature  # the genuine signature was never needed by an attack above

    # Without the man in the middle the genuine version applies, by its delta.
    code, text = scene.pull()
    assert code == EXIT_OK and "by the delta from serial 1 (+1 -0)" in text, text
    assert scene.rpz.read_bytes() == feed.files["versions/2.rpz"]
    assert_stop_page(scene.unbound, "second.test")
    assert_resolves(scene.unbound, "good.test")

    # A rollback needs an applied serial above a genuinely signed older one: now 2 over 1.
    scene.refused("rollback", feed.replay(1), "rollback: offered serial 1 is older than the applied 2")
    assert_stop_page(scene.unbound, "second.test")


def test_a_tampered_delta_falls_back_to_the_genuine_list(scene: Scene) -> None:
    feed = scene.feed
    feed.overrides = {"diff": _tampered_delta(scene)}
    start = len(feed.fetches)
    code, text = scene.pull()
    assert code == EXIT_OK, text
    assert "the delta did not fit (GET /feed/v1/diff?from=1&to=2: it does not give the list the manifest signs), so " \
           "the whole list was downloaded" in text
    assert feed.paths()[start:] == [MANIFEST, SIGNATURE, "diff?from=1&to=2", "versions/2.list", "versions/2.rpz",
                                    "applied"]
    assert scene.rpz.read_bytes() == feed.files["versions/2.rpz"]
    assert_stop_page(scene.unbound, "second.test")  # the genuine list, not the delta's second.example
    assert_stop_page(scene.unbound, "csam-gallery.test")
    assert_resolves(scene.unbound, "good.test")


@pytest.mark.parametrize("garbage", [b"", b"{}", b"not json at all", b'{"feed":"be-blocklist","type":"delta"}',
                                     b"[" * 40_000])
def test_a_garbled_delta_with_tampered_files_is_refused(scene: Scene, garbage: bytes) -> None:
    rpz = scene.feed.files["versions/2.rpz"]
    scene.refused("garbled delta, tampered rpz", {"diff": garbage, "versions/2.rpz": rpz.replace(b"second", b"sec0nd")},
                  "rpz: body does not match the signed SHA-256")
