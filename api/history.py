"""A name's or a case's full history, gathered from every package, and its exports for court: a signed JSON bundle
an auditor verifies offline (isp_feed/bundles.py) and a PDF that carries that bundle as an attachment.

The core finds the names and their events (blocklist/timeline.py); the feed adds the holds that held their orders
(isp_feed/holds.py) and their DNS checks; the requisitions add the catch-up requisitions that listed them and
every delivery attempt (requisitions/history.py). Only here, above all three, do they meet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import stored_text
from blocklist import audit, i18n, timeline
from blocklist.errors import NotFound
from blocklist.i18n import N_, Message
from blocklist.models import AuditEvent, Isp, Submission, User, utcnow
from blocklist.names import normalize
from isp_feed import bundles, checkpoints, compliance, holds
from isp_feed.keys import KeyStore
from isp_feed.models import FeedHold, VerificationResult
from requisitions import history as requisition_history
from requisitions.models import DeliveryAttempt, Requisition

TEMPLATES = Path(__file__).parent / "templates" / "export"
CHECKS_PER_NAME = 100
MAX_NAMES_CHECKED = 50  # a case of thousands of names: the checks of the first ones (the events hold them all)


@dataclass
class Timeline:
    """Everything about one name (and the names whose blocks cover it) or one case, in the chain's order."""

    kind: Literal["domain", "case"]
    subject: str
    domains: list[str]
    submissions: list[Submission]
    events: list[AuditEvent]
    holds: list[FeedHold]
    requisitions: list[Requisition]
    attempts: list[DeliveryAttempt]
    checks: list[tuple[VerificationResult, str]]
    checks_complete: bool
    isps: dict[int, str] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)  # usernames by id
    people: dict[str, str] = field(default_factory=dict)  # display names by username (events name the username)


def for_domain(session: Session, name: str) -> Timeline:
    """The history of a name given as typed (a URL, a subdomain a block covers...); NotFound if never listed."""
    domains = timeline.covering_names(session, name)
    subs = list(session.execute(select(Submission).where(Submission.domain.in_(domains))
                                .order_by(Submission.id)).scalars())
    return _gather(session, "domain", normalize(name).a_label, domains, subs)


def listed_domain(session: Session, name: str) -> Timeline:
    """The history of a name as `for_domain`; NotFound when nothing was ever recorded about it."""
    found = for_domain(session, name)
    if not found.events:
        raise NotFound(N_("nothing was ever recorded about %(name)s, nor about a name covering it",
                          name=found.subject))
    return found


def for_submission(session: Session, sub: Submission) -> Timeline:
    """One record's own history: its events, those of its orders, the holds that held them and their
    requisitions (not the events of other records of the same name)."""
    return _gather(session, "domain", sub.domain, [sub.domain], [sub], own=True)


def for_case(session: Session, case_number: str) -> Timeline:
    """The history of every name of a case (its number in any case); NotFound if there is none."""
    subs = timeline.case_submissions(session, case_number)
    return _gather(session, "case", subs[0].case_number, sorted({s.domain for s in subs}), subs)


def _gather(session: Session, kind: Literal["domain", "case"], subject: str, domains: list[str],
            subs: list[Submission], *, own: bool = False) -> Timeline:
    orders = timeline.orders_of(subs)
    held = holds.holds_for_orders(session, orders)
    reqs = requisition_history.requisitions_for(session, order_ids=orders, domains=domains)
    catch_ups = [r for r in reqs if r.order_id is None]  # no order links them: their own events are asked for
    # `own`: the records' own events, not every event naming their names.
    events = timeline.events(session, domains=[] if own else domains, order_ids=orders,
                             objects=[("feed_hold", h.id) for h in held] + [("requisition", r.id) for r in catch_ups]
                             + ([("submission", s.id) for s in subs] if own else []))
    checks = [c for d in domains[:MAX_NAMES_CHECKED] for c in compliance.checks_for(session, d, limit=CHECKS_PER_NAME)]
    isps = {i: n for i, n in session.execute(select(Isp.id, Isp.name))}
    accounts = session.execute(select(User.id, User.username, User.display_name)).all()
    return Timeline(kind=kind, subject=subject, domains=domains, submissions=subs, events=events, holds=held,
                    requisitions=reqs, attempts=requisition_history.attempts_for(session, [r.id for r in reqs]),
                    checks=checks, checks_complete=len(domains) <= MAX_NAMES_CHECKED, isps=isps,
                    users={i: u for i, u, _ in accounts}, people={u: d or u for _, u, d in accounts})


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def bundle(session: Session, found: Timeline, *, exported_by: User) -> dict[str, Any]:
    """The export's content: the events with every field their hashes cover, the records beside them, the chain's
    head now and its newest signed checkpoint."""
    events, head = audit.current_head(session)
    checkpoint = checkpoints.latest(session)
    references = {r.id: r.reference for r in found.requisitions}
    return {
        "subject": {"kind": found.kind, "value": found.subject},
        "names": found.domains,
        "exported_at": _time(utcnow()),
        "exported_by": f"user:{exported_by.username}",
        "chain_head": {"events": events, "hash": head},
        "checkpoint": bundles.checkpoint_entry(checkpoint.model() if checkpoint is not None else None),
        "events": [timeline.event_record(e) for e in found.events],
        "submissions": [{
            "id": s.id, "domain": s.domain, "unicode": s.unicode, "scope": s.scope, "status": s.status,
            "legal_basis": s.legal_basis, "case_number": s.case_number, "evidence_ref": s.evidence_ref,
            "verified_on": s.verified_on.isoformat(), "submitted_by": found.users.get(s.submitted_by),
            "submitted_at": _time(s.submitted_at),
            "decided_by": found.users.get(s.decided_by) if s.decided_by else None, "decided_at": _time(s.decided_at),
            "order_id": s.order_id, "lift_order_id": s.lift_order_id} for s in found.submissions],
        "holds": [{
            "id": h.id, "reasons": h.reasons, "added": h.added, "removed": h.removed, "created_at": _time(h.created_at),
            "confirmed_by": found.users.get(h.confirmed_by) if h.confirmed_by else None,
            "confirmed_at": _time(h.confirmed_at), "closed_at": _time(h.closed_at),
            "closed_reason": h.closed_reason} for h in found.holds],
        "requisitions": [{
            "id": r.id, "reference": r.reference, "kind": r.kind, "order_id": r.order_id,
            "isp": found.isps.get(r.isp_id), "status": r.status, "created_at": _time(r.created_at),
            "sent_at": _time(r.sent_at), "acknowledged_at": _time(r.acknowledged_at),
            "pdf_sha256": r.pdf_sha256} for r in found.requisitions],
        "delivery_attempts": [{
            "requisition_id": a.requisition_id, "reference": references.get(a.requisition_id), "attempt": a.attempt,
            "started_at": _time(a.started_at), "outcome": a.outcome, "smtp_response": a.smtp_response}
            for a in found.attempts],
        "dns_checks": [{
            "id": r.id, "round_id": r.round_id, "at": _time(r.at), "isp": isp, "resolver": r.resolver,
            "domain": r.domain, "verdict": r.verdict, "reason": r.reason, "feed_serial": r.feed_serial}
            for r, isp in found.checks],
        "dns_checks_complete": found.checks_complete,
    }


