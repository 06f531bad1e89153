"""The client's checks on a version, as pure functions: plain values in, nothing out or the matching refusal raised.

No I/O here: `pull.py` fetches, streams and stores, and asks these functions whether what it holds may be applied.
Each raises one class of `isp_feed_client.errors` (python-tuf's pattern: one error per refusal), so a test can craft the
exact input of each attack. Signature arithmetic is `isp_feed_client.signing`'s, document parsing that of
`isp_feed_client.formats`, `isp_feed_client.manifest` and `isp_feed_client.delta`.

What is trusted, and why: the manifest is signed (minisign, a pinned key); every file it names is trusted through the
SHA-256 and size it states, and a delta (never signed itself: the server composes it on request) only once the list
it gives hashes to the manifest's `list`. The content checks (protected names, size of the change) therefore read
either the whole verified list, or a delta proven by the list it produced.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from isp_feed_client import errors, formats, listfile, manifest, signing
from isp_feed_client.delta import Delta, DeltaMismatch
from isp_feed_client.delta import parse_delta as _parse_delta

FEED = "be-blocklist"
# Names no version may ever contain (a built-in floor; --protected-file adds more). Denmark 2012.
BUILTIN_PROTECTED = ("google.com", "google.be", "youtube.com", "facebook.com", "wikipedia.org", "microsoft.com",
                     "apple.com", "amazon.com", "gov.be", "fgov.be", "belgium.be", "europa.eu")
MANIFEST = "manifest"  # what the manifest is called in messages and in its signed comment's format=


# --- signatures -------------------------------------------------------------------------------------------------


def prehash(data: bytes) -> bytes:
    """The BLAKE2b-512 a prehashed minisign signature covers."""
    digest = signing.prehasher()
    digest.update(data)
    return digest.digest()


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
        raise errors.SignedFactsMismatch(what, f"signature is for {facts.feed}/{facts.fmt}, not {FEED}/{fmt}")
    if facts.sha256 != sha256:
        raise errors.LengthOrHashMismatch(what, signed=facts.sha256, received=sha256)
    if serial is not None and facts.serial != serial:
        raise errors.SignedFactsMismatch(
            what, f"signed serial {facts.serial} differs from {serial} (files of different versions)")


def verify_file(prehash: bytes, signature: bytes | str, keys: Sequence[signing.PublicKey], *, fmt: str, sha256: str,
                serial: int | None) -> formats.SignedFacts:
    """Every check on one file and its own signature (what `minisign -V` checks by hand); the signed facts."""
    facts = signed_facts(verify_signature(prehash, signature, keys, what=fmt), what=fmt)
    check_signed_file(facts, fmt=fmt, sha256=sha256, serial=serial, what=fmt)
    return facts


# --- the manifest -----------------------------------------------------------------------------------------------


def parse_manifest(data: bytes) -> manifest.Manifest:
    """The manifest in these bytes, read strictly (canonical form only); MalformedFeed names the first wrong field."""
    try:
        return manifest.parse_manifest(data)
    except formats.FeedFormatError as exc:
        raise errors.MalformedFeed(MANIFEST, str(exc)) from None


def check_manifest_matches(facts: formats.SignedFacts, m: manifest.Manifest) -> None:
    """The manifest states the serial and expiry its signature asserts."""
    if facts.serial != m.serial or facts.expires_at != m.expires_at:
        raise errors.SignedFactsMismatch(
            MANIFEST, f"the manifest says serial {m.serial} until {formats.format_time(m.expires_at)}, its signature "
                      f"serial {facts.serial} until "
                      f"{'(no expiry)' if facts.expires_at is None else formats.format_time(facts.expires_at)}: it "
                      "differs from what its signature asserts")


def verify_manifest(data: bytes, signature: bytes | str,
                    keys: Sequence[signing.PublicKey]) -> tuple[manifest.Manifest, str]:
    """Every check on the manifest and its signature: the manifest and its SHA-256 (what the next one chains to)."""
    if len(data) > manifest.MAX_MANIFEST_BYTES:
        raise errors.MalformedFeed(MANIFEST, f"more than {manifest.MAX_MANIFEST_BYTES} bytes: not a manifest")
    sha256 = manifest.manifest_sha256(data)
    facts = signed_facts(verify_signature(prehash(data), signature, keys, what=MANIFEST), what=MANIFEST)
    check_signed_file(facts, fmt=MANIFEST, sha256=sha256, serial=None, what=MANIFEST)
    m = parse_manifest(data)
    check_manifest_matches(facts, m)
    return m, sha256


def check_serial(offered: int, applied: int) -> None:
    """Never lower than the applied serial (rollback)."""
    if offered < applied:
        raise errors.Rollback(offered=offered, applied=applied)


def check_same_serial_same_content(offered: int, offered_sha256: str, applied: int,
                                   applied_sha256: str | None) -> None:
    """The applied serial again only with the very same manifest."""
    if offered == applied and offered_sha256 != applied_sha256:
        raise errors.SameSerialOtherContent(offered, applied_sha256=applied_sha256, offered_sha256=offered_sha256)


def check_chain(offered: int, previous_sha256: str | None, applied: int, applied_sha256: str | None) -> None:
    """The manifest right after the applied one names the applied one as its predecessor (ChainBroken: a fork).

    Only the direct successor can be checked without the manifests in between; `applied_sha256` None (no applied
    manifest: a first load, or state from a client before manifests) checks nothing.
    """
    if applied_sha256 is not None and offered == applied + 1 and previous_sha256 != applied_sha256:
        raise errors.ChainBroken(offered, applied=applied, applied_sha256=applied_sha256,
                                 stated_sha256=previous_sha256)


def check_not_expired(serial: int, expires_at: dt.datetime, now: dt.datetime, *, applied: bool = False) -> None:
    """Not past its expiry (freeze). `applied`: the version is the one already in force (the server said 304)."""
    if expires_at < now:
        raise errors.Freeze(serial, expires_at, applied=applied)


def check_file(what: str, ref: manifest.FileRef, *, sha256: str, size: int) -> None:
    """A downloaded file is the one the manifest names: its SHA-256 and size (LengthOrHashMismatch otherwise)."""
    if sha256 != ref.sha256 or size != ref.size:
        raise errors.LengthOrHashMismatch(what, signed=ref.sha256, received=sha256)


# --- the delta --------------------------------------------------------------------------------------------------


def parse_delta(data: bytes, *, from_serial: int, to_serial: int, before: int, after: int) -> Delta:
    """The delta in a `diff` answer, if it is one from content `from_serial` to `to_serial` that turns `before`
    names into `after`. Raises DeltaMismatch (a FeedFormatError), never a refusal: an unsigned delta that does not
    fit only means downloading the whole list instead."""
    found = _parse_delta(data)
    if (found.from_serial, found.to_serial) != (from_serial, to_serial):
        raise DeltaMismatch(f"it goes from content {found.from_serial} to {found.to_serial}, not from {from_serial} "
                            f"to {to_serial}")
    removed, added = {e.name for e in found.removed}, {e.name for e in found.added}
    if before - len(removed - added) + len(added - removed) != after:
        raise DeltaMismatch(f"it turns {before} names into {before - len(removed - added) + len(added - removed)}, "
                            f"not the manifest's {after}")
    return found


@dataclass(frozen=True)
class Changes:
    """How a list changed: names added, removed, and kept with another scope or Unicode form (counted once)."""

    added: int
    removed: int
    changed: int
    before: int

    @property
    def total(self) -> int:
        """Every name that differs, each once."""
        return self.added + self.removed + self.changed


def delta_changes(d: Delta, *, before: int) -> Changes:
    """The change a (verified) delta makes to a list of `before` names; a name in both halves changed scope or
    Unicode form and counts once."""
    removed, added = {e.name for e in d.removed}, {e.name for e in d.added}
    both = len(removed & added)
    return Changes(added=len(added) - both, removed=len(removed) - both, changed=both, before=before)


def check_delta_content(serial: int, d: Delta, *, before: int, protected: Collection[str], max_share: float,
                        min_changes: int, allowance: Allowance | None = None) -> Changes:
    """The content checks on a delta proven by the list it gave: no protected name among what it adds (the rest of
    the list passed when it was applied), and not too large a change (unless `allowance` covers it)."""
    check_protected(serial, [e.name for e in d.added], protected)
    changes = delta_changes(d, before=before)
    check_change(serial, changes, max_share=max_share, min_changes=min_changes, allowance=allowance)
    return changes


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


# Up to this many protected names, a block of names is searched for each one as a whole (a substring search in C per
# protected name); beyond it, each name's labels are looked up in the set.
_SEARCHED_PROTECTED = 64


def protected_in(names: list[str], protected: Collection[str]) -> list[str]:
    """The names of a block (in order) that are protected or under a protected name."""
    if len(protected) <= _SEARCHED_PROTECTED:
        joined = "\n" + "\n".join(names) + "\n"
        if not any(f"\n{p}\n" in joined or f".{p}\n" in joined for p in protected):
            return []
    return [n for n in names if under_protected(n, protected)]


def check_protected(serial: int, names: Iterable[str], protected: Collection[str]) -> None:
    """No protected name, nor a name under one."""
    hits = [n for n in names if under_protected(n, protected)]
    if hits:
        raise errors.ProtectedName(serial, hits)


# Formats whose every block covers the name's subdomains too: an `exact` entry cannot be loaded as ordered.
SUBDOMAINS_ALWAYS = frozenset({"dnsmasq.conf"})


def check_scopes_expressible(serial: int, fmt: str, lines: Iterable[str]) -> None:
    """A format that always blocks subdomains takes no `exact` entry (lines of the canonical list)."""
    if fmt not in SUBDOMAINS_ALWAYS:
        return
    exact = [line[:line.find("\t")] for line in lines if "\texact\t" in line]
    if exact:
        raise errors.ScopeNotExpressible(serial, fmt, exact)


def legacy_names(names: Iterable[str]) -> Iterator[tuple[str, None]]:
    """A list of names alone, as clients before manifests kept it (scope changes cannot be seen in it)."""
    return ((name, None) for name in names)


def compare_lists(serial: int, entries: Iterable[tuple[str, str | None]],
                  previous: Iterable[tuple[str, str | None]] | None, *,
                  protected: Collection[str]) -> tuple[int, Changes | None]:
    """One pass over the new list and, beside it, the previous one (both sorted by name): how many names, how they
    changed (None before the first load), and ProtectedName for any protected name (or one under a protected name).

    Entries are (name, anything equal when scope and Unicode form are); a previous entry of None (a names-only list
    from an older client) never counts as changed.
    """
    hits: list[str] = []
    count = added = removed = changed = before = 0
    old_entries = iter(previous if previous is not None else ())
    old = next(old_entries, None)
    for name, rest in entries:
        count += 1
        if under_protected(name, protected):
            hits.append(name)
        while old is not None and old[0] < name:
            removed += 1
            before += 1
            old = next(old_entries, None)
        if old is not None and old[0] == name:
            before += 1
            if old[1] is not None and old[1] != rest:
                changed += 1
            old = next(old_entries, None)
        else:
            added += 1
    while old is not None:
        removed += 1
        before += 1
        old = next(old_entries, None)
    if hits:
        raise errors.ProtectedName(serial, hits)
    if previous is None:
        return count, None
    return count, Changes(added=added, removed=removed, changed=changed, before=before)


def count_changes(before: Iterable[str], after: Iterable[str]) -> tuple[int, int, int]:
    """Added, removed, and the previous count of two sorted lists of names (each read once, in order)."""
    _, changes = compare_lists(0, legacy_names(after), legacy_names(before), protected=())
    assert changes is not None
    return changes.added, changes.removed, changes.before


@dataclass(frozen=True)
class Allowance:
    """Why this version may change more names than the client's limit: the publication gate held the change and a
    magistrate confirmed it (the signed manifest says so: up to the names confirmed more, and at most `max_share` of
    the larger of the two lists new or gone), or this ISP's operator accepted the serial (`names` None: any size)."""

    why: str
    names: int | None = None
    max_share: float = 1.0

    def covers(self, *, added: int, removed: int, changed: int, before: int, limit: float) -> str | None:
        """None when it lets this change through, else why not."""
        if self.names is None:
            return None
        if self.names == 0:  # a confirmation this client's policy refuses
            return self.why
        total = added + removed + changed
        if total > limit + self.names:
            return f"{self.why} covers {self.names} names, not {total}"
        larger = max(before, before + added - removed)
        if max(added, removed) > self.max_share * larger:
            return (f"{self.why}, but it makes more than --max-confirmed-share {self.max_share:g} of the list new "
                    "or gone")
        return None


