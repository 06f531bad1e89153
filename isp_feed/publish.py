"""Building feed versions: what changed since the last one, the publication gate, files, manifest, links to orders.

A version costs O(change), not O(list):
- change detection is O(1): a tick compares the audit chain's head and the latest serial with what it last saw;
- the change is read from the audit chain: the approvals and lifts recorded after the events the latest version
  covers (`events_through`), checked against the submissions' rows (approved, approval in the chain);
- the gate judges the delta (protected names among the added, the change's share from counts);
- every format file is the previous one with the delta spliced in (isp_feed_client/splice.py), written once to the data
  dir, content-addressed, hashed and signed as it is written; the database keeps the delta and, now and then, a
  snapshot of the whole list;
- all of it is read from a read snapshot and written outside any transaction; the write transaction only inserts
  the version's rows (and fails harmlessly if another process published first);
- the hourly re-issue is a new signed manifest with a new expiry pointing at the same files.

The read side (entries, deltas, manifests, files) is isp_feed/versions.py. `reconcile` (hourly) compares the list
with a whole rebuild from the tables and reports rows marked approved whose approval is not in the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.db import Database
from blocklist.errors import Conflict, Forbidden
from blocklist.i18n import N_
from blocklist.models import AuditEvent, Order, Submission, User, utcnow
from blocklist.names import NamePolicy
from blocklist.roles import actor_label, require_role
from blocklist.settings import Settings
from isp_feed import checkpoints, holds, versions, whole
from isp_feed.candidate import CHANGE_EVENTS, Candidate, approval_in_chain, current_candidate, no_cyclic_gc
from isp_feed.keys import KeyStore
from isp_feed.models import FeedArtifact, FeedDelta, FeedHold, FeedSnapshot, FeedVersionRow
from isp_feed_client import formats, manifest, splice, stored
from isp_feed_client.delta import Delta, between, delta_bytes

FEED_NAME = "be-blocklist"
UNAPPROVED = "feed.unapproved_excluded"
DRIFT = "feed.list_drift"
STRAY_AFTER = 3600  # seconds after which a temporary file in the files folder is a crash's leftover
SNAPSHOT_EVERY = 64  # content versions between two snapshots of the whole list (rebuilding reads at most this many)
log = logging.getLogger("isp_feed.publish")


@dataclass
class Memo:
    """What one process remembers between ticks, so that a tick in which nothing happened costs two small reads."""

    idle_at: tuple[int, int] | None = None  # (latest serial, audit head) of the last tick that found nothing to do
    files_checked: int | None = None  # the content serial whose files were last found on disk


def gate_reasons(delta: Delta, before: int, policy: NamePolicy, settings: Settings) -> tuple[list[str], int, int]:
    """Why the publication gate must hold this change (empty: publish), with the added/removed name counts.

    From the delta alone: protected names among the added, and the share of the list the change touches (a name
    whose scope changed counts as neither added nor removed).
    """
    old = {e.name for e in delta.removed}
    new = {e.name for e in delta.added}
    added, removed = len(new - old), len(old - new)
    reasons = []
    protected = sorted(e.name for e in delta.added
                       if e.name not in old and policy.protected_match(e.name, e.scope) is not None)
    if protected:
        reasons.append(str(PROTECTED_REASON.fill(names=", ".join(protected[:10]))))
    changed = added + removed
    limit = max(settings.feed_gate_min_changes, settings.feed_gate_share * before)
    if changed > limit:
        reasons.append(str(SHARE_REASON.fill(changed=changed, added=added, removed=removed, before=before,
                                             share=f"{settings.feed_gate_share:.0%}")))
    return reasons, added, removed


# The gate's reasons: stored in English (the hold, the chain), shown in the reader's language (i18n.recognise).
PROTECTED_REASON = N_("adds protected name(s): %(names)s")
SHARE_REASON = N_("changes %(changed)s names (+%(added)s -%(removed)s) of %(before)s: more than %(share)s of the list")
GATE_REASONS = (PROTECTED_REASON, SHARE_REASON)
# Why a hold was closed: stored in English likewise (the hold's closed_reason, the chain), read back the same way.
PUBLISHED_AS = N_("published as serial %(serial)s")
OVERTAKEN_CONFIRMED = N_("overtaken: serial %(serial)s published a later list")
OVERTAKEN_UNCONFIRMED = N_("overtaken: serial %(serial)s published a later list before anyone confirmed this one")
HOLD_CLOSINGS = (PUBLISHED_AS, OVERTAKEN_CONFIRMED, OVERTAKEN_UNCONFIRMED)


def _confirmed(session: Session, set_hash: str) -> bool:
    return session.execute(
        select(FeedHold.id).where(FeedHold.set_hash == set_hash, FeedHold.confirmed_at.is_not(None),
                                  FeedHold.closed_at.is_(None))
    ).first() is not None


def pending_holds(session: Session) -> list[FeedHold]:
    """Holds awaiting a magistrate's confirmation (neither confirmed nor closed by a later publication)."""
    query = select(FeedHold).where(FeedHold.confirmed_at.is_(None), FeedHold.closed_at.is_(None)).order_by(FeedHold.id)
    return list(session.execute(query).scalars())