def export_json(session: Session, found: Timeline, *, keys: KeyStore, exported_by: User) -> bytes:
    """The signed export file (isp_feed/bundles.py)."""
    return bundles.sign(bundle(session, found, exported_by=exported_by), keys)


# The PDF's page footers: CSS, since only the layout knows the page numbers.
PAGE_NUMBERS = N_("page %(page)s of %(pages)s")
DIGEST_FOOTER = N_("export SHA-256 %(digest)s")


def _css_text(language: str, words: Message, **counters: str) -> str:
    """A CSS `content` value: `words` in `language` as CSS strings, each placeholder given in `counters` as that
    CSS (a counter, a quoted string) in its place, wherever the language puts it."""
    text = i18n.translations(language).ugettext(words.msgid)
    parts = []
    for part in re.split(r"(%\([a-z_]+\)s)", text):
        if part.startswith("%(") and part[2:-2] in counters:
            parts.append(counters[part[2:-2]])
        elif part:
            parts.append(json.dumps(part.replace("%%", "%"), ensure_ascii=False))  # a CSS string: \" and \\ escaped
    return " ".join(parts)


def export_pdf(session: Session, found: Timeline, *, keys: KeyStore, exported_by: User,
               language: str | None = None) -> tuple[bytes, str]:
    """The history as a PDF for court in `language` (the exporter's by default), with the signed JSON export
    attached (history.json: verify it with `blocklist audit verify-export`); returns the PDF and the attached
    export's SHA-256. Only the PDF's words follow the language: the signed JSON is the same in every one."""
    from weasyprint import HTML, Attachment  # imported late: loading Pango is slow and only rendering needs it

    language = i18n.language_or_default(language or exported_by.language)
    content = bundle(session, found, exported_by=exported_by)
    signed = bundles.sign(content, keys)
    digest = hashlib.sha256(signed).hexdigest()
    html = i18n.environment(str(TEMPLATES), language).get_template("history.html").render(
        b=content, digest=digest, key_id=keys.active_key_id(),
        hold_reasons=lambda text: stored_text.hold_reasons(text, language),
        hold_closing=lambda text: stored_text.hold_closing(text, language),
        dns_reason=lambda text: stored_text.dns_reason(text, language),
        page_numbers=Markup(_css_text(language, PAGE_NUMBERS, page="counter(page)", pages="counter(pages)")),
        digest_footer=Markup(_css_text(language, DIGEST_FOOTER, digest=json.dumps(digest[:16]))))
    pdf = HTML(string=html, url_fetcher=_no_fetch).write_pdf(
        attachments=[Attachment(string=signed, name="history.json", url_fetcher=_no_fetch,
                                description=i18n.gettext(language, "The signed JSON export of this history"))])
    return pdf, digest


def download(session: Session, found: Timeline, *, keys: KeyStore, exported_by: User,
             kind: Literal["json", "pdf"], language: str | None = None) -> Response:
    """An export as a file to download, the SHA-256 of its signed JSON in X-Content-SHA256 (the PDF's attachment);
    a PDF's words in `language` (the exporter's by default)."""
    stem = "history-" + ("case-" if found.kind == "case" else "") + (
        "".join(c if c.isalnum() or c in ".-_" else "_" for c in found.subject)[:100] or "history")
    if kind == "json":
        body = export_json(session, found, keys=keys, exported_by=exported_by)
        digest = hashlib.sha256(body).hexdigest()
    else:
        body, digest = export_pdf(session, found, keys=keys, exported_by=exported_by, language=language)
    return Response(body, media_type="application/json" if kind == "json" else "application/pdf", headers={
        "X-Content-SHA256": digest, "Content-Disposition": f'attachment; filename="{stem}.{kind}"'})


def _no_fetch(url: str, *args: object, **kwargs: object) -> Any:
    # The export is self-contained: rendering never reaches any host, listed or not, nor reads a local file.
    raise ValueError(f"the history export loads no external resource (asked for {url!r})")
