"""The small signed manifest of each feed version (TUF's snapshot/timestamp pattern): pure, canonical, strict.

A version *is* its manifest: feed, serial, when it was made and until when it may be used, the hash of the previous
manifest (a chain a rollback cannot fake), how many names, the SHA-256 and size of every format file and of the
canonical list, the delta from the previous content, the stop page, the signed audit checkpoint, and (when the
publication gate held the change and a magistrate confirmed it) that confirmation, so that an ISP's client may take a
change larger than its own limit (isp_feed_client/trust.py `check_change`). Files are
written once per content change (`content_serial`); the hourly re-issue is a new manifest with a new expiry pointing
at the same files. The manifest is signed with minisign (`latest.manifest.json.minisig`), so an ISP checks it, and
through its hashes every file, with `minisign -V` and `sha256sum` alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

from isp_feed_client import formats

MANIFEST_TYPE = "manifest"
MANIFEST_FORMAT = 1
MANIFEST_EXT = "manifest.json"  # served as latest.manifest.json and versions/{serial}.manifest.json
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_MANIFEST_BYTES = 64 * 1024  # a manifest is a few kilobytes; anything larger is refused unread


@dataclass(frozen=True)
class FileRef:
    """One file a manifest covers: its SHA-256 and size."""

    sha256: str
    size: int


@dataclass(frozen=True)
class DeltaRef:
    """The delta from the previous content serial: which, its hash and size, and how many names it adds and removes."""

    from_serial: int
    sha256: str
    size: int
    added: int
    removed: int


@dataclass(frozen=True)
class Confirmation:
    """The publication gate held the change to this content and a magistrate confirmed it a second time: which hold,
    who (role and user id: the person is named in the audit chain, not to every ISP), when, and the change confirmed
    (from which content serial, how many names added and removed)."""

    hold: int
    role: str
    user_id: int
    confirmed_at: dt.datetime
    from_serial: int
    added: int
    removed: int

    @property
    def total(self) -> int:
        """Names the confirmed change adds or removes."""
        return self.added + self.removed

    def describe(self) -> str:
        """In words, for a client's messages."""
        return (f"feed hold #{self.hold} confirmed by {self.role} #{self.user_id} at "
                f"{formats.format_time(self.confirmed_at)} (+{self.added} -{self.removed} from serial "
                f"{self.from_serial})")


@dataclass(frozen=True)
class Manifest:
    """One signed version of the feed."""

    serial: int
    content_serial: int  # the serial whose files this version carries (== serial when the list changed)
    content_generated_at: dt.datetime  # when those files were made (their headers say so)
    generated_at: dt.datetime
    expires_at: dt.datetime
    previous_sha256: str | None  # SHA-256 of the previous manifest's bytes
    count: int
    files: dict[str, FileRef]  # every format in formats.EXTENSIONS, `list` included
    delta: DeltaRef | None  # None for the first content (and a re-issue carries its content's delta)
    stop_page_name: str
    stop_page_ipv4: str
    stop_page_ipv6: str | None
    checkpoint: formats.AuditCheckpoint | None
    confirmation: Confirmation | None = None  # the gate's confirmation of this content's change (a re-issue keeps it)

    @property
    def list_sha256(self) -> str:
        """The hash that identifies the set of names."""
        return self.files["list"].sha256

    def content(self, entries: tuple[formats.FeedEntry, ...] = ()) -> formats.FeedVersion:
        """The format-level version the files were rendered from (with `entries`, or empty for headers alone)."""
        return formats.FeedVersion(self.content_serial, self.content_generated_at, entries, self.stop_page_name,
                                   self.stop_page_ipv4, self.stop_page_ipv6)


def manifest_document(m: Manifest) -> dict[str, object]:
    """The manifest as a JSON object."""
    document: dict[str, object] = {
        "type": MANIFEST_TYPE, "feed": "be-blocklist", "format": MANIFEST_FORMAT,
        "serial": m.serial, "content_serial": m.content_serial,
        "content_generated_at": formats.format_time(m.content_generated_at),
        "generated_at": formats.format_time(m.generated_at), "expires_at": formats.format_time(m.expires_at),
        "previous_sha256": m.previous_sha256, "count": m.count,
        "files": {ext: {"sha256": ref.sha256, "size": ref.size} for ext, ref in sorted(m.files.items())},
        "delta": None if m.delta is None else {
            "from": m.delta.from_serial, "sha256": m.delta.sha256, "size": m.delta.size,
            "added": m.delta.added, "removed": m.delta.removed},
        "stop_page": {"name": m.stop_page_name, "ipv4": m.stop_page_ipv4, "ipv6": m.stop_page_ipv6},
    }
    if m.checkpoint is not None:
        document["audit_checkpoint"] = formats.checkpoint_fields(m.checkpoint)
    if m.confirmation is not None:  # absent rather than null: manifests before it keep their bytes
        c = m.confirmation
        document["confirmation"] = {"hold": c.hold, "confirmed_by": {"role": c.role, "user_id": c.user_id},
                                    "confirmed_at": formats.format_time(c.confirmed_at), "from": c.from_serial,
                                    "added": c.added, "removed": c.removed}
    return document