def confirm_hold(session: Session, *, actor: User, hold_id: int) -> FeedHold:
    """A magistrate confirms a held change a second time; the next tick publishes it."""
    require_role(actor, "magistrate", action="confirm a held feed version")
    hold = holds.get_hold(session, hold_id)
    if hold.closed_at is not None:
        raise Conflict(f"feed hold #{hold_id} was closed: {hold.closed_reason}")
    if hold.confirmed_at is not None:
        raise Conflict(f"feed hold #{hold_id} was already confirmed")
    refusal = holds.confirm_refusal(session, actor, hold)  # never by a magistrate who made an order it holds
    if refusal is not None:
        raise Forbidden(refusal)
    hold.confirmed_by, hold.confirmed_at = actor.id, utcnow()
    session.flush()
    audit.record(session, actor=actor_label(actor), action="feed.hold_confirmed", object_type="feed_hold",
                 object_id=hold.id, details={"reasons": hold.reasons})
    return hold


# --- planning a version (in a read snapshot) -------------------------------------------------------------------


@dataclass
class _Plan:
    """What the next version is, as read from one snapshot."""

    kind: str  # "change", "reissue", "hold", "nothing"
    base: FeedVersionRow | None  # the latest version (None before the first)
    events_through: int
    delta: Delta | None = None  # None with `entries`: a whole build
    entries: tuple[formats.FeedEntry, ...] | None = None
    count: int = 0
    reasons: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    order_ids: list[int] = field(default_factory=list)
    set_hash: str = ""
    list_file: Path | None = None  # the spliced list, already written
    list_written: splice.Written | None = None
    snapshot_body: bytes | None = None  # compressed before the write transaction, never inside it
    snapshot: bool = True  # keep the whole list of this content in the database (the first one, then periodically)
    first: bool = False  # the very first version: nothing read yet, the list is read as it is written


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _touched_domains(session: Session, after: int, head: int) -> tuple[list[str], bool]:
    """Domains whose approvals or lifts were recorded in (after, head], and whether a hold was confirmed there."""
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.domain)
        .where(AuditEvent.id > after, AuditEvent.id <= head, AuditEvent.action.in_(CHANGE_EVENTS))
    ).all()
    domains = sorted({d for a, d in rows if a != "feed.hold_confirmed" and d})
    return domains, any(a == "feed.hold_confirmed" for a, _ in rows)


def _wanted(session: Session, domains: list[str]) -> tuple[dict[str, formats.FeedEntry], set[int]]:
    """What the list must hold for these domains now (approved, approval in the chain), and their block orders."""
    wanted: dict[str, formats.FeedEntry] = {}
    orders: set[int] = set()
    for part in _chunks(domains):
        # The status is tested here, not in SQL: given `status = 'approved'`, SQLite walks the status index (the
        # whole list) instead of the domain index (a few rows per name).
        for d, u, s, order, status in session.execute(
                select(Submission.domain, Submission.unicode, Submission.scope, Submission.order_id, Submission.status)
                .where(Submission.domain.in_(part), approval_in_chain())):
            if status != "approved":
                continue
            wanted[d] = formats.FeedEntry(d, u, s)
            if order is not None:
                orders.add(order)
    return wanted, orders


def _lift_orders(session: Session, domains: list[str]) -> set[int]:
    """Lift orders of these domains that no version has carried yet."""
    found: set[int] = set()
    for part in _chunks(domains):
        found.update(o for o in session.execute(
            select(Submission.lift_order_id).join(Order, Order.id == Submission.lift_order_id)
            .where(Submission.domain.in_(part), Submission.status == "lifted", Order.feed_serial.is_(None))
        ).scalars() if o is not None)
    return found


def _files_dir(settings: Settings) -> Path:
    return settings.data_dir / "feed" / "files"


def _incoming(settings: Settings, ext: str) -> Path:
    return _files_dir(settings) / f".incoming-{uuid.uuid4().hex}-{ext}"


