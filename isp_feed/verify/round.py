"""One verification round, pure: ask every ISP resolver and the control about every name, judge each pair.

Inconclusive answers are asked again with jittered exponential backoff; `not_blocked` is reported only after
two agreeing observations.
"""

from __future__ import annotations

import asyncio
import json
import random
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from isp_feed.verify.classify import DISAGREE, NOT_ASKED, StopPage, Verdict, classify
from isp_feed.verify.querier import Observation, Querier


@dataclass(frozen=True)
class Target:
    """A resolver to check: whose it is, where, and the ISP's agreed block answer."""

    isp_id: int
    ip: str
    port: int
    policy: str = "stoppage"


@dataclass
class NameResult:
    """The verdict for one name at one resolver, with every observation behind it."""

    target: Target
    name: str
    verdict: Verdict
    observations: list[Observation] = field(default_factory=list)
    control: list[Observation] = field(default_factory=list)


def evidence(result: NameResult) -> dict[str, Any]:
    """Every question behind a verdict, as kept: resolver, times, rcode, answers, EDE, raw answer (base64)."""
    def one(o: Observation) -> dict[str, Any]:
        return {"resolver": o.resolver, "question": f"{o.qname} {o.qtype}", "sent_at": o.sent_at.isoformat(),
                "received_at": o.received_at.isoformat() if o.received_at else None, "rcode": o.rcode,
                "answers": [list(a) for a in o.answers], "ede": [list(e) for e in o.ede], "error": o.error,
                "raw": o.answer_base64}

    return {"isp": [one(o) for o in result.observations], "control": [one(o) for o in result.control]}


def evidence_json(result: NameResult) -> str:
    """The evidence as compact JSON."""
    return json.dumps(evidence(result), separators=(",", ":"))


# HTTPS too: its address hints can lead a browser to the real server when A and AAAA are blocked.
QTYPES = ("A", "AAAA", "HTTPS")


async def _ask(querier: Querier, ip: str, port: int, name: str) -> list[Observation]:
    return list(await asyncio.gather(*(querier.query(ip, port, name, qtype) for qtype in QTYPES)))


async def _judge(querier: Querier, target: Target, name: str, control: list[Observation], stop: StopPage,
                 retries: int, backoff: float) -> NameResult:
    seen: list[Observation] = []
    verdict = Verdict("inconclusive", str(NOT_ASKED))
    for attempt in range(retries + 1):
        answers = await _ask(querier, target.ip, target.port, name)
        seen.extend(answers)
        verdict = classify(answers, control, policy=target.policy, stop=stop)
        if verdict.value == "not_blocked":
            again = await _ask(querier, target.ip, target.port, name)
            seen.extend(again)
            second = classify(again, control, policy=target.policy, stop=stop)
            if second.value != "not_blocked":
                verdict = Verdict("inconclusive", str(DISAGREE.fill(first=verdict.reason, second=second.reason)))
            return NameResult(target, name, verdict, seen, control)
        if verdict.value != "inconclusive":
            break
        if attempt < retries:
            await asyncio.sleep(backoff * (2 ** attempt) * random.uniform(0.5, 1.5))
    return NameResult(target, name, verdict, seen, control)


async def run_round(targets: list[Target], names: list[str], control: Target, stop: StopPage, *,
                    rate_qps: float | None = 50.0, timeout: float = 2.0, retries: int = 2,
                    backoff: float = 0.5, max_in_flight: int = 64,
                    querier: Querier | None = None) -> list[NameResult]:
    """Judge every name at every target; the querier only ever sends to these resolvers and the control.

    Results come target by target, each in the order of `names`. A `querier` given by the caller (opened over
    these resolvers) is used as it is, and `rate_qps`, `timeout` and `max_in_flight` are then its own.
    """
    endpoints = {(t.ip, t.port) for t in targets} | {(control.ip, control.port)}
    results: list[NameResult | None] = [None] * (len(targets) * len(names))
    # A fixed pool of workers, each taking the next name: the control's answer, then every target at once.
    # (One task per name and target would hold hundreds of thousands of waiting coroutines in a big round.)
    upcoming = iter(enumerate(names))

    async def worker(querier: Querier) -> None:
        for index, name in upcoming:
            controls = await _ask(querier, control.ip, control.port, name)
            judged = await asyncio.gather(*(_judge(querier, t, name, controls, stop, retries, backoff)
                                            for t in targets))
            for position, result in enumerate(judged):
                results[position * len(names) + index] = result

    async with AsyncExitStack() as stack:
        if querier is None:
            querier = await stack.enter_async_context(Querier(sorted(endpoints), timeout=timeout, rate_qps=rate_qps,
                                                              max_in_flight=max_in_flight))
        for ip, port in endpoints:
            querier.check_destination(ip, port)
        await asyncio.gather(*(worker(querier) for _ in range(min(len(names), max_in_flight))))
    return [r for r in results if r is not None]