def manifest_bytes(m: Manifest) -> bytes:
    """The canonical bytes that are signed and served (sorted keys, no spaces, one line)."""
    return (json.dumps(manifest_document(m), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            + "\n").encode()


def manifest_sha256(data: bytes) -> str:
    """The SHA-256 a manifest is known by (the next one's `previous_sha256`)."""
    return hashlib.sha256(data).hexdigest()


def _serial(value: object, field: str, *, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise formats.FeedFormatError(f"{field} must be an integer of at least {minimum}")
    return value


def _hex(value: object, field: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise formats.FeedFormatError(f"{field} must be 64 lower-case hex digits")
    return value


def _file_ref(raw: object, field: str) -> FileRef:
    if not isinstance(raw, dict) or raw.keys() != {"sha256", "size"}:
        raise formats.FeedFormatError(f"{field} must give exactly sha256 and size")
    return FileRef(_hex(raw["sha256"], f"{field}.sha256"), _serial(raw["size"], f"{field}.size", minimum=0))


def _delta_ref(raw: object) -> DeltaRef | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.keys() != {"from", "sha256", "size", "added", "removed"}:
        raise formats.FeedFormatError("delta must give exactly from, sha256, size, added and removed")
    return DeltaRef(_serial(raw["from"], "delta.from", minimum=0), _hex(raw["sha256"], "delta.sha256"),
                    _serial(raw["size"], "delta.size", minimum=0), _serial(raw["added"], "delta.added", minimum=0),
                    _serial(raw["removed"], "delta.removed", minimum=0))


def _confirmation(raw: object) -> Confirmation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.keys() != {"hold", "confirmed_by", "confirmed_at", "from", "added",
                                                   "removed"}:
        raise formats.FeedFormatError("confirmation must give exactly hold, confirmed_by, confirmed_at, from, added "
                                      "and removed")
    by = raw["confirmed_by"]
    if not isinstance(by, dict) or by.keys() != {"role", "user_id"} or not isinstance(by["role"], str) \
            or not by["role"]:
        raise formats.FeedFormatError("confirmation.confirmed_by must give exactly role and user_id")
    return Confirmation(_serial(raw["hold"], "confirmation.hold"), by["role"],
                        _serial(by["user_id"], "confirmation.confirmed_by.user_id"),
                        formats.parse_time(raw["confirmed_at"], "confirmation.confirmed_at"),
                        _serial(raw["from"], "confirmation.from", minimum=0),
                        _serial(raw["added"], "confirmation.added", minimum=0),
                        _serial(raw["removed"], "confirmation.removed", minimum=0))


def parse_manifest(data: bytes) -> Manifest:
    """Read a manifest strictly, in its canonical form only; FeedFormatError names the first wrong field."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise formats.FeedFormatError(f"the manifest is {len(data)} bytes, more than {MAX_MANIFEST_BYTES}")
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise formats.FeedFormatError(f"the manifest is not valid JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("type") != MANIFEST_TYPE or body.get("feed") != "be-blocklist":
        raise formats.FeedFormatError("not a be-blocklist manifest")
    if body.get("format") != MANIFEST_FORMAT:
        raise formats.FeedFormatError(f"unsupported manifest format {body.get('format')!r}")
    serial = _serial(body.get("serial"), "serial")
    content_serial = _serial(body.get("content_serial"), "content_serial")
    if content_serial > serial:
        raise formats.FeedFormatError(f"content_serial {content_serial} is after serial {serial}")
    generated_at = formats.parse_time(body.get("generated_at"), "generated_at")
    expires_at = formats.parse_time(body.get("expires_at"), "expires_at")
    if expires_at <= generated_at:
        raise formats.FeedFormatError(f"expires_at {body.get('expires_at')} is not after generated_at")
    previous = body.get("previous_sha256")
    files_raw = body.get("files")
    if not isinstance(files_raw, dict) or set(files_raw) != set(formats.EXTENSIONS):
        raise formats.FeedFormatError(f"files must cover exactly the formats {', '.join(formats.EXTENSIONS)}")
    stop_name, stop_v4, stop_v6 = formats.parse_stop_page(body.get("stop_page"))
    manifest = Manifest(
        serial=serial, content_serial=content_serial,
        content_generated_at=formats.parse_time(body.get("content_generated_at"), "content_generated_at"),
        generated_at=generated_at, expires_at=expires_at,
        previous_sha256=None if previous is None else _hex(previous, "previous_sha256"),
        count=_serial(body.get("count"), "count", minimum=0),
        files={ext: _file_ref(files_raw[ext], f"files.{ext}") for ext in formats.EXTENSIONS},
        delta=_delta_ref(body.get("delta")),
        stop_page_name=stop_name, stop_page_ipv4=stop_v4, stop_page_ipv6=stop_v6,
        checkpoint=formats.parse_embedded_checkpoint(body.get("audit_checkpoint")),
        confirmation=_confirmation(body.get("confirmation")),
    )
    if manifest_bytes(manifest) != data:
        raise formats.FeedFormatError("the manifest is not in its canonical form (altered or re-encoded)")
    return manifest


def trusted_comment(m: Manifest, sha256: str) -> str:
    """The signed comment of a manifest: serial, expiry and hash, what `minisign -V` shows a person."""
    return formats.trusted_comment(feed="be-blocklist", serial=m.serial, expires_at=m.expires_at, sha256=sha256,
                                   fmt="manifest")