def _plan(session: Session, settings: Settings, policy: Callable[[Session], NamePolicy], latest: FeedVersionRow | None,
          head: int, memo: Memo, key_id: str) -> _Plan:
    if latest is None:  # the very first version: read and written whole (isp_feed/whole.py), no gate
        return _Plan("change", None, head, first=True)
    if latest.manifest is None:
        return _whole_plan(session, settings, policy, latest, head)
    base = versions.content_row(session, latest)
    if memo.files_checked != base.serial:
        # Once per process and content: every file there at its size (they are written without fsync, being
        # derived data: a crash may leave one torn, a restored data dir may lack them), else rendered again. The
        # hourly reconciliation reads them whole.
        versions.restore_files(session, base, settings.data_dir)
        memo.files_checked = base.serial
    domains, hold_confirmed = _touched_domains(session, latest.events_through, head)
    resign = base.key_id != key_id  # a new signing key: files signed with it, before the old one's transition ends
    if not domains and not hold_confirmed and not resign:
        return _Plan("nothing", latest, head, count=latest.count)
    wanted, block_orders = _wanted(session, domains)
    list_path = versions.file_path(session, base, "list", settings.data_dir)
    held = splice.lookup(list_path, domains)
    added = tuple(wanted[d] for d in domains if d in wanted and held.get(d) != wanted[d])
    removed = tuple(held[d] for d in domains if d in held and wanted.get(d) != held[d])
    content_serial = latest.serial + 1
    step = Delta(base.serial, content_serial, added, removed)
    orders = sorted(block_orders | _lift_orders(session, domains))
    if not step.changed and not resign:
        # Approved and lifted again before a version carried it: nothing to publish, but the orders are done.
        return _Plan("nothing", latest, head, count=latest.count, order_ids=orders)
    reasons, n_added, n_removed = gate_reasons(step, latest.count, policy(session), settings)
    count = latest.count + n_added - n_removed
    plan = _Plan("change", latest, head, delta=step, count=count, reasons=reasons, added=n_added, removed=n_removed,
                 order_ids=orders, snapshot=_snapshot_due(session))
    if reasons:  # which list would be published decides whether it was confirmed already: splice it now
        plan.list_file = _incoming(settings, "list")
        plan.list_written = splice.splice_file(list_path, plan.list_file, _content(settings, content_serial, utcnow()),
                                               "list", count, step, durable=False, max_pieces=stored.MAX_PIECES)
        plan.set_hash = plan.list_written.sha256
        plan.kind = "hold" if not _confirmed(session, plan.set_hash) else "change"
    return plan


def _whole_plan(session: Session, settings: Settings, policy: Callable[[Session], NamePolicy],
                latest: FeedVersionRow, head: int) -> _Plan:
    """The first version after versions from before manifests: the whole list from the tables, gated."""
    candidate = current_candidate(session)
    previous = versions.entries_of(session, latest)
    step = between(previous, candidate.entries, from_serial=latest.serial, to_serial=latest.serial + 1)
    reasons, added, removed = gate_reasons(step, len(previous), policy(session), settings)
    lifted = _lift_orders(session, [e.name for e in step.removed])
    kind = "hold" if reasons and not _confirmed(session, candidate.set_hash) else "change"
    return _Plan(kind, latest, head, delta=step, entries=candidate.entries,
                 count=len(candidate.entries), reasons=reasons, added=added, removed=removed,
                 order_ids=sorted(candidate.block_order_ids | lifted), set_hash=candidate.set_hash)


def _report_unapproved(candidate: Candidate) -> None:
    """Log the rows left out; the event itself is recorded by `reconcile` (once per distinct set of rows)."""
    if candidate.unapproved:
        names = sorted(d for _, d in candidate.unapproved)
        log.error("feed: %d submission(s) marked approved without an approval in the audit chain were left out: %s "
                  "(run `blocklist audit verify`)", len(names), ", ".join(names[:20]))


def _content(settings: Settings, serial: int, moment: dt.datetime) -> formats.FeedVersion:
    return formats.FeedVersion(serial, moment.astimezone(dt.UTC).replace(microsecond=0), (), settings.stop_page_host,
                               settings.stop_page_ipv4, settings.stop_page_ipv6 or None)


# --- writing the files (outside any transaction) ---------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    ext: str
    path: str  # under the data dir
    written: splice.Written


def _store(settings: Settings, ext: str, incoming: Path, written: splice.Written) -> _File:
    """Move a written file to its content address (`feed/files/<sha256>`, or `<sha256>.pieces` for a pieces list:
    isp_feed_client/stored.py); an identical file may already be there."""
    final = _files_dir(settings) / written.sha256
    if stored.is_stored(final):
        incoming.unlink(missing_ok=True)
    else:
        os.replace(incoming, stored.pieces_path(final) if written.pieces else final)
        splice.fsync_dir(final.parent)
    return _File(ext, str(final.relative_to(settings.data_dir)), written)


