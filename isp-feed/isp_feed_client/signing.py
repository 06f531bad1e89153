"""minisign-compatible Ed25519 signatures (prehashed, algorithm "ED"), pure: no HTTP, no storage.

An ISP can check any download by hand with Debian's `minisign -V -P <key> -m <file>`. Formats:
- public key: `untrusted comment: ...` then base64("Ed" || key_id[8] || public_key[32]);
- signature: `untrusted comment: ...`, base64("ED" || key_id || Ed25519(BLAKE2b-512(data))),
  `trusted comment: <text>`, base64(Ed25519(signature || text));
- secret key: our own three-line file (`SecretKey.to_text`), or minisign's unencrypted form (`minisign -G -W`):
  base64("Ed" || kdf "\0\0" || "B2" || salt[32] || opslimit[8] || memlimit[8] || key_id || seed||pk [64] || chk[32]).
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
        try:
            key_id, seed = bytes.fromhex(lines[1]), base64.b64decode(lines[2], validate=True)
        except ValueError:
            raise SignatureError("the secret key file is damaged (bad hex or base64)") from None
        if len(key_id) != 8 or len(seed) != 32:
            raise SignatureError("the secret key file is damaged (wrong key id or seed length)")
        return cls(key_id=key_id, seed=seed)

    def to_minisign_text(self, comment: str = "minisign unencrypted secret key") -> str:
        """minisign's unencrypted secret-key file (`minisign -S -s FILE` signs with it; keep it mode 0600)."""
        secret = self.seed + self.public_key().raw  # libsodium's 64-byte secret key
        checksum = hashlib.blake2b(b"Ed" + self.key_id + secret, digest_size=32).digest()
        blob = b"Ed" + _KDF_NONE + b"B2" + bytes(32 + 8 + 8) + self.key_id + secret + checksum
        return f"untrusted comment: {comment}\n{base64.b64encode(blob).decode()}\n"

    @classmethod
    def from_minisign_text(cls, text: str) -> SecretKey:
        """Read minisign's unencrypted secret-key file (`minisign -G -W`); an encrypted one is refused."""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if len(lines) != 2 or not lines[0].startswith("untrusted comment:"):
            raise SignatureError("a minisign secret key file is a comment line and one base64 line")
        try:
            blob = base64.b64decode(lines[1], validate=True)
        except ValueError:
            raise SignatureError("the minisign secret key is not valid base64") from None
        if len(blob) != 158 or blob[:2] != b"Ed" or blob[4:6] != b"B2":
            raise SignatureError("not an Ed25519 minisign secret key")
        if blob[2:4] != _KDF_NONE:
            raise SignatureError("this minisign secret key is password-protected; create one with `minisign -G -W` "
                                 "or remove the password with `minisign -C -s FILE -W`")
        key_id, secret, checksum = blob[54:62], blob[62:126], blob[126:158]
        # minisign 0.11 leaves the checksum zero in unencrypted keys; any other value must match.
        if checksum != bytes(32) and checksum != hashlib.blake2b(b"Ed" + key_id + secret, digest_size=32).digest():
            raise SignatureError("the minisign secret key is damaged (checksum mismatch)")
        key = cls(key_id=key_id, seed=secret[:32])
        if key.public_key().raw != secret[32:]:
            raise SignatureError("the minisign secret key is damaged (its public half does not match)")
        return key


_KDF_NONE = b"\0\0"


def parse_secret_key(text: str) -> SecretKey:
    """Read a secret key in either form: ours, or minisign's unencrypted one."""
    if text.startswith("be-blocklist-ed25519-secret-key"):
        return SecretKey.from_text(text)
    return SecretKey.from_minisign_text(text)


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
    return sign_prehashed(_prehash(data), trusted_comment, key, untrusted_comment)


def sign_prehashed(digest: bytes, trusted_comment: str, key: SecretKey,
                   untrusted_comment: str = "be-blocklist feed") -> str:
    """`sign` for data hashed as it was written (`prehasher().digest()`): a large file is never read back."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise SignatureError("a trusted comment is one line")
    if len(digest) != 64:
        raise SignatureError("a prehash is the 64-byte BLAKE2b-512 digest of the data")
    private = key._private()
    signature = private.sign(digest)
    global_signature = private.sign(signature + trusted_comment.encode())
    line = base64.b64encode(b"ED" + key.key_id + signature).decode()
    return (f"untrusted comment: {untrusted_comment}\n{line}\ntrusted comment: {trusted_comment}\n"
            f"{base64.b64encode(global_signature).decode()}\n")


def prehasher() -> hashlib.blake2b:
    """The running BLAKE2b-512 a prehashed signature covers: feed it a download chunk by chunk."""
    return hashlib.blake2b(digest_size=64)


def verify(data: bytes, signature_text: str, keys: list[PublicKey]) -> str:
    """Check a minisign signature against trusted keys; return its trusted comment or raise SignatureError."""
    return verify_prehashed(_prehash(data), signature_text, keys)


def verify_prehashed(digest: bytes, signature_text: str, keys: list[PublicKey]) -> str:
    """`verify` for data hashed as it streamed by (`prehasher().digest()`), never held whole in memory."""
    if len(digest) != 64:
        raise SignatureError("a prehash is the 64-byte BLAKE2b-512 digest of the data")
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
    for candidate in matching:  # two trusted keys could share an id; accept if either verifies
        public = Ed25519PublicKey.from_public_bytes(candidate.raw)
        try:
            public.verify(signature, digest)
            break
        except InvalidSignature:
            continue
    else:
        raise SignatureError("signature does not match the data (tampered, truncated or wrong file)")
    comment = lines[2][len("trusted comment: "):]
    try:
        public.verify(global_signature, signature + comment.encode())
    except InvalidSignature:
        raise SignatureError("the trusted comment was altered (global signature mismatch)") from None
    return comment
