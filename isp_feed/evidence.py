"""The evidence of verification rounds: every question and answer behind every verdict, kept for ever, stored once.

A daily round at national scale asks hundreds of thousands of questions whose answers are, day after day, the
same bytes (the stop page's CNAME for a blocked name, the real address from the control resolver) but for the
message ID. So each distinct answer is stored once, content-addressed by the SHA-256 of its bytes with the ID
zeroed (`verification_answers`), and each observation is a small row of integers pointing at it
(`verification_observations`): its ID, when it was sent, how long the answer took, the rcode. The control
resolver's observations of a name are shared by every ISP's result of that name in a round, and stored once.
Reading puts the ID back: the raw answer comes back byte for byte as received, and the evidence as
`isp_feed.verify.round.evidence` gave it (older rows keep their compressed JSON and are read as before).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import dns.rcode
import dns.rdatatype
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from isp_feed.models import VerificationAnswer, VerificationObservation, VerificationResult
from isp_feed.verify import wire
from isp_feed.verify.querier import Observation
from isp_feed.verify.round import NameResult

_CHUNK = 500  # hashes looked up per query


def _zeroed(data: bytes) -> bytes:
    return b"\x00\x00" + data[2:] if len(data) >= 2 else data


class AnswerStore:
    """The ids of distinct answers, found or added, and the names whose control observations are stored; one per
    round (it remembers what it has seen across the round's chunks)."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.controls: set[str] = set()

    def ids(self, session: Session, messages: Iterable[bytes]) -> dict[bytes, int]:
        """The answer id of each message (by its bytes with the ID zeroed), adding the answers not stored yet."""
        by_hash = {hashlib.sha256(m).hexdigest(): m for m in {_zeroed(m) for m in messages}}
        unknown = [h for h in by_hash if h not in self.known]
        for start in range(0, len(unknown), _CHUNK):
            part = unknown[start:start + _CHUNK]
            self.known.update((h, i) for h, i in session.execute(
                select(VerificationAnswer.sha256, VerificationAnswer.id).where(VerificationAnswer.sha256.in_(part))))
        new = [h for h in unknown if h not in self.known]
        for start in range(0, len(new), _CHUNK):
            part = new[start:start + _CHUNK]
            self.known.update((h, i) for h, i in session.execute(insert(VerificationAnswer).returning(
                VerificationAnswer.sha256, VerificationAnswer.id, sort_by_parameter_order=True),
                [{"sha256": h, "wire": by_hash[h]} for h in part]))
        return {m: self.known[h] for h, m in by_hash.items()}


def _row(result_id: int, side: str, resolver: str | None, at: dt.datetime, o: Observation,
         answers: dict[bytes, int]) -> dict[str, Any]:
    return {"result_id": result_id, "side": side, "resolver": resolver,
            "qtype": int(dns.rdatatype.from_text(o.qtype)),
            "sent_us": round((o.sent_at - at).total_seconds() * 1e6),
            "rtt_us": round((o.received_at - o.sent_at).total_seconds() * 1e6) if o.received_at else None,
            "rcode": int(dns.rcode.from_text(o.rcode)) if o.rcode else None,
            "message_id": int.from_bytes(o.answer_wire[:2], "big") if o.answer_wire and len(o.answer_wire) >= 2
            else None,
            "answer_id": answers[_zeroed(o.answer_wire)] if o.answer_wire is not None else None,
            "error": o.error, "transport": None if o.transport == "udp" else o.transport}


def store(session: Session, store: AnswerStore, results: Sequence[NameResult], result_ids: Sequence[int],
          at: dt.datetime) -> int:
    """The observations of `results` (stored as the rows `result_ids`, at `at`); returns how many rows."""
    answers = store.ids(session, (o.answer_wire for r in results for o in (*r.observations, *r.control)
                                  if o.answer_wire is not None))
    rows: list[dict[str, Any]] = []
    for result, result_id in zip(results, result_ids, strict=True):
        own = f"{result.target.ip}:{result.target.port}"  # the result's `resolver`, as verification.py writes it
        rows.extend(_row(result_id, "isp", None if o.resolver == own else o.resolver, at, o, answers)
                    for o in result.observations)
        if result.name not in store.controls:  # one list of the control's answers per name, shared by its results
            store.controls.add(result.name)
            rows.extend(_row(result_id, "control", o.resolver, at, o, answers) for o in result.control)
    for start in range(0, len(rows), 5000):
        session.execute(insert(VerificationObservation), rows[start:start + 5000])
    return len(rows)


def _one(o: VerificationObservation, result: VerificationResult, answer: bytes | None) -> dict[str, Any]:
    sent = result.at + dt.timedelta(microseconds=o.sent_us)
    raw = (o.message_id or 0).to_bytes(2, "big") + answer[2:] if answer is not None else None
    rcode: str | None = None
    answers: list[wire.Answer] = []
    ede: list[tuple[int, str]] = []
    if raw is not None and o.error is None:
        try:
            rcode, answers, ede = wire.parse(raw)
        except wire.NotSimple:
            rcode, answers, ede = wire.parse_with_dnspython(raw)
    if o.rcode is not None:
        rcode = dns.rcode.to_text(dns.rcode.Rcode.make(o.rcode))
    qtype = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(o.qtype))
    return {"resolver": o.resolver or result.resolver, "question": f"{result.domain} {qtype}",
            "sent_at": sent.isoformat(),
            "received_at": (sent + dt.timedelta(microseconds=o.rtt_us)).isoformat() if o.rtt_us is not None else None,
            "rcode": rcode, "answers": [list(a) for a in answers], "ede": [list(e) for e in ede], "error": o.error,
            "raw": base64.b64encode(raw).decode("ascii") if raw is not None else None}


def load(session: Session, result: VerificationResult) -> dict[str, Any]:
    """Every question and answer behind a verdict, as `isp_feed.verify.round.evidence` gave it."""
    if result.evidence_z is not None or result.evidence:
        text = zlib.decompress(result.evidence_z).decode("utf-8") if result.evidence_z is not None \
            else result.evidence
        data: dict[str, Any] = json.loads(text or "{}")
        return data
    first = session.execute(select(func.min(VerificationResult.id)).where(
        VerificationResult.round_id == result.round_id, VerificationResult.domain == result.domain)).scalar_one()
    rows = list(session.execute(
        select(VerificationObservation, VerificationAnswer.wire)
        .outerjoin(VerificationAnswer, VerificationAnswer.id == VerificationObservation.answer_id)
        .where(((VerificationObservation.result_id == result.id) & (VerificationObservation.side == "isp"))
               | ((VerificationObservation.result_id == first) & (VerificationObservation.side == "control")))
        .order_by(VerificationObservation.id)))
    return {side: [_one(o, result, answer) for o, answer in rows if o.side == side] for side in ("isp", "control")}