def _render_some(settings: Settings, whole: formats.FeedVersion, prepared: object, exts: Sequence[str]) -> list[_File]:
    """Render `exts` one after another, each written and hashed by a thread while the next one renders (at most
    two bodies in memory: the one being written and the one being rendered)."""

    def write(ext: str, body: bytes) -> _File:
        target = _incoming(settings, ext)
        return _store(settings, ext, target, splice.write_body(target, body, durable=False))

    done: list[_File] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        writing = None
        for ext in exts:
            queued = pool.submit(write, ext, formats.render_prepared(whole, prepared, ext))  # type: ignore[arg-type]
            if writing is not None:
                done.append(writing.result())
            writing = queued
        if writing is not None:
            done.append(writing.result())
    return done


def _write_files(database: Database, settings: Settings, base_files: dict[str, Path], plan: _Plan,
                 content: formats.FeedVersion) -> list[_File]:
    """Every format file of the new content: spliced from the previous files, or rendered whole."""
    _files_dir(settings).mkdir(parents=True, exist_ok=True)
    done: list[_File] = []
    if plan.first:
        written = whole.write(database, content=content, incoming=lambda ext: _incoming(settings, ext),
                              snapshot=plan.snapshot)
        plan.snapshot_body = written.snapshot
        plan.count = plan.added = written.count
        plan.order_ids, plan.events_through = sorted(written.block_order_ids), written.head
        done = [_store(settings, ext, path, w) for ext, (path, w) in written.written.items()]
        plan.set_hash = next(f.written.sha256 for f in done if f.ext == "list")
        return done
    if plan.entries is not None:
        version = formats.FeedVersion(content.serial, content.generated_at, plan.entries, content.stop_page_name,
                                      content.stop_page_ipv4, content.stop_page_ipv6)
        with no_cyclic_gc():
            done = _render_some(settings, version, formats.prepare(version), formats.EXTENSIONS)
        plan.set_hash = next(f.written.sha256 for f in done if f.ext == "list")
        return done
    step = plan.delta
    assert step is not None

    def one(ext: str) -> _File:
        target = _incoming(settings, ext)
        written = splice.splice_file(base_files[ext], target, content, ext, plan.count, step, durable=False,
                                     max_pieces=stored.MAX_PIECES)
        return _store(settings, ext, target, written)

    todo = [ext for ext in formats.EXTENSIONS if ext != "list" or plan.list_written is None]
    todo.sort(key=lambda ext: -(stored.stored_size(base_files[ext]) or 0))  # largest first: both threads end together
    with ThreadPoolExecutor(max_workers=2) as pool:  # copying and hashing release the GIL: two cores, two files
        done = list(pool.map(one, todo))
    if plan.list_file is not None and plan.list_written is not None:  # spliced while planning
        done.append(_store(settings, "list", plan.list_file, plan.list_written))
    plan.set_hash = next(f.written.sha256 for f in done if f.ext == "list")
    return done


# --- the write transaction -------------------------------------------------------------------------------------


def trusted_comment(serial: int, sha256: str, ext: str) -> str:
    """The signed comment of a format file: feed, the content's serial, the body's SHA-256 and the format."""
    return formats.trusted_comment(feed=FEED_NAME, serial=serial, sha256=sha256, fmt=ext)


def _manifest_for(session: Session, row: FeedVersionRow, files: dict[str, manifest.FileRef],
                  delta_ref: manifest.DeltaRef | None, previous: FeedVersionRow | None,
                  checkpoint: formats.AuditCheckpoint) -> manifest.Manifest:
    assert row.content_serial is not None and row.content_generated_at is not None
    # The gate's confirmation of a held change travels with it, so that an ISP's client may take a change larger than
    # its own limit; a re-issue carries its content's (a client that missed that version meets the change here).
    confirmation = None
    if row.content_serial == row.serial:
        confirmation = holds.confirmation_of(session, row.set_hash,
                                             from_serial=delta_ref.from_serial if delta_ref is not None else 0)
    elif previous is not None and previous.manifest is not None:
        confirmation = manifest.parse_manifest(previous.manifest.encode()).confirmation
    return manifest.Manifest(
        serial=row.serial, content_serial=row.content_serial, content_generated_at=row.content_generated_at,
        generated_at=row.generated_at, expires_at=row.expires_at,
        previous_sha256=previous.manifest_sha256 if previous is not None else None, count=row.count, files=files,
        delta=delta_ref, stop_page_name=row.stop_page_name, stop_page_ipv4=row.stop_page_ipv4,
        stop_page_ipv6=row.stop_page_ipv6, checkpoint=checkpoint, confirmation=confirmation)


