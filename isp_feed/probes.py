"""Remote probes: registration, the work they pull, and the signed results they post back."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blocklist import audit, queries
from blocklist.errors import Conflict, Forbidden, InvalidInput, Unauthenticated
from blocklist.models import Isp, Submission, User, utcnow
from blocklist.roles import actor_label
from blocklist.settings import Settings
from blocklist.tokens import new_token, token_hash, token_prefix
from isp_feed import verification
from isp_feed.models import Probe, VerificationResult, VerificationRound, pack_evidence
from isp_feed.verify.classify import VERDICTS
from isp_feed.versions import latest_version
from isp_feed_client import signing


def register(session: Session, *, actor: User | str, isp: Isp, name: str, public_key: str) -> tuple[Probe, str]:
    """Register a probe for an ISP with its public key; returns it and its credential (shown once)."""
    try:
        signing.parse_public_key(public_key)
    except signing.SignatureError as exc:
        raise InvalidInput(f"the probe's public key is not a minisign public key: {exc}", field="pubkey") from None
    if session.execute(select(Probe.id).where(Probe.name == name)).first():
        raise Conflict(f"a probe named {name!r} already exists", field="name")
    token = new_token("probe")
    probe = Probe(isp_id=isp.id, name=name, token_hash=token_hash(token), token_prefix=token_prefix(token),
                  public_key=public_key.strip() + "\n", active=True, created_at=utcnow())
    session.add(probe)
    session.flush()
    audit.record(session, actor=actor_label(actor), action="probe.registered", object_type="probe",
                 object_id=probe.id, details={"name": name, "isp": isp.name})
    return probe, token


def probe_by_token(session: Session, token: str) -> Probe:
    """The active probe holding this credential."""
    probe = session.execute(select(Probe).where(Probe.token_hash == token_hash(token))).scalar_one_or_none()
    if probe is None:
        raise Unauthenticated("invalid probe credential")
    if not probe.active:
        raise Forbidden(f"probe {probe.name!r} is disabled")
    return probe


def work(session: Session, *, probe: Probe, settings: Settings) -> dict[str, Any]:
    """What a probe must check now: every blocked name, the ISP's agreed block answer, the stop page."""
    isp = session.get(Isp, probe.isp_id)
    assert isp is not None
    latest = latest_version(session)
    names = list(session.execute(queries.blocked_names()
                                 .order_by(Submission.domain)).scalars())
    return {"probe": probe.name, "isp": isp.name, "policy": isp.policy, "names": names,
            "feed_serial": latest.serial if latest else None,
            "stop_page": {"name": settings.stop_page_host, "ipv4": settings.stop_page_ipv4,
                          "ipv6": settings.stop_page_ipv6 or None}}


def accept_results(session: Session, *, probe: Probe, body: bytes, signature: str) -> int:
    """Verify the probe's signature over the exact body, then keep its results as a round; returns its id."""
    try:
        signing.verify(body, signature, [signing.parse_public_key(probe.public_key)])
    except signing.SignatureError as exc:
        raise Forbidden(f"results refused: {exc}") from None
    try:
        data = json.loads(body)
        results = data["results"]
        resolver = str(data["resolver"])
        if not isinstance(results, list):
            raise TypeError("results must be a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"malformed probe results: {exc}") from None
    latest = latest_version(session)
    now = utcnow()
    rnd = VerificationRound(started_at=now, finished_at=now, feed_serial=latest.serial if latest else None,
                            names=len(results), resolvers=1, trigger=f"probe:{probe.name}"[:20])
    session.add(rnd)
    session.flush()
    listed = set(session.execute(queries.blocked_names()).scalars())
    for item in results:
        if not isinstance(item, dict) or item.get("verdict") not in VERDICTS or not isinstance(item.get("name"), str):
            raise InvalidInput("every result needs a name and a known verdict")
        if item["name"] not in listed:
            raise InvalidInput(f"{item['name'][:253]!r} is not a blocked name: a probe reports only on its work")
        session.add(VerificationResult(round_id=rnd.id, isp_id=probe.isp_id, resolver=resolver[:60],
                                       domain=item["name"][:253], verdict=item["verdict"],
                                       reason=str(item.get("reason", ""))[:2000],
                                       evidence="", evidence_z=pack_evidence(json.dumps(
                                           item.get("evidence", {}), separators=(",", ":"))),
                                       feed_serial=rnd.feed_serial, at=now))
    verification.refresh_latest(session, rnd.id)
    audit.record(session, actor=f"probe:{probe.name}", action="verification.probe_round",
                 object_type="verification_round", object_id=rnd.id,
                 details={"resolver": resolver, "results": len(results)})
    return rnd.id
