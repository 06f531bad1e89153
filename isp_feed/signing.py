"""minisign-compatible Ed25519 signatures (prehashed, algorithm "ED"), pure: no HTTP, no storage.

An ISP can check any download by hand with Debian's `minisign -V -P <key> -m <file>`. Formats:
- public key: `untrusted comment: ...` then base64("Ed" || key_id[8] || public_key[32]);
- signature: `untrusted comment: ...`, base64("ED" || key_id || Ed25519(BLAKE2b-512(data))),
  `trusted comment: <text>`, base64(Ed25519(signature || text)).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat


class SignatureError(Exception):
    """A signature or key is malformed, from an unknown key, or does not match the data."""


@dataclass(frozen=True)
class PublicKey:
    """A minisign public key: its 8-byte id and the raw Ed25519 key."""

    key_id: bytes
    raw: bytes

    @property
    def key_id_hex(self) -> str:
        """The id as minisign prints it (upper-case hex of the little-endian number)."""
        return self.key_id[::-1].hex().upper()

    def to_text(self, comment: str | None = None) -> str:
        """The minisign public-key file."""
        label = comment or f"minisign public key {self.key_id_hex}"
        body = base64.b64encode(b"Ed" + self.key_id + self.raw).decode()
        return f"untrusted comment: {label}\n{body}\n"

    def to_base64(self) -> str:
        """The one-line form `minisign -P` takes."""
        return base64.b64encode(b"Ed" + self.key_id + self.raw).decode()


@dataclass(frozen=True)
class SecretKey:
    """An Ed25519 signing key with its minisign key id."""

    key_id: bytes
    seed: bytes

    @classmethod
    def generate(cls) -> SecretKey:
        """A fresh random key."""
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(key_id=os.urandom(8), seed=seed)

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def public_key(self) -> PublicKey:
        """The matching public key."""
        raw = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return PublicKey(self.key_id, raw)

    def to_text(self) -> str:
        """Our own storage form (keep the file mode 0600)."""
        return f"be-blocklist-ed25519-secret-key\n{self.key_id.hex()}\n{base64.b64encode(self.seed).decode()}\n"

    @classmethod
    def from_text(cls, text: str) -> SecretKey:
        """Read the storage form."""
        lines = text.strip().splitlines()
        if len(lines) != 3 or lines[0] != "be-blocklist-ed25519-secret-key":
            raise SignatureError("not a be-blocklist secret key file")
        return cls(key_id=bytes.fromhex(lines[1]), seed=base64.b64decode(lines[2]))


def parse_public_key(text: str) -> PublicKey:
    """Read a minisign public key: a key file's text, or its base64 line alone."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines and lines[0].startswith("untrusted comment:"):
        lines = lines[1:]
    if len(lines) != 1:
        raise SignatureError("a minisign public key is one base64 line (after an optional comment line)")
    try:
        blob = base64.b64decode(lines[0], validate=True)
    except ValueError:
        raise SignatureError("the public key is not valid base64") from None
    if len(blob) != 42 or blob[:2] != b"Ed":
        raise SignatureError("not an Ed25519 minisign public key")
    return PublicKey(key_id=blob[2:10], raw=blob[10:])


def _prehash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=64).digest()


def sign(data: bytes, trusted_comment: str, key: SecretKey, untrusted_comment: str = "be-blocklist feed") -> str:
    """A minisign signature file over `data`, carrying `trusted_comment` (one line)."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise SignatureError("a trusted comment is one line")
    private = key._private()
    signature = private.sign(_prehash(data))
    global_signature = private.sign(signature + trusted_comment.encode())
    line = base64.b64encode(b"ED" + key.key_id + signature).decode()
    return (f"untrusted comment: {untrusted_comment}\n{line}\ntrusted comment: {trusted_comment}\n"
            f"{base64.b64encode(global_signature).decode()}\n")


def verify(data: bytes, signature_text: str, keys: list[PublicKey]) -> str:
    """Check a minisign signature against trusted keys; return its trusted comment or raise SignatureError."""
    lines = signature_text.splitlines()
    if len(lines) < 4 or not lines[0].startswith("untrusted comment:") or not lines[2].startswith("trusted comment: "):
        raise SignatureError("malformed signature file (expected the four lines of minisign's format)")
    try:
        blob = base64.b64decode(lines[1].strip(), validate=True)
        global_signature = base64.b64decode(lines[3].strip(), validate=True)
    except ValueError:
        raise SignatureError("malformed signature file (bad base64)") from None
    if len(blob) != 74:
        raise SignatureError("malformed signature (wrong length)")
    algorithm, key_id, signature = blob[:2], blob[2:10], blob[10:]
    if algorithm == b"Ed":
        raise SignatureError("legacy non-prehashed signature refused: the feed is signed prehashed (ED)")
    if algorithm != b"ED":
        raise SignatureError(f"unknown signature algorithm {algorithm!r}")
    matching = [k for k in keys if k.key_id == key_id]
    if not matching:
        known = ", ".join(k.key_id_hex for k in keys) or "none"
        raise SignatureError(f"signed with key {key_id[::-1].hex().upper()}, which is not trusted (trusted: {known})")
    public = Ed25519PublicKey.from_public_bytes(matching[0].raw)
    try:
        public.verify(signature, _prehash(data))
    except InvalidSignature:
        raise SignatureError("signature does not match the data (tampered, truncated or wrong file)") from None
    comment = lines[2][len("trusted comment: "):]
    try:
        public.verify(global_signature, signature + comment.encode())
    except InvalidSignature:
        raise SignatureError("the trusted comment was altered (global signature mismatch)") from None
    return comment