def _insert(session: Session, *, settings: Settings, keys: KeyStore, plan: _Plan, moment: dt.datetime,
            files: list[_File] | None, content_at: dt.datetime | None, reason: str,
            events_through: int) -> FeedVersionRow | None:
    """Insert the version (and its files, delta, orders, events) if nobody published since the plan was read."""
    latest = versions.latest_version(session)
    if (latest.serial if latest else None) != (plan.base.serial if plan.base else None):
        return None  # another process published meanwhile: the next tick starts from its version
    serial = (latest.serial if latest is not None else 0) + 1
    base = versions.content_row(session, latest) if latest is not None and latest.manifest is not None else None
    row = FeedVersionRow(
        serial=serial, generated_at=moment, expires_at=moment + dt.timedelta(hours=settings.feed_expiry_hours),
        previous_sha256=latest.manifest_sha256 if latest is not None else None,
        stop_page_name=settings.stop_page_host, stop_page_ipv4=settings.stop_page_ipv4,
        stop_page_ipv6=settings.stop_page_ipv6 or None, key_id=keys.active_key_id(), events_through=events_through)
    delta_ref: manifest.DeltaRef | None
    if files is not None:  # new content
        assert content_at is not None
        by_ext = {f.ext: f for f in files}
        row.content_serial, row.content_generated_at = serial, content_at
        row.set_hash, row.count = plan.set_hash, plan.count
        row.added, row.removed = plan.added, plan.removed
        refs = {f.ext: manifest.FileRef(f.written.sha256, f.written.size) for f in files}
        row.envelope_sha256 = refs["json"].sha256
        # Each file's own minisign signature (for `minisign -V` by hand: the manifest's signature covers every file's
        # SHA-256 already) follows the commit: isp_feed/file_signatures.py. Its BLAKE2b over every file was half
        # the cost of a version at 1,000,000 names.
        artifacts = [FeedArtifact(serial=serial, ext=f.ext, sha256=f.written.sha256, size=f.written.size,
                                  signature=None, path=f.path) for f in files]
        delta_ref = None
        if plan.delta is not None:
            step = Delta(plan.delta.from_serial, serial, plan.delta.added, plan.delta.removed)
            body = delta_bytes(step)
            delta_ref = manifest.DeltaRef(step.from_serial, hashlib.sha256(body).hexdigest(), len(body),
                                          plan.added, plan.removed)
        assert by_ext
    else:  # a re-issue: the same files, a new manifest
        assert base is not None and latest is not None
        row.content_serial, row.content_generated_at = base.serial, base.content_generated_at
        row.set_hash, row.count, row.envelope_sha256 = base.set_hash, base.count, base.envelope_sha256
        refs = {a.ext: manifest.FileRef(a.sha256, a.size) for a in versions.artifacts_of(session, base)}
        artifacts, body = [], b""
        delta_ref = manifest.parse_manifest(base.manifest.encode()).delta if base.manifest else None
    checkpoint = checkpoints.make(session, keys, trigger="feed version", now=moment, feed_serial=serial)
    signed = _manifest_for(session, row, refs, delta_ref, latest, checkpoint)
    data = manifest.manifest_bytes(signed)
    row.manifest = data.decode()
    row.manifest_sha256 = manifest.manifest_sha256(data)
    row.manifest_signature = keys.sign(data, manifest.trusted_comment(signed, row.manifest_sha256))
    session.add(row)
    session.flush()
    session.add_all(artifacts)
    if files is not None and plan.delta is not None and delta_ref is not None:
        session.add(FeedDelta(serial=serial, from_serial=delta_ref.from_serial, added=plan.added,
                              removed=plan.removed, sha256=delta_ref.sha256, size=delta_ref.size,
                              body=zlib.compress(body, 6)))
    if files is not None and plan.snapshot_body is not None:
        session.add(FeedSnapshot(serial=serial, sha256=plan.set_hash, count=plan.count, body=plan.snapshot_body))
    session.flush()
    # A re-issue while a change is held carries the old list: the held orders are not in it.
    newly = [] if plan.kind == "hold" else _link_orders(session, plan.order_ids, serial)
    closed = _close_holds(session, serial, plan.set_hash if files is not None else None)
    audit.record(session, actor="system", action="feed.published", object_type="feed_version", object_id=serial,
                 details={"serial": serial, "content_serial": row.content_serial, "count": row.count,
                          "added": row.added, "removed": row.removed, "sha256": row.envelope_sha256,
                          "manifest_sha256": row.manifest_sha256, "list_sha256": row.set_hash,
                          "expires_at": row.expires_at.isoformat(), "key_id": row.key_id, "reason": reason,
                          "orders": newly, "holds_closed": closed,
                          "checkpoint": {"events": checkpoint.events, "head": checkpoint.head}})
    for order_id in newly:
        audit.record(session, actor="system", action="order.in_feed", object_type="order", object_id=order_id,
                     order_id=order_id, details={"serial": serial})
    return row


