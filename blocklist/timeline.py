"""Finding a name's or a case's history: what the auditor types, and the core's events about it.

The search takes what people paste: a URL (`https://www.x.test/path`), a host, a subdomain of a name blocked with
its subdomains (`www.csam-gallery.test` finds `csam-gallery.test`), or a part of a case number in any case
(`fccu-2026` finds `FCCU-2026-0001`). The events come from the audit chain: those naming the name, those of its
orders (requisitions, feed versions), and those of the objects other packages link to it (feed holds, catch-up
requisitions: api/history.py gathers them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from blocklist import audit
from blocklist.errors import NameRefused, NotFound
from blocklist.models import AuditEvent, Submission
from blocklist.names import normalize
from blocklist.text import clean_text

MAX_QUERY = 2048  # a URL as pasted
MAX_MATCHES = 100


@dataclass(frozen=True)
class NameMatch:
    """A record of a name the search found, and how: the name itself, or a block covering it (a parent blocked
    with its subdomains)."""

    submission: Submission
    how: Literal["name", "covered"]


@dataclass(frozen=True)
class CaseMatch:
    """A case number the search found (a part of it, in any case), with how many names it holds."""

    case_number: str
    names: int


@dataclass(frozen=True)
class SearchResult:
    """What a search found: the host it read (None when the text is no host name), names and cases."""

    query: str
    host: str | None
    names: list[NameMatch]
    cases: list[CaseMatch]


def ancestors(a_label: str) -> list[str]:
    """The parents of a name, nearest first (`a.b.example` -> `b.example`, `example`)."""
    labels = a_label.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels))]


def search(session: Session, query: str) -> SearchResult:
    """Names and cases matching what was typed: newest records first, at most MAX_MATCHES of each."""
    text = clean_text(query, field="q", max_length=MAX_QUERY)  # refused before stripping: "\x1f" is white space
    host = None
    names: list[NameMatch] = []
    if text:
        try:
            host = normalize(text).a_label
        except NameRefused:
            host = None
    if host is not None:
        parents = ancestors(host)
        rows = session.execute(
            select(Submission).where(or_(Submission.domain == host,
                                         and_(Submission.domain.in_(parents),
                                              Submission.scope == "domain_and_subdomains")))
            .order_by(Submission.id.desc()).limit(MAX_MATCHES)).scalars()
        names = [NameMatch(s, "name" if s.domain == host else "covered") for s in rows]
    cases: list[CaseMatch] = []
    if text:
        found = session.execute(
            select(Submission.case_number, func.count()).where(
                func.lower(Submission.case_number).contains(text.lower(), autoescape=True))
            .group_by(Submission.case_number).order_by(Submission.case_number).limit(MAX_MATCHES)).all()
        cases = [CaseMatch(c, int(n)) for c, n in found]
    return SearchResult(query=text, host=host, names=names, cases=cases)


def covering_names(session: Session, name: str) -> list[str]:
    """The name (normalised) and, nearest first, the parents whose records cover it (blocked with their
    subdomains): the names whose events make its history."""
    a_label = normalize(name).a_label
    parents = {m.submission.domain for m in search(session, a_label).names if m.how == "covered"}
    return [a_label, *sorted(parents, key=lambda d: -d.count("."))]


def case_submissions(session: Session, case_number: str) -> list[Submission]:
    """Every record of a case (its number in any case), oldest first; NotFound when there is none."""
    text = clean_text(case_number, field="case_number", max_length=MAX_QUERY)
    subs = list(session.execute(select(Submission).where(func.lower(Submission.case_number) == text.lower())
                                .order_by(Submission.id)).scalars())
    if not subs:
        raise NotFound(f"no submission under case {text!r}")
    return subs


def orders_of(subs: Iterable[Submission]) -> list[int]:
    """The blocking and lifting orders of these records."""
    return sorted({o for s in subs for o in (s.order_id, s.lift_order_id) if o is not None})


def events(session: Session, *, domains: Sequence[str], order_ids: Sequence[int],
           objects: Sequence[tuple[str, int]] = ()) -> list[AuditEvent]:
    """The events naming these domains, those of these orders without a domain of their own, and those of these
    (object type, id) pairs, in the chain's order."""
    condition = AuditEvent.domain.in_(list(domains)) if domains else AuditEvent.id < 0
    if order_ids:
        condition = or_(condition, and_(AuditEvent.domain.is_(None), AuditEvent.order_id.in_(list(order_ids))))
    by_type: dict[str, list[str]] = {}
    for kind, object_id in objects:
        by_type.setdefault(kind, []).append(str(object_id))
    for kind, ids in by_type.items():
        condition = or_(condition, and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(ids)))
    return list(session.execute(select(AuditEvent).where(condition).order_by(AuditEvent.id)).scalars())


# The fields an event's hash covers, named as audit.event_hash takes them.
HASHED = ("seq", "at", "actor", "action", "object_type", "object_id", "domain", "order_id", "details", "prev_hash")


def event_record(event: AuditEvent) -> dict[str, Any]:
    """An event with every field its hash covers, as an export carries it (details as the exact text hashed)."""
    return {"seq": event.id, "at": event.at, "actor": event.actor, "action": event.action,
            "object_type": event.object_type, "object_id": event.object_id, "domain": event.domain,
            "order_id": event.order_id, "details": event.details, "prev_hash": event.prev_hash, "hash": event.hash}


def record_problem(record: dict[str, Any], previous: dict[str, Any] | None) -> str | None:
    """Why an exported event does not verify (its hash, or its link to the exported event just before it in the
    chain), or None. A field of another type than written (a number as text) changes the hash too."""
    if not isinstance(record, dict) or any(k not in record for k in (*HASHED, "hash")) or not isinstance(
            record["seq"], int):
        return "it is malformed (a field its hash covers is missing, or its number is not one)"
    if audit.event_hash(**{k: record[k] for k in HASHED}) != record["hash"]:
        return "its content was changed after it was written (its hash does not recompute)"
    if previous is not None and previous.get("seq") == record["seq"] - 1 and record["prev_hash"] != previous.get(
            "hash"):
        return "its previous-hash does not match the event before it"
    return None
