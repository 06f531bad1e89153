"""The remote probe's side: pull the work, ask the local resolver and a control, post signed results."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass

import httpx

from isp_feed.verify.classify import StopPage
from isp_feed.verify.round import Target, evidence, run_round
from isp_feed_client import signing


@dataclass(frozen=True)
class ProbeOutcome:
    """What a probe run did."""

    names: int
    verdicts: dict[str, int]
    round_id: int


def run_probe(*, server: str, token: str, key: signing.SecretKey, resolver: tuple[str, int],
              control: tuple[str, int], rate_qps: float | None = 50.0, timeout: float = 2.0) -> ProbeOutcome:
    """One round from inside an ISP's network; the server refuses results not signed with the registered key."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=60) as http:
        response = http.get("/api/v1/probe/work")
        response.raise_for_status()
        work = response.json()
        stop = StopPage(work["stop_page"]["name"], work["stop_page"]["ipv4"], work["stop_page"]["ipv6"])
        results = asyncio.run(run_round([Target(0, resolver[0], resolver[1], work["policy"])], work["names"],
                                        Target(0, control[0], control[1]), stop, rate_qps=rate_qps,
                                        timeout=timeout)) if work["names"] else []
        body = json.dumps({"resolver": f"{resolver[0]}:{resolver[1]}", "control": f"{control[0]}:{control[1]}",
                           "feed_serial": work["feed_serial"],
                           "results": [{"name": r.name, "verdict": r.verdict.value, "reason": r.verdict.reason,
                                        "evidence": evidence(r)} for r in results]},
                          separators=(",", ":")).encode()
        signature = signing.sign(body, f"probe={work['probe']} results={len(results)}", key)
        posted = http.post("/api/v1/probe/results", content=body, headers={
            "Content-Type": "application/json", "X-Signature": base64.b64encode(signature.encode()).decode()})
        posted.raise_for_status()
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    return ProbeOutcome(len(work["names"]), counts, int(posted.json()["round_id"]))