def _snapshot_due(session: Session) -> bool:
    """Whether the next content is due a snapshot: so that rebuilding a list reads at most SNAPSHOT_EVERY deltas."""
    last = session.execute(select(FeedSnapshot.serial).order_by(FeedSnapshot.serial.desc()).limit(1)).scalar()
    if last is None:
        return True
    contents = session.execute(select(FeedDelta.serial).where(FeedDelta.serial > last).limit(SNAPSHOT_EVERY)).all()
    return len(contents) >= SNAPSHOT_EVERY - 1


def _link_orders(session: Session, order_ids: list[int], serial: int) -> list[int]:
    """Orders whose change this version carries now cite its serial (requisitions wait for it)."""
    if not order_ids:
        return []
    newly: list[int] = []
    for part in _chunks([str(o) for o in order_ids]):
        ids = [int(o) for o in part]
        newly.extend(session.execute(select(Order.id).where(Order.id.in_(ids), Order.feed_serial.is_(None))).scalars())
    for part in _chunks([str(o) for o in newly]):
        session.execute(update(Order).where(Order.id.in_([int(o) for o in part])).values(feed_serial=serial))
    return sorted(newly)


def _close_holds(session: Session, serial: int, published_set: str | None) -> list[int]:
    """Holds a publication settles: the one it carries out (confirmed), and any other still open (overtaken)."""
    if published_set is None:
        return []
    closed: list[int] = []
    for hold in session.execute(select(FeedHold).where(FeedHold.closed_at.is_(None)).order_by(FeedHold.id)).scalars():
        if hold.confirmed_at is not None and hold.set_hash != published_set:
            reason = str(OVERTAKEN_CONFIRMED.fill(serial=serial))
        elif hold.set_hash == published_set:
            reason = str(PUBLISHED_AS.fill(serial=serial))
        else:
            reason = str(OVERTAKEN_UNCONFIRMED.fill(serial=serial))
        hold.closed_at, hold.closed_reason = utcnow(), reason
        closed.append(hold.id)
        audit.record(session, actor="system", action="feed.hold_closed", object_type="feed_hold", object_id=hold.id,
                     details={"serial": serial, "reason": reason})
    return closed


def _record_hold(session: Session, plan: _Plan) -> bool:
    """Record the hold of this change unless it is recorded already; whether it was new."""
    existing = session.execute(
        select(FeedHold).where(FeedHold.set_hash == plan.set_hash, FeedHold.confirmed_at.is_(None),
                               FeedHold.closed_at.is_(None))
    ).scalar_one_or_none()
    if existing is not None:
        return False
    names: dict[str, list[str]] = {"added": [], "removed": []}
    if plan.delta is not None:
        names = {"added": [e.name for e in plan.delta.added[:200]],
                 "removed": [e.name for e in plan.delta.removed[:200]]}
    hold = FeedHold(set_hash=plan.set_hash, reasons="; ".join(plan.reasons), added=plan.added, removed=plan.removed,
                    created_at=utcnow(), from_serial=plan.base.content_serial if plan.base is not None else None,
                    names=json.dumps(names))
    session.add(hold)
    session.flush()
    audit.record(session, actor="system", action="feed.held", object_type="feed_hold", object_id=hold.id,
                 details={"reasons": plan.reasons, "added": plan.added, "removed": plan.removed, "count": plan.count})
    return True


# --- the tick --------------------------------------------------------------------------------------------------


def build(database: Database, *, settings: Settings, keys: KeyStore, policy: Callable[[Session], NamePolicy],
          now: dt.datetime | None = None, force: bool = False, memo: Memo | None = None) -> FeedVersionRow | None:
    """Publish a version if the list changed (gate permitting) or the last one is due a re-issue."""
    moment = (now or utcnow()).astimezone(dt.UTC).replace(microsecond=0)
    memo = memo if memo is not None else Memo()
    with database.reading() as session:
        latest = versions.latest_version(session)
        if latest is not None:
            session.expunge(latest)  # read after this snapshot ends (its columns are loaded)
        head = audit.current_head(session)[0]
        due = force or latest is None or latest.manifest is None or (
            moment - latest.generated_at >= dt.timedelta(minutes=settings.feed_reissue_minutes))
        if not due and latest is not None and memo.idle_at == (latest.serial, head):
            return None  # nothing was recorded since the last tick: O(1)
        plan = _plan(session, settings, policy, latest, head, memo, keys.active_key_id())
        base_files = {}
        if plan.kind == "change" and plan.entries is None and plan.base is not None:
            base = versions.content_row(session, plan.base)
            base_files = {ext: versions.file_path(session, base, ext, settings.data_dir) for ext in formats.EXTENSIONS}
    try:
        return _carry_out(database, settings=settings, keys=keys, plan=plan, moment=moment, due=due, memo=memo,
                          base_files=base_files, head=head)
    finally:
        if plan.list_file is not None:
            plan.list_file.unlink(missing_ok=True)  # moved to its content address when published


