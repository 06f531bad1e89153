"""Building feed versions: the approved set, the publication gate, signing, and links back to orders.

The write side; reading stored versions back (entries, models, bodies, diffs) is isp_feed/versions.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import zlib
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, select, update
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.errors import Conflict, NotFound
from blocklist.models import AuditEvent, Order, Submission, User, utcnow
from blocklist.names import NamePolicy
from blocklist.roles import actor_label, require_role
from blocklist.settings import Settings
from isp_feed import checkpoints, formats
from isp_feed.keys import KeyStore
from isp_feed.models import FeedArtifact, FeedEntrySet, FeedHold, FeedVersionRow
from isp_feed.versions import canonical, entries_of, latest_version, version_model

FEED_NAME = "be-blocklist"
UNAPPROVED = "feed.unapproved_excluded"
log = logging.getLogger("isp_feed.publish")


@dataclass(frozen=True)
class Candidate:
    """The set of names that should be in the feed now."""

    entries: tuple[formats.FeedEntry, ...]
    set_hash: str
    block_order_ids: frozenset[int]
    # Rows marked approved whose approval is not in the audit chain (set in SQL?): left out, reported.
    unapproved: tuple[tuple[int, str], ...] = ()


def approval_in_chain() -> ColumnElement[bool]:
    """A submission's approval is an event of the audit chain and no lifting event followed it.

    The status column alone is what anyone with SQL access can set; a name reaches ISPs only if a magistrate's
    approval of that submission, for that name, was recorded. Set-based (two look-ups per row in the index on
    action and object id, inside one query), so that it applies unchanged to a query over the rows a change touched.
    """
    def event(action: str) -> ColumnElement[bool]:
        return exists().where(AuditEvent.domain == Submission.domain, AuditEvent.action == action,
                              AuditEvent.object_id == cast(Submission.id, String))

    return and_(event("submission.approved"), ~event("submission.lifted"))


def current_candidate(session: Session, *, published_set: str | None = None) -> Candidate:
    """The approved names now, sorted, with the hash that identifies the set (and the rows left out).

    The approvals are looked up only when the set differs from `published_set` (the latest version's): a set
    already published passed this check when it was built, so a build with nothing new costs no more than before.
    """
    rows = session.execute(
        select(Submission.domain, Submission.unicode, Submission.scope, Submission.order_id, Submission.id)
        .where(Submission.status == "approved").order_by(Submission.domain)
    ).all()
    entries = tuple(formats.FeedEntry(name=d, unicode=u, scope=s) for d, u, s, _, _ in rows)
    set_hash = hashlib.sha256(canonical(entries)).hexdigest()
    unapproved: dict[int, str] = {}
    if set_hash != published_set:
        unapproved = {i: d for i, d in session.execute(
            select(Submission.id, Submission.domain).where(Submission.status == "approved", ~approval_in_chain()))}
    if unapproved:
        rows = [row for row in rows if row[4] not in unapproved]
        entries = tuple(formats.FeedEntry(name=d, unicode=u, scope=s) for d, u, s, _, _ in rows)
        set_hash = hashlib.sha256(canonical(entries)).hexdigest()
    return Candidate(entries, set_hash, frozenset(o for _, _, _, o, _ in rows if o is not None),
                     tuple(sorted(unapproved.items())))


def _report_unapproved(session: Session, candidate: Candidate) -> None:
    """Record the rows left out once per distinct set (the build runs every few seconds), and log it."""
    if not candidate.unapproved:
        return
    ids = sorted(i for i, _ in candidate.unapproved)
    fingerprint = hashlib.sha256(json.dumps(ids).encode()).hexdigest()
    last = session.execute(
        select(AuditEvent.details).where(AuditEvent.action == UNAPPROVED).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is not None and json.loads(last).get("fingerprint") == fingerprint:
        return
    names = sorted(d for _, d in candidate.unapproved)
    log.error("feed: %d submission(s) marked approved without an approval in the audit chain were left out: %s "
              "(run `blocklist audit verify`)", len(ids), ", ".join(names[:20]))
    audit.record(session, actor="system", action=UNAPPROVED, object_type="feed", object_id="candidate",
                 details={"count": len(ids), "submissions": ids[:100], "domains": names[:100],
                          "fingerprint": fingerprint})


def gate_reasons(
    previous: tuple[formats.FeedEntry, ...], candidate: Candidate, policy: NamePolicy, settings: Settings
) -> tuple[list[str], int, int]:
    """Why the publication gate must hold this candidate (empty: publish), with the added/removed counts."""
    before = {e.name for e in previous}
    after = {e.name for e in candidate.entries}
    added, removed = len(after - before), len(before - after)
    reasons = []
    protected = sorted(e.name for e in candidate.entries
                       if e.name in after - before and policy.protected_match(e.name, e.scope) is not None)
    if protected:
        reasons.append(f"adds protected name(s): {', '.join(protected[:10])}")
    changed = added + removed
    limit = max(settings.feed_gate_min_changes, settings.feed_gate_share * len(before))
    if changed > limit:
        reasons.append(
            f"changes {changed} names (+{added} -{removed}) of {len(before)}: more than "
            f"{settings.feed_gate_share:.0%} of the list")
    return reasons, added, removed


def _confirmed(session: Session, set_hash: str) -> bool:
    return session.execute(
        select(FeedHold.id).where(FeedHold.set_hash == set_hash, FeedHold.confirmed_at.is_not(None))
    ).first() is not None


def _hold(session: Session, candidate: Candidate, reasons: list[str], added: int, removed: int) -> FeedHold:
    existing = session.execute(
        select(FeedHold).where(FeedHold.set_hash == candidate.set_hash, FeedHold.confirmed_at.is_(None))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    hold = FeedHold(set_hash=candidate.set_hash, reasons="; ".join(reasons), added=added, removed=removed,
                    created_at=utcnow())
    session.add(hold)
    session.flush()
    audit.record(session, actor="system", action="feed.held", object_type="feed_hold", object_id=hold.id,
                 details={"reasons": reasons, "added": added, "removed": removed, "count": len(candidate.entries)})
    return hold


def pending_holds(session: Session) -> list[FeedHold]:
    """Holds awaiting a magistrate's confirmation."""
    query = select(FeedHold).where(FeedHold.confirmed_at.is_(None)).order_by(FeedHold.id)
    return list(session.execute(query).scalars())


def confirm_hold(session: Session, *, actor: User, hold_id: int) -> FeedHold:
    """A magistrate confirms a held change a second time; the next build publishes it."""
    require_role(actor, "magistrate", action="confirm a held feed version")
    hold = session.get(FeedHold, hold_id)
    if hold is None:
        raise NotFound(f"no feed hold #{hold_id}")
    if hold.confirmed_at is not None:
        raise Conflict(f"feed hold #{hold_id} was already confirmed")
    hold.confirmed_by, hold.confirmed_at = actor.id, utcnow()
    session.flush()
    audit.record(session, actor=actor_label(actor), action="feed.hold_confirmed", object_type="feed_hold",
                 object_id=hold.id, details={"reasons": hold.reasons})
    return hold


def _store_set(session: Session, candidate: Candidate) -> None:
    if session.get(FeedEntrySet, candidate.set_hash) is None:
        session.add(FeedEntrySet(set_hash=candidate.set_hash, count=len(candidate.entries),
                                 entries=zlib.compress(canonical(candidate.entries), 6)))
        session.flush()


def trusted_comment(serial: int, expires_at: dt.datetime, sha256: str, ext: str) -> str:
    """The signed comment: feed, serial, expiry and the body's SHA-256 (all verified by the client)."""
    return formats.trusted_comment(feed=FEED_NAME, serial=serial, expires_at=expires_at, sha256=sha256, fmt=ext)


def _publish(session: Session, candidate: Candidate, *, settings: Settings, keys: KeyStore, added: int,
             removed: int, reason: str, now: dt.datetime) -> FeedVersionRow:
    _store_set(session, candidate)
    previous = latest_version(session)
    serial = (session.execute(select(func.max(FeedVersionRow.serial))).scalar_one() or 0) + 1
    row = FeedVersionRow(
        serial=serial, set_hash=candidate.set_hash, count=len(candidate.entries), generated_at=now,
        expires_at=now + dt.timedelta(hours=settings.feed_expiry_hours),
        previous_sha256=previous.envelope_sha256 if previous else None, envelope_sha256="",
        stop_page_name=settings.stop_page_host, stop_page_ipv4=settings.stop_page_ipv4,
        stop_page_ipv6=settings.stop_page_ipv6 or None, key_id=keys.active_key_id(), added=added, removed=removed,
    )
    # The chain as it stands before this version's own events: every ISP's client keeps this copy.
    checkpoint = checkpoints.make(session, keys, trigger="feed version", now=now, feed_serial=serial)
    artifacts = []
    for ext, body in formats.render_all(version_model(row, candidate.entries, checkpoint)).items():
        sha = hashlib.sha256(body).hexdigest()
        signature = keys.sign(body, trusted_comment(serial, row.expires_at, sha, ext))
        artifacts.append(FeedArtifact(serial=serial, ext=ext, sha256=sha, size=len(body), signature=signature))
        if ext == "json":
            row.envelope_sha256 = sha
    session.add(row)
    session.flush()
    session.add_all(artifacts)
    session.flush()
    # Orders whose change this version carries now cite its serial (requisitions wait for it).
    lift_orders = set(session.execute(
        select(Submission.lift_order_id).where(Submission.status == "lifted", Submission.lift_order_id.is_not(None))
        .join(Order, Order.id == Submission.lift_order_id).where(Order.feed_serial.is_(None))
    ).scalars())
    covered = sorted({*candidate.block_order_ids, *(o for o in lift_orders if o is not None)})
    newly = list(session.execute(
        select(Order.id).where(Order.id.in_(covered), Order.feed_serial.is_(None))).scalars()) if covered else []
    if newly:
        session.execute(update(Order).where(Order.id.in_(newly)).values(feed_serial=serial))
    audit.record(session, actor="system", action="feed.published", object_type="feed_version", object_id=serial,
                 details={"serial": serial, "count": row.count, "added": added, "removed": removed,
                          "sha256": row.envelope_sha256, "expires_at": row.expires_at.isoformat(),
                          "key_id": row.key_id, "reason": reason, "orders": newly,
                          "checkpoint": {"events": checkpoint.events, "head": checkpoint.head}})
    for order_id in newly:
        audit.record(session, actor="system", action="order.in_feed", object_type="order", object_id=order_id,
                     order_id=order_id, details={"serial": serial})
    return row


def build(session: Session, *, settings: Settings, keys: KeyStore, policy: NamePolicy,
          now: dt.datetime | None = None, force: bool = False) -> FeedVersionRow | None:
    """Publish a new version if the approved set changed (gate permitting) or the last one is due a re-issue."""
    moment = now or utcnow()
    latest = latest_version(session)
    candidate = current_candidate(session, published_set=latest.set_hash if latest is not None else None)
    _report_unapproved(session, candidate)
    due = latest is None or force or moment - latest.generated_at >= dt.timedelta(minutes=settings.feed_reissue_minutes)
    if latest is not None and latest.set_hash == candidate.set_hash:
        if not due:
            return None
        return _publish(session, candidate, settings=settings, keys=keys, added=0, removed=0,
                        reason="re-issue (expiry moves on)", now=moment)
    previous = entries_of(session, latest) if latest is not None else ()
    reasons, added, removed = gate_reasons(previous, candidate, policy, settings)
    if reasons and not _confirmed(session, candidate.set_hash):
        _hold(session, candidate, reasons, added, removed)
        if latest is not None and due:
            # Keep ISPs' copies from expiring while the change waits: re-issue the last published set.
            kept = Candidate(previous, latest.set_hash, frozenset())
            return _publish(session, kept, settings=settings, keys=keys, added=0, removed=0,
                            reason="re-issue while a change is held", now=moment)
        return None
    return _publish(session, candidate, settings=settings, keys=keys, added=added, removed=removed,
                    reason="confirmed after hold" if reasons else "change", now=moment)
