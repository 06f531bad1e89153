"""Which version each ISP resolver really serves, asked from outside: the canaries (isp_feed_client/canary.py) of the
current content serial and a few recent ones. Only the file of content serial N blocks N's canary, so the newest
canary a resolver answers with the stop page is the serial it has loaded, whatever its client acknowledged.

The canaries are names under the stop page's own host (the feed operator's), never a listed site's. Pure apart from
the queries: the caller (isp_feed/verification.py) stores the results and works out since when.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from blocklist.vocab import LiveState
from isp_feed.verify.classify import StopPage, classify
from isp_feed.verify.querier import Observation, Querier
from isp_feed.verify.round import Target
from isp_feed_client.canary import canary_name

ATTEMPTS = 2  # a canary whose answer is a timeout or SERVFAIL is asked once more


@dataclass(frozen=True)
class Live:
    """What one resolver served: `serial` when `state` is "serving", and each canary's answer in words."""

    target: Target
    state: LiveState
    serial: int | None
    detail: str


def _said(observation: Observation) -> str:
    if observation.error is not None or observation.rcode is None:
        return observation.error or "no answer"
    shown = ", ".join(rdata.rstrip(".") for _, rtype, _, rdata in observation.answers  # in answer order: CNAME first
                      if rtype in ("A", "AAAA", "CNAME"))
    return f"{observation.rcode}" + (f" ({shown})" if shown else "")


async def _canary(querier: Querier, target: Target, serial: int, stop: StopPage, backoff: float) -> tuple[str, str]:
    """("blocked" | "other" | "inconclusive", the answer in words) for one canary at one resolver."""
    name = canary_name(serial, stop.name)
    for attempt in range(ATTEMPTS):
        observation = await querier.query(target.ip, target.port, name, "A")
        # Judged like a listed name with no control: the stop page (CNAME or its address) is "blocked".
        verdict = classify([observation], [], policy="stoppage", stop=stop).value
        if verdict != "inconclusive":
            return ("blocked" if verdict == "blocked" else "other"), _said(observation)
        if attempt + 1 < ATTEMPTS:
            await asyncio.sleep(backoff)
    return "inconclusive", _said(observation)


async def live_at(querier: Querier, target: Target, serials: list[int], stop: StopPage, *,
                  backoff: float = 0.2) -> Live:
    """Ask one resolver the canaries of `serials` (content serials, any order) and say which it serves."""
    if target.policy == "nxdomain":
        return Live(target, "unknown", None, "the ISP's agreed block answer is NXDOMAIN, which is also how a name that "
                                             "does not exist is answered: its canaries cannot tell the serial")
    newest_first = sorted(set(serials), reverse=True)
    found = await asyncio.gather(*(_canary(querier, target, s, stop, backoff) for s in newest_first))
    detail = "; ".join(f"{s}: {said}" for s, (_, said) in zip(newest_first, found, strict=True))
    served = [s for s, (judged, _) in zip(newest_first, found, strict=True) if judged == "blocked"]
    if served:
        return Live(target, "serving", served[0], detail)
    if any(judged == "inconclusive" for judged, _ in found):  # the unanswered one may be the serial served
        return Live(target, "inconclusive", None, detail)
    return Live(target, "none", None, detail)


async def live_serials(querier: Querier, targets: list[Target], serials: list[int], stop: StopPage, *,
                       backoff: float = 0.2) -> list[Live]:
    """`live_at` for every target, in the order of `targets` (the querier must allow each of them)."""
    if not serials:
        return []
    return list(await asyncio.gather(*(live_at(querier, t, serials, stop, backoff=backoff) for t in targets)))