def _carry_out(database: Database, *, settings: Settings, keys: KeyStore, plan: _Plan, moment: dt.datetime,
               due: bool, memo: Memo, base_files: dict[str, Path], head: int) -> FeedVersionRow | None:
    latest = plan.base
    if plan.kind == "change":
        files = _write_files(database, settings, base_files, plan,
                             _content(settings, (latest.serial if latest else 0) + 1, moment))
        if plan.snapshot and plan.snapshot_body is None:
            plan.snapshot_body = zlib.compress(stored.read_all(_files_dir(settings) / plan.set_hash), 1)
        with database.transaction() as session:
            row = _guarded_insert(session, settings=settings, keys=keys, plan=plan, moment=moment, files=files,
                                  content_at=moment, reason=_reason(plan),
                                  events_through=plan.events_through)
        memo.idle_at = None
        return row
    if plan.kind == "hold":
        with database.transaction() as session:
            new_hold = _record_hold(session, plan)
            row = None
            if due and latest is not None and latest.manifest is not None:
                # Keep ISPs' copies from expiring while the change waits: re-issue the list published last.
                row = _guarded_insert(session, settings=settings, keys=keys, plan=plan, moment=moment, files=None,
                                      content_at=None, reason="re-issue while a change is held",
                                      events_through=latest.events_through)
        # Until something else is recorded, every tick would find the same hold again.
        memo.idle_at = None if row is not None or new_hold or latest is None else (latest.serial, head)
        return row
    # Nothing changed in the list.
    if due and latest is not None:
        with database.transaction() as session:
            row = _guarded_insert(session, settings=settings, keys=keys, plan=plan, moment=moment, files=None,
                                  content_at=None, reason="re-issue (expiry moves on)", events_through=head)
        memo.idle_at = None
        return row
    if plan.order_ids:
        with database.transaction() as session:
            if latest is not None:
                _link_orders(session, plan.order_ids, latest.serial)
    memo.idle_at = (latest.serial, head) if latest is not None else None
    return None


def _reason(plan: _Plan) -> str:
    if plan.reasons:
        return "confirmed after hold"
    if plan.delta is not None and not plan.delta.changed:
        return "signed with the new key"
    return "change"


def _guarded_insert(session: Session, **kwargs: object) -> FeedVersionRow | None:
    """`_insert` in a savepoint: a serial another process took at the same moment is not an error, only a lost
    race (the next tick starts from that version)."""
    try:
        with session.begin_nested():
            row = _insert(session, **kwargs)  # type: ignore[arg-type]
        if row is not None:
            session.flush()
            session.expunge(row)  # the caller reads it after the commit
        return row
    except IntegrityError:
        log.info("feed: another process published the same serial first")
        return None


# --- reconciliation (hourly) -----------------------------------------------------------------------------------


def prune_files(database: Database, data_dir: Path, keep: int) -> list[str]:
    """Delete the format files of all but the latest `keep` lists (derived data: the database keeps each list's
    delta, snapshots and hashes, and `versions.restore_files` renders any of them again). Returns what went."""
    with database.reading() as session:
        contents = list(session.execute(
            select(FeedVersionRow.serial).where(FeedVersionRow.content_serial == FeedVersionRow.serial)
            .order_by(FeedVersionRow.serial.desc())).scalars())
        kept = set(contents[:keep])
        artifacts = session.execute(select(FeedArtifact.serial, FeedArtifact.sha256, FeedArtifact.path)
                                    .where(FeedArtifact.path.is_not(None))).all()
    folder, cutoff = data_dir / "feed" / "files", time.time() - STRAY_AFTER
    # A kept file stored as pieces keeps the files it is made of, older versions' included (isp_feed_client/stored.py).
    needed = set().union(*(stored.referenced(data_dir / path) for serial, _, path in artifacts
                           if serial in kept and path is not None))
    removed: list[str] = []
    for serial, _, path in artifacts:
        if path is None or serial in kept:
            continue
        for name in sorted(stored.referenced(data_dir / path) - needed):
            with suppress(FileNotFoundError):
                gone = (data_dir / path).with_name(name)
                gone.unlink()
                removed.append(str(gone.relative_to(data_dir)))
                needed.add(name)  # listed once even when several old versions share it
    # Segments no list is made of any more (their version was written whole again: `consolidate`), once old.
    listed = set().union(*(stored.referenced(data_dir / path) for _, _, path in artifacts if path is not None))
    for orphan in folder.iterdir() if folder.is_dir() else ():
        with suppress(FileNotFoundError):
            if not orphan.name.startswith(".") and orphan.name not in listed and orphan.stat().st_mtime < cutoff:
                orphan.unlink()
                removed.append(str(orphan.relative_to(data_dir)))
    if removed:
        log.info("feed: pruned %d file(s) of lists older than the latest %d", len(removed), keep)
    for stray in folder.glob(".*") if folder.is_dir() else ():
        # Temporary files (hidden names) of a write that a crash or a kill interrupted; none is that old otherwise.
        with suppress(FileNotFoundError):
            if stray.stat().st_mtime < cutoff:
                stray.unlink()
                removed.append(str(stray.relative_to(data_dir)))
    return removed