def allowance_for(m: manifest.Manifest, *, accepted: int | None, accept_confirmed: bool,
                  max_confirmed_share: float) -> Allowance | None:
    """What lets a version larger than the limit through: the operator's `isp-feed accept` of its serial (or of its
    content's serial), else the gate's signed confirmation unless the client refuses confirmed changes."""
    if accepted is not None and accepted in (m.serial, m.content_serial):
        return Allowance(f"accepted by this ISP's operator (isp-feed accept {accepted})")
    if m.confirmation is not None:
        why = f"confirmed: {m.confirmation.describe()}"
        if not accept_confirmed:  # kept only to say so in the refusal
            return Allowance(f"{why}, but this client refuses confirmed changes (--refuse-confirmed-changes)", 0)
        return Allowance(why, m.confirmation.total, max_confirmed_share)
    return None


def check_change_size(serial: int, *, added: int, removed: int, before: int, max_share: float,
                      min_changes: int, changed: int = 0, allowance: Allowance | None = None) -> None:
    """At most `max_share` of the previous list changes; up to `min_changes` names always pass; a larger change
    only with an `allowance` that covers it."""
    limit = max(min_changes, max_share * before)
    if added + removed + changed <= limit:
        return
    refused = "no confirmation" if allowance is None else allowance.covers(
        added=added, removed=removed, changed=changed, before=before, limit=limit)
    if allowance is None or refused is not None:
        raise errors.ChangeTooLarge(serial, added=added, removed=removed, before=before, limit=int(limit),
                                    changed=changed, note="" if allowance is None else refused or "")


