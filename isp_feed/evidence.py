"""The evidence of verification rounds: every question and answer behind every verdict, kept for ever, stored once.

A daily round at national scale asks hundreds of thousands of questions whose answers are, day after day, the
same bytes (the stop page's CNAME for a blocked name, the real address from the control resolver) but for the
message ID. So each distinct answer is stored once, content-addressed by the SHA-256 of its bytes with the ID
zeroed (`verification_answers`), and each observation is a dozen bytes packed into its result's row
(`verification_results.observations`, `pack`): the answer it points at, its ID, when it was sent, how long the
answer took, the rcode. The control resolver's observations of a name are shared by every ISP's result of that
name in a round, and stored once, with the first. Reading puts the ID back: the raw answer comes back byte for byte
as received, and the evidence as `isp_feed.verify.round.evidence` gave it (older rounds keep their observation rows
or compressed JSON, and are read as before).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Obs:
    """One observation as packed (the fields of a VerificationObservation row, which older rounds used)."""

    side: str
    resolver: str | None
    qtype: int
    sent_us: int
    rtt_us: int | None
    rcode: int | None
    message_id: int | None
    answer_id: int | None
    error: str | None
    transport: str | None


def _obs(side: str, resolver: str | None, at: dt.datetime, o: Observation, answers: dict[bytes, int]) -> _Obs:
    return _Obs(side, resolver, int(dns.rdatatype.from_text(o.qtype)), round((o.sent_at - at).total_seconds() * 1e6),
                round((o.received_at - o.sent_at).total_seconds() * 1e6) if o.received_at else None,
                int(dns.rcode.from_text(o.rcode)) if o.rcode else None,
                int.from_bytes(o.answer_wire[:2], "big") if o.answer_wire and len(o.answer_wire) >= 2 else None,
                answers[_zeroed(o.answer_wire)] if o.answer_wire is not None else None,
                o.error, None if o.transport == "udp" else o.transport)


# --- the packed form: one small blob per result --------------------------------------------------------------------
# Per observation: a flags varint (bit 0 control side; bits 1-3: a resolver, error, transport string follows), then
# qtype, sent_us (zigzag), and rtt_us, rcode, message_id, answer_id each plus one (0: none), as varints; then the
# flagged strings, each its length and UTF-8 bytes. About 12 bytes an observation, against a row and an index entry.
_PACKED_FORMAT = 1


def _varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _opt(value: int | None) -> int:
    return 0 if value is None else value + 1


def pack(observations: Sequence[_Obs]) -> bytes:
    """The packed bytes of a result's observations."""
    out = bytearray([_PACKED_FORMAT])
    for o in observations:
        strings = [(o.resolver, 2), (o.error, 4), (o.transport, 8)]
        _varint((o.side == "control") | sum(bit for text, bit in strings if text is not None), out)
        for number in (o.qtype, (o.sent_us << 1) ^ (o.sent_us >> 63), _opt(o.rtt_us), _opt(o.rcode),
                       _opt(o.message_id), _opt(o.answer_id)):
            _varint(number, out)
        for text, _ in strings:
            if text is not None:
                data = text.encode("utf-8")
                _varint(len(data), out)
                out.extend(data)
    return bytes(out)


def unpack(data: bytes) -> list[_Obs]:
    """The observations packed by `pack`."""
    if not data or data[0] != _PACKED_FORMAT:
        raise ValueError("not packed verification evidence")
    at, found = 1, []

    def number() -> int:
        nonlocal at
        value = shift = 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def text() -> str:
        nonlocal at
        size = number()
        at += size
        return data[at - size:at].decode("utf-8")

    while at < len(data):
        flags, qtype, sent = number(), number(), number()
        rtt, rcode, message_id, answer_id = (number() - 1 for _ in range(4))
        resolver, error, transport = (text() if flags & bit else None for bit in (2, 4, 8))
        found.append(_Obs("control" if flags & 1 else "isp", resolver, qtype, (sent >> 1) ^ -(sent & 1),
                          rtt if rtt >= 0 else None, rcode if rcode >= 0 else None,
                          message_id if message_id >= 0 else None, answer_id if answer_id >= 0 else None, error,
                          transport))
    return found


def packed(session: Session, store: AnswerStore, results: Sequence[NameResult], at: dt.datetime) -> list[bytes]:
    """The packed observations of each of `results` (to be stored with it, at `at`); the answers they point at are
    stored once. The control resolver's observations of a name go with its first result in the round only."""
    answers = store.ids(session, (o.answer_wire for r in results for o in (*r.observations, *r.control)
                                  if o.answer_wire is not None))
    blobs = []
    for result in results:
        own = f"{result.target.ip}:{result.target.port}"  # the result's `resolver`, as verification.py writes it
        found = [_obs("isp", None if o.resolver == own else o.resolver, at, o, answers) for o in result.observations]
        if result.name not in store.controls:
            store.controls.add(result.name)
            found.extend(_obs("control", o.resolver, at, o, answers) for o in result.control)
        blobs.append(pack(found))
    return blobs


def _one(o: VerificationObservation | _Obs, result: VerificationResult, answer: bytes | None) -> dict[str, Any]:
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
    if result.observations is not None:
        control = result.observations if first == result.id else session.execute(
            select(VerificationResult.observations).where(VerificationResult.id == first)).scalar_one()
        found = [o for o in unpack(result.observations) if o.side == "isp"]
        found += [o for o in unpack(control or b"") if o.side == "control"] if control else []
        ids = {o.answer_id for o in found if o.answer_id is not None}
        wires = {i: w for i, w in session.execute(select(VerificationAnswer.id, VerificationAnswer.wire)
                                                  .where(VerificationAnswer.id.in_(ids)))} if ids else {}
        return {side: [_one(o, result, wires.get(o.answer_id) if o.answer_id is not None else None)
                       for o in found if o.side == side] for side in ("isp", "control")}
    rows = list(session.execute(
        select(VerificationObservation, VerificationAnswer.wire)
        .outerjoin(VerificationAnswer, VerificationAnswer.id == VerificationObservation.answer_id)
        .where(((VerificationObservation.result_id == result.id) & (VerificationObservation.side == "isp"))
               | ((VerificationObservation.result_id == first) & (VerificationObservation.side == "control")))
        .order_by(VerificationObservation.id)))
    return {side: [_one(o, result, answer) for o, answer in rows if o.side == side] for side in ("isp", "control")}
