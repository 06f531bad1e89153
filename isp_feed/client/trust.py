"""The client's checks on a version, as pure functions: plain values in, nothing out or the matching refusal raised.

No I/O here: `pull.py` fetches, streams and stores, and asks these functions whether what it holds may be applied.
Each raises one class of `isp_feed.errors` (python-tuf's pattern: one error per refusal), so a test can craft the
exact input of each attack. Signature arithmetic is `isp_feed.signing`'s, document parsing `isp_feed.formats`'s.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Collection, Iterable, Sequence

from isp_feed import errors, formats, signing

FEED = "be-blocklist"
# Names no version may ever contain (a built-in floor; --protected-file adds more). Denmark 2012.
BUILTIN_PROTECTED = ("google.com", "google.be", "youtube.com", "facebook.com", "wikipedia.org", "microsoft.com",
                     "apple.com", "amazon.com", "gov.be", "fgov.be", "belgium.be", "europa.eu")


# --- signatures -------------------------------------------------------------------------------------------------


def _signer(signature_text: str) -> bytes | None:
    """The key id a minisign signature names (None when the file is too garbled to say)."""
    lines = signature_text.splitlines()
    if len(lines) < 2:
        return None
    try:
        blob = base64.b64decode(lines[1].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return blob[2:10] if len(blob) == 74 else None


def verify_signature(prehash: bytes, signature: bytes | str, keys: Sequence[signing.PublicKey], *,
                     what: str) -> str:
    """The trusted comment of a signature over data with this BLAKE2b-512 prehash, made by one of `keys`.

    UnknownKey when a key not pinned signed it; BadSignature when it is malformed or does not match.
    """
    text = signature.decode(errors="replace") if isinstance(signature, bytes) else signature
    signer = _signer(text)
    if signer is not None and all(k.key_id != signer for k in keys):
        raise errors.UnknownKey(what, signer[::-1].hex().upper(), [k.key_id_hex for k in keys])
    try:
        return signing.verify_prehashed(prehash, text, list(keys))
    except signing.SignatureError as exc:
        raise errors.BadSignature(what, str(exc)) from None


def signed_facts(comment: str, *, what: str) -> formats.SignedFacts:
    """The fields of a verified trusted comment; MalformedFeed when one is missing or garbled."""
    try:
        return formats.parse_trusted_comment(comment)
    except formats.FeedFormatError as exc:
        raise errors.MalformedFeed(what, str(exc)) from None


def check_signed_file(facts: formats.SignedFacts, *, fmt: str, sha256: str, serial: int | None, what: str) -> None:
    """The signed comment describes this very file: our feed, this format, this body, this serial (when known)."""
    if facts.feed != FEED or facts.fmt != fmt:
        raise errors.SignedFactsMismatch("", f"signature is for {facts.feed}/{facts.fmt}, not {FEED}/{fmt}")
    if facts.sha256 != sha256:
        raise errors.LengthOrHashMismatch(what, signed=facts.sha256, received=sha256)
    if serial is not None and facts.serial != serial:
        raise errors.SignedFactsMismatch(
            what, f"signed serial {facts.serial} differs from {serial} (formats of different versions)")


def verify_file(prehash: bytes, signature: bytes | str, keys: Sequence[signing.PublicKey], *, fmt: str, sha256: str,
                serial: int | None) -> formats.SignedFacts:
    """Every check on one downloaded file and its signature; the signed facts when all pass."""
    facts = signed_facts(verify_signature(prehash, signature, keys, what=fmt), what=fmt)
    check_signed_file(facts, fmt=fmt, sha256=sha256, serial=serial, what=fmt)
    return facts


# --- the envelope -----------------------------------------------------------------------------------------------


def parse_envelope(data: bytes) -> formats.FeedVersion:
    """The version a verified JSON envelope holds; MalformedFeed names the first wrong field."""
    try:
        return formats.parse_envelope(data)
    except formats.FeedFormatError as exc:
        raise errors.MalformedFeed("", str(exc)) from None


def check_envelope_matches(facts: formats.SignedFacts, version: formats.FeedVersion) -> None:
    """The envelope states the serial and expiry its signature asserts."""
    if facts.serial != version.serial or facts.expires_at != version.expires_at:
        raise errors.SignedFactsMismatch("", "the envelope's serial or expiry differs from what its signature asserts")


def check_serial(offered: int, applied: int) -> None:
    """Never lower than the applied serial (rollback)."""
    if offered < applied:
        raise errors.Rollback(offered=offered, applied=applied)


def check_same_serial_same_content(offered: int, offered_sha256: str, applied: int,
                                   applied_sha256: str | None) -> None:
    """The applied serial again only with the very same envelope."""
    if offered == applied and offered_sha256 != applied_sha256:
        raise errors.SameSerialOtherContent(offered, applied_sha256=applied_sha256, offered_sha256=offered_sha256)


def check_not_expired(serial: int, expires_at: dt.datetime, now: dt.datetime, *, applied: bool = False) -> None:
    """Not past its expiry (freeze). `applied`: the version is the one already in force (the server said 304)."""
    if expires_at < now:
        raise errors.Freeze(serial, expires_at, applied=applied)


# --- the list ---------------------------------------------------------------------------------------------------


def under_protected(name: str, protected: Collection[str]) -> bool:
    """Whether the name is a protected name or lies under one (a set look-up per label: fast for 1M names)."""
    while True:
        if name in protected:
            return True
        dot = name.find(".")
        if dot < 0:
            return False
        name = name[dot + 1:]


def check_protected(serial: int, names: Iterable[str], protected: Collection[str]) -> None:
    """No protected name, nor a name under one."""
    hits = [n for n in names if under_protected(n, protected)]
    if hits:
        raise errors.ProtectedName(serial, hits)


def count_changes(before: Iterable[str], after: Sequence[str]) -> tuple[int, int, int]:
    """Added, removed, and the previous count, merging two sorted sequences (`before` is read once, in order)."""
    added = removed = count = 0
    position, total = 0, len(after)
    for old in before:
        count += 1
        while position < total and after[position] < old:
            added += 1
            position += 1
        if position < total and after[position] == old:
            position += 1
        else:
            removed += 1
    return added + total - position, removed, count


def check_change_size(serial: int, *, added: int, removed: int, before: int, max_share: float,
                      min_changes: int) -> None:
    """At most `max_share` of the previous list changes; up to `min_changes` names always pass."""
    limit = max(min_changes, max_share * before)
    if added + removed > limit:
        raise errors.ChangeTooLarge(serial, added=added, removed=removed, before=before, limit=int(limit))


def check_initial_size(serial: int, count: int, max_initial: int | None) -> None:
    """A first load takes any size unless an explicit --max-initial caps it."""
    if max_initial is not None and count > max_initial:
        raise errors.InitialTooLarge(serial, count=count, max_initial=max_initial)


def check_content(serial: int, names: Sequence[str], previous: Iterable[str] | None, *, protected: Collection[str],
                  max_share: float, min_changes: int, max_initial: int | None) -> None:
    """Every check on the list itself: protected names, then the size of the change (or of a first load).

    `names` and `previous` are sorted; `previous` is None before the first load (nothing to compare with).
    """
    check_protected(serial, names, protected)
    if previous is None:
        check_initial_size(serial, len(names), max_initial)
        return
    added, removed, before = count_changes(previous, names)
    check_change_size(serial, added=added, removed=removed, before=before, max_share=max_share,
                      min_changes=min_changes)


# --- audit checkpoints ------------------------------------------------------------------------------------------


def verify_checkpoint(checkpoint: formats.AuditCheckpoint, keys: Sequence[signing.PublicKey], *, serial: int) -> None:
    """The checkpoint a version carries is signed by a pinned key and says what its signature states."""
    body = formats.checkpoint_body(checkpoint.events, checkpoint.head, checkpoint.at)
    try:
        comment = signing.verify(body, checkpoint.signature, list(keys))
    except signing.SignatureError as exc:
        raise errors.BadCheckpoint(serial, str(exc)) from None
    if comment != formats.checkpoint_comment(checkpoint.events, checkpoint.head, checkpoint.at):
        raise errors.BadCheckpoint(serial, "it differs from what its signature states")


def checkpoint_is_new(checkpoint: formats.AuditCheckpoint, kept: formats.AuditCheckpoint | None, *, serial: int,
                      kept_in: str) -> bool:
    """Whether the checkpoint extends the newest one kept (False: the same one again); HistoryRewritten when it
    shows fewer events, or other hashes at the same count (`kept_in` names the file for the operator)."""
    if kept is None:
        return True
    if (kept.events, kept.head) == (checkpoint.events, checkpoint.head):
        return False
    if checkpoint.events <= kept.events:
        raise errors.HistoryRewritten(serial, events=checkpoint.events, head=checkpoint.head,
                                      kept_events=kept.events, kept_head=kept.head,
                                      kept_at=formats.checkpoint_time(kept.at), kept_in=kept_in)
    return True