def check_change(serial: int, changes: Changes, *, max_share: float, min_changes: int,
                 allowance: Allowance | None = None) -> None:
    """`check_change_size` on a Changes."""
    check_change_size(serial, added=changes.added, removed=changes.removed, changed=changes.changed,
                      before=changes.before, max_share=max_share, min_changes=min_changes, allowance=allowance)


def change_limit(before: int, *, max_share: float, min_changes: int) -> int:
    """The most names a version may change in a list of `before` names."""
    return int(max(min_changes, max_share * before))


def check_initial_size(serial: int, count: int, max_initial: int | None) -> None:
    """A first load takes any size unless an explicit --max-initial caps it."""
    if max_initial is not None and count > max_initial:
        raise errors.InitialTooLarge(serial, count=count, max_initial=max_initial)


def compare_blocks(serial: int, blocks: Iterable[listfile.Block], previous: Iterable[tuple[str, str | None]] | None,
                   *, protected: Collection[str]) -> tuple[int, Changes | None]:
    """`compare_lists` for a list read by `listfile.read_blocks` (a previous entry's rest is its line, LF included).
    A first load only counts and searches each block for protected names."""
    if previous is not None:
        entries = (pair for block in blocks for pair in zip(block.names, block.lines(), strict=True))
        return compare_lists(serial, entries, previous, protected=protected)
    count, hits = 0, []
    for block in blocks:
        count += len(block.names)
        hits += protected_in(block.names, protected)
    if hits:
        raise errors.ProtectedName(serial, hits)
    return count, None


