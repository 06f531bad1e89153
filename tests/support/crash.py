"""Fire many POSTs at a real server at once, optionally SIGKILLing it meanwhile (tests/api/test_crash.py and
bench/bench_crash.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.server import ServerProcess

Request = tuple[str, dict[str, Any], dict[str, str]]  # path, JSON body, headers
Answer = tuple[int, str, bool]  # status, body text, replayed (the idempotent-replayed header)


def case(name: str, case_number: str = "CRASH/2026/1") -> dict[str, Any]:
    """A submission of `name` under a fixed case."""
    return {"domain": name, "legal_basis": "art39bis", "case_number": case_number, "evidence_ref": "EV-crash",
            "verified_on": "2026-11-30", "hosting_country": "NL"}


async def _fire(base: str, requests: list[Request], kill: ServerProcess | None, after: float) -> dict[int, Answer]:
    answers: dict[int, Answer] = {}
    limits = httpx.Limits(max_connections=max(1, len(requests)), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(i: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
            try:
                response = await client.post(path, json=body, headers=headers)
            except httpx.HTTPError:
                return  # unanswered: the caller retries it with its key
            answers[i] = (response.status_code, response.text, response.headers.get("idempotent-replayed") == "true")

        tasks = [asyncio.create_task(one(i, *r)) for i, r in enumerate(requests)]
        if kill is not None:
            await asyncio.sleep(after)
            kill.kill()
        await asyncio.gather(*tasks)
    return answers


def fire(base: str, requests: list[Request], *, kill: ServerProcess | None = None,
         after: float = 0.0) -> dict[int, Answer]:
    """Send every request at once; with `kill`, SIGKILL that server `after` seconds in. Answers by index."""
    return asyncio.run(_fire(base, requests, kill, after))
