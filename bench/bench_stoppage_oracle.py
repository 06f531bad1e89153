"""The stop page as an oracle: how long a listed and an unlisted name take, decision alone and whole request.

N listed names (default 10,000) in a fresh SQLite install; the limiter's budget is set out of the way so that
every request is answered. Printed, never asserted: the look-up and the budget check should cost the same for
both; the whole request differs, since an unlisted name goes on to the application (the answer differs anyway).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app
from api.runtime import Runtime
from api.stoppage import GuessLimiter, StopPageState
from blocklist import users, workflow
from blocklist.schemas import SubmissionCreate
from blocklist.settings import Settings

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ROUNDS = 20_000


def _setup() -> Runtime:
    folder = Path(tempfile.mkdtemp(prefix="bench-stoppage-"))
    rt = Runtime(Settings(BLOCKLIST_DATA_DIR=folder, scheduler=False))  # type: ignore[call-arg]
    rt.ensure_schema()
    with rt.database.transaction() as s:
        officer, _ = users.create_user(s, actor="bench", username="officer", role="officer")
        magistrate, _ = users.create_user(s, actor="bench", username="magistrate", role="magistrate")
    policy = None
    for start in range(0, N, 5000):
        with rt.database.transaction() as s:
            policy = policy or rt.name_policy(s)
            ids = [workflow.submit(s, actor=s.merge(officer), policy=policy, data=SubmissionCreate(
                domain=f"n{i}.csam-gallery.test", legal_basis="art39bis", case_number="FCCU-2026-0001",
                evidence_ref="EVD-1", verified_on=dt.date.today(), hosting_country="NL")).id
                for i in range(start, min(N, start + 5000))]
        with rt.database.transaction() as s:
            workflow.approve(s, actor=s.merge(magistrate), submission_ids=ids)
    return rt


async def _decisions(state: StopPageState, listed: list[str], unlisted: list[str]) -> dict[str, list[float]]:
    """Seconds of each look-up and budget check (what decides between the answers), the two kinds interleaved
    in random order so that the machine's drift and noise fall on both alike."""
    times: dict[str, list[float]] = {"listed": [], "unlisted": []}
    order = random.Random(7)
    for i, pair in enumerate(zip(listed, unlisted, strict=True)):
        kinds = [("listed", pair[0]), ("unlisted", pair[1])]
        order.shuffle(kinds)
        for label, host in kinds:
            started = time.perf_counter()
            match = await state.match(host)
            state.limiter.allow(f"198.51.100.{i % 250}", host, listed=match is not None)
            times[label].append(time.perf_counter() - started)
    return times


async def _request(app: object, host: str) -> float:
    """Seconds of one whole request through the ASGI stack."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/healthz", "raw_path": b"/healthz", "query_string": b"", "root_path": "",
             "headers": [(b"host", host.encode())], "client": ("198.51.100.7", 40000), "server": ("127.0.0.1", 80)}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    started = time.perf_counter()
    await app(scope, receive, send)  # type: ignore[operator]
    return time.perf_counter() - started


async def main() -> None:
    rt = _setup()
    app = create_app(rt)
    state: StopPageState = app.state.stop_page
    state.limiter = GuessLimiter(burst=1e12, per_second=0)
    listed = [f"www.n{i % N}.csam-gallery.test" for i in range(ROUNDS)]
    unlisted = [f"www.m{i % N}.csam-gallery.test" for i in range(ROUNDS)]  # same number of labels
    await state.match(listed[0])  # load the cache
    for label, seconds in (await _decisions(state, listed, unlisted)).items():
        print(f"decision, {label:8}: {statistics.mean(seconds) * 1e6:6.2f} µs mean, "
              f"{statistics.median(seconds) * 1e6:6.2f} µs median over {len(seconds)} names")
    for label, host in (("listed", listed[0]), ("unlisted", unlisted[0])):
        times = [await _request(app, host) for _ in range(2000)]
        print(f"request,  {label:8}: {statistics.mean(times) * 1e6:6.1f} µs mean, "
              f"{statistics.median(times) * 1e6:6.1f} µs median (listed: 451 page; unlisted: the app's /healthz)")
    rt.database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