def check_content(serial: int, blocks: Iterable[listfile.Block],
                  previous: Iterable[tuple[str, str | None]] | None, *, protected: Collection[str],
                  max_share: float, min_changes: int, max_initial: int | None,
                  count: int | None = None, allowance: Allowance | None = None) -> Changes | None:
    """Every check on a whole list, in one pass: it holds the `count` names the manifest states, no protected name,
    then the size of the change (or of a first load: `previous` None). `blocks` (`listfile.read_blocks`) and
    `previous` are sorted by name."""
    found, changes = compare_blocks(serial, blocks, previous, protected=protected)
    if count is not None and found != count:
        raise errors.MalformedFeed("list", f"it holds {found} names, the manifest says {count}")
    if changes is None:
        check_initial_size(serial, found, max_initial)
    else:
        check_change(serial, changes, max_share=max_share, min_changes=min_changes, allowance=allowance)
    return changes


def protected_fingerprint(protected: Collection[str]) -> str:
    """A hash of the protected names in force: when it changes, the whole applied list is checked against them
    again (a delta only shows what it adds)."""
    return hashlib.sha256("\n".join(sorted(protected)).encode()).hexdigest()


# --- audit checkpoints ------------------------------------------------------------------------------------------


def verify_checkpoint(checkpoint: formats.AuditCheckpoint, keys: Sequence[signing.PublicKey], *, serial: int) -> None:
    """The checkpoint a manifest carries is signed by a pinned key and says what its signature states."""
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