def consolidate(database: Database, data_dir: Path) -> list[str]:
    """Write whole again each format of the latest content made of more than MAX_PIECES / 2 pieces (after its
    publication, so that no version waits for it: isp_feed_client/stored.py). Returns the formats written."""
    with database.reading() as session:
        latest = versions.latest_version(session)
        if latest is None or latest.manifest is None:
            return []
        content = versions.content_row(session, latest)
        serial = content.serial
        paths = {a.ext: data_dir / a.path for a in versions.artifacts_of(session, content) if a.path is not None}
    done = [ext for ext, path in sorted(paths.items())
            if stored.pieces_count(path) > stored.MAX_PIECES // 2 and splice.write_whole(path)]
    if done:
        log.info("feed: wrote %s of serial %s whole again", ", ".join(done), serial)
    return done


def reconcile(database: Database, data_dir: Path) -> list[str]:
    """Compare the published list with a whole rebuild from the tables; report what differs (O(list), hourly).

    The latest content's files are read whole and rendered again if altered. Two findings, each an audit event
    once per distinct finding: rows marked approved whose approval is not in the
    audit chain (left out of the feed), and a published list that differs from the rebuild (which only a change
    made outside the workflow can cause).
    """
    findings: list[str] = []
    with database.reading() as session:
        latest = versions.latest_version(session)
        if latest is not None and latest.manifest is not None:
            restored = versions.restore_files(session, versions.content_row(session, latest), data_dir,
                                              check_hashes=True)
            if restored:
                log.error("feed: files of serial %s were damaged or missing and were rendered again: %s",
                          latest.content_serial, ", ".join(restored))
                findings.append(f"restored the {', '.join(restored)} file(s) of serial {latest.content_serial}")
        candidate = current_candidate(session, report=True)
        published = latest.set_hash if latest is not None and latest.manifest is not None else None
        serial = latest.serial if latest is not None else 0
        through = latest.events_through if latest is not None else 0
        head = audit.current_head(session)[0]
        pending, _ = _touched_domains(session, through, head)
    _report_unapproved(candidate)
    with database.transaction() as session:
        if candidate.unapproved:
            ids = sorted(i for i, _ in candidate.unapproved)
            names = sorted(d for _, d in candidate.unapproved)
            if _new_finding(session, UNAPPROVED, ids):
                audit.record(session, actor="system", action=UNAPPROVED, object_type="feed", object_id="candidate",
                             details={"count": len(ids), "submissions": ids[:100], "domains": names[:100],
                                      "fingerprint": _fingerprint(ids)})
            findings.append(f"{len(ids)} approved row(s) without an approval in the audit chain: "
                            f"{', '.join(names[:10])}")
        if published is not None and not pending and candidate.set_hash != published:
            if _new_finding(session, DRIFT, [candidate.set_hash, published]):
                audit.record(session, actor="system", action=DRIFT, object_type="feed", object_id=serial,
                             details={"published": published, "rebuilt": candidate.set_hash,
                                      "fingerprint": _fingerprint([candidate.set_hash, published])})
                log.error("feed: the published list %s differs from a rebuild from the tables %s", published[:12],
                          candidate.set_hash[:12])
            findings.append("the published list differs from a rebuild from the tables")
    return findings


def _fingerprint(values: Sequence[object]) -> str:
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()


def _new_finding(session: Session, action: str, values: Sequence[object]) -> bool:
    last = session.execute(
        select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return last is None or json.loads(last).get("fingerprint") != _fingerprint(values)
