"""The feed's signing keys in the data directory: generated on first use, rotated with a transition period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from blocklist.files import write_secret_file
from isp_feed_client.signing import PublicKey, SecretKey, parse_public_key, sign, sign_prehashed


def write_secret_key(path: Path, key: SecretKey, *, minisign_format: bool = False, exclusive: bool = True) -> None:
    """Store a secret key, ours or in minisign's unencrypted form, with mode 0600 from the first byte
    (blocklist.files.write_secret_file: whole or absent; `exclusive` refuses to replace an existing key)."""
    text = key.to_minisign_text() if minisign_format else key.to_text()
    write_secret_file(path, text.encode(), exclusive=exclusive)


@dataclass(frozen=True)
class PublishedKey:
    """A public key ISPs may trust: the active one, or a retired one still inside its transition period."""

    key_id: str
    text: str
    active: bool
    valid_until: str | None


class KeyStore:
    """`<data_dir>/keys/`: `active.key` (mode 0600), `active.pub`, and `retired/<id>.pub` with an end date."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _active(self) -> SecretKey:
        path = self.folder / "active.key"
        if not path.exists():
            self._install(SecretKey.generate())
        return SecretKey.from_text(path.read_text())

    def _install(self, key: SecretKey) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "active.pub").write_text(key.public_key().to_text())
        write_secret_key(self.folder / "active.key", key, exclusive=False)  # a rotation replaces it

    def has_active_key(self) -> bool:
        """Whether a signing key is installed (asking never generates one, unlike every other method)."""
        return (self.folder / "active.key").is_file()

    def active_key_id(self) -> str:
        """The id of the key that signs now."""
        return self._active().public_key().key_id_hex

    def active_public_key(self) -> PublicKey:
        """The public key that verifies what is signed now."""
        return self._active().public_key()

    def sign(self, data: bytes, trusted_comment: str) -> str:
        """Sign with the active key (minisign format)."""
        return sign(data, trusted_comment, self._active())

    def sign_prehashed(self, digest: bytes, trusted_comment: str) -> str:
        """Sign a BLAKE2b-512 prehash with the active key (a file hashed as it was written)."""
        return sign_prehashed(digest, trusted_comment, self._active())

    def rotate(self, *, transition_days: int, now: dt.datetime | None = None) -> str:
        """Make a new key active; the old public key stays published until the transition ends."""
        moment = now or dt.datetime.now(dt.UTC)
        old = self._active().public_key()
        retired = self.folder / "retired"
        retired.mkdir(parents=True, exist_ok=True)
        until = (moment + dt.timedelta(days=transition_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        (retired / f"{old.key_id_hex}.pub").write_text(old.to_text())
        (retired / f"{old.key_id_hex}.until").write_text(until + "\n")
        self._install(SecretKey.generate())
        return self.active_key_id()

    def public_keys(self, now: dt.datetime | None = None) -> list[PublishedKey]:
        """The active key first, then retired keys whose transition has not ended."""
        moment = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        active = self.active_public_key()
        keys = [PublishedKey(active.key_id_hex, active.to_text(), True, None)]
        retired = self.folder / "retired"
        for pub in sorted(retired.glob("*.pub")) if retired.exists() else []:
            until = pub.with_suffix(".until").read_text().strip()
            if until > moment:
                keys.append(PublishedKey(parse_public_key(pub.read_text()).key_id_hex, pub.read_text(), False, until))
        return keys
