"""Verification evidence stored once (isp_feed/evidence.py): read back, it is exactly what the round observed (raw
answers byte for byte, with their message IDs); a second day of the same answers adds packed observations only
(a few bytes in each result), no answer; the control's observations are stored once per name, not once per ISP;
everything is append-only."""

from __future__ import annotations

import datetime as dt

import dns.message
import dns.rrset
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from blocklist.db import Database
from blocklist.isps import add_isp
from blocklist.models import utcnow
from isp_feed import evidence
from isp_feed.models import VerificationAnswer, VerificationResult, VerificationRound
from isp_feed.verify import wire
from isp_feed.verify.classify import Verdict
from isp_feed.verify.querier import Observation
from isp_feed.verify.round import NameResult, Target
from isp_feed.verify.round import evidence as observed_evidence


def _answer(name: str, qtype: str, data: str, message_id: int) -> bytes:
    query = dns.message.make_query(name + ".", qtype, use_edns=0)
    query.id = message_id
    response = dns.message.make_response(query)
    if data:
        rdtype = "CNAME" if data.endswith(".") else qtype
        response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", rdtype, data))
    return response.to_wire()


def _observation(ip: str, port: int, name: str, qtype: str, data: str, message_id: int,
                 sent: dt.datetime) -> Observation:
    raw = _answer(name, qtype, data, message_id)
    rcode, answers, ede = wire.parse_with_dnspython(raw)
    return Observation(ip, port, name, qtype, sent, sent + dt.timedelta(microseconds=1234), rcode, raw, answers, ede)


def _day(targets: list[Target], names: list[str], first_id: int) -> list[NameResult]:
    """What a round would have observed: the stop page's CNAME at each ISP, the real address at the control."""
    sent = utcnow() - dt.timedelta(seconds=3)
    ids = iter(range(first_id, first_id + 10_000))
    results = []
    controls = {n: [_observation("127.0.0.9", 53, n, "A", "192.0.2.80", next(ids), sent),
                    _observation("127.0.0.9", 53, n, "AAAA", "", next(ids), sent)] for n in names}
    for target in targets:
        for n in names:
            seen = [_observation(target.ip, target.port, n, qtype, "stop.blocklist.example.", next(ids), sent)
                    for qtype in ("A", "AAAA")]
            seen.append(Observation(target.ip, target.port, n, "A", sent, None, None, None, [], [], "timeout"))
            results.append(NameResult(target, n, Verdict("blocked", "answers the stop page"), seen, controls[n]))
    return results


def _store(database: Database, round_id: int, results: list[NameResult], answers: evidence.AnswerStore) -> list[int]:
    with database.transaction() as s:
        now = utcnow()
        ids = []
        half = len(results) // 2  # in two parts, as a round stores its chunks: the control's once all the same
        for part in (results[:half], results[half:]):
            for r, blob in zip(part, evidence.packed(s, answers, part, now), strict=True):
                row = VerificationResult(round_id=round_id, isp_id=r.target.isp_id,
                                         resolver=f"{r.target.ip}:{r.target.port}", domain=r.name,
                                         verdict=r.verdict.value, reason=r.verdict.reason, evidence="", at=now,
                                         observations=blob)
                s.add(row)
                s.flush()
                ids.append(row.id)
    return ids


def _packed_observations(database: Database) -> int:
    with database.reading() as s:
        return sum(len(evidence.unpack(b)) for b in s.execute(select(VerificationResult.observations)).scalars())


def test_evidence_is_read_back_exactly_and_each_answer_is_stored_once(database: Database) -> None:
    with database.transaction() as s:
        isp_ids = [add_isp(s, actor="test", name=n, email=f"noc@{n.lower()}.example", language="fr")[0].id
                   for n in ("One", "Two", "Three")]
        rounds = [VerificationRound(started_at=utcnow(), names=2, resolvers=3) for _ in range(2)]
        s.add_all(rounds)
        s.flush()
        round_ids = [r.id for r in rounds]
    targets = [Target(isp_id, "127.0.0.1", 5300 + i) for i, isp_id in enumerate(isp_ids)]
    names = ["csam-gallery.test", "xn--bcher-kva.example"]
    first = _day(targets, names, 1)
    ids = _store(database, round_ids[0], first, evidence.AnswerStore())
    with database.reading() as s:
        for result, row_id in zip(first, ids, strict=True):
            row = s.get(VerificationResult, row_id)
            assert row is not None
            assert evidence.load(s, row) == observed_evidence(result)  # raw bytes, IDs, times, parses: all of it
        answers = s.execute(select(func.count()).select_from(VerificationAnswer)).scalar_one()
    observations = _packed_observations(database)
    # 2 names x (A, AAAA) at the ISPs (the same stop-page CNAME answer whatever the ISP) + 2 x 2 at the control
    assert answers == 2 * 2 + 2 * 2
    assert observations == 3 * 2 * 3 + 2 * 2  # the control's observations once per name, not once per ISP

    second = _day(targets, names, 5000)  # the next day: the same answers, other message IDs
    _store(database, round_ids[1], second, evidence.AnswerStore())
    with database.reading() as s:
        assert s.execute(select(func.count()).select_from(VerificationAnswer)).scalar_one() == answers
        assert _packed_observations(database) == 2 * observations
        row = s.execute(select(VerificationResult).where(VerificationResult.round_id == round_ids[1])
                        .order_by(VerificationResult.id.desc())).scalars().first()
        assert row is not None and evidence.load(s, row) == observed_evidence(second[-1])

    for statement in ("UPDATE verification_answers SET sha256 = 'forged'", "DELETE FROM verification_answers",
                      "UPDATE verification_results SET observations = NULL", "DELETE FROM verification_results"):
        with pytest.raises(DBAPIError, match="append-only"), database.transaction() as s:
            s.execute(text(statement))
