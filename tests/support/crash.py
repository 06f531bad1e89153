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


async def _fire(base: str, requests: list[Request], kill: ServerProcess | None,
                after_answers: int) -> dict[int, Answer]:
    answers: dict[int, Answer] = {}
    enough = asyncio.Event()
    limits = httpx.Limits(max_connections=max(1, len(requests)), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(i: int, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
            try:
                response = await client.post(path, json=body, headers=headers)
            except httpx.HTTPError:
                return  # unanswered: the caller retries it with its key
            answers[i] = (response.status_code, response.text, response.headers.get("idempotent-replayed") == "true")
            if len(answers) >= after_answers:
                enough.set()

        everything = asyncio.gather(*(one(i, *r) for i, r in enumerate(requests)))
        if kill is not None:
            # Killed by progress, not after a fixed time: on a loaded machine a fixed moment can fall before the
            # first answer or after the last, and the kill then proves nothing.
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(enough.wait()), everything]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            kill.kill()
        await everything
    return answers


def fire(base: str, requests: list[Request], *, kill: ServerProcess | None = None,
         after_answers: int = 0) -> dict[int, Answer]:
    """Send every request at once; with `kill`, SIGKILL that server as soon as `after_answers` of them are
    answered (the others are in flight or queued). Answers by index."""
    return asyncio.run(_fire(base, requests, kill, after_answers))
