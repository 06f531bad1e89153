"""The per-resolver limiter: backoff when timeouts rise and slow recovery (on a fake clock), and the cap on
queries in flight (counted at a silent resolver stub on loopback)."""

from __future__ import annotations

import asyncio
import socket

from isp_feed.verify.querier import Querier
from isp_feed.verify.ratelimit import BackoffPolicy, ResolverLimiter


class FakeClock:
    """Time that moves only when told (or when someone sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_timeouts_halve_the_rate_once_per_interval_and_answers_bring_it_back() -> None:
    clock = FakeClock()
    limiter = ResolverLimiter(100, clock=clock, backoff=BackoffPolicy(window=20, min_interval=2.0,
                                                                      recover_after=50, recover_step=0.1))
    for _ in range(19):
        limiter.record(timed_out=True)
    assert limiter.rate == 100  # the window is not full yet: no judgement on a handful of outcomes
    limiter.record(timed_out=True)
    assert limiter.rate == 50 and limiter.halvings == 1
    for _ in range(20):  # the same burst of timeouts, within the interval: halved once, not again
        limiter.record(timed_out=True)
    assert limiter.rate == 50
    clock.now += 3
    for _ in range(20):
        limiter.record(timed_out=True)
    assert limiter.rate == 25 and limiter.halvings == 2
    for _ in range(50):
        limiter.record(timed_out=False)
    assert limiter.rate == 35  # one step of a tenth of the configured rate
    for _ in range(50 * 20):
        limiter.record(timed_out=False)
    assert limiter.rate == 100  # never above the configured rate


def test_the_rate_never_falls_below_the_floor() -> None:
    clock = FakeClock()
    limiter = ResolverLimiter(4, clock=clock, backoff=BackoffPolicy(window=5, min_interval=0, min_rate=1))
    for _ in range(100):
        clock.now += 1
        limiter.record(timed_out=True)
    assert limiter.rate == 1


def test_the_paced_clock_spaces_tokens_at_the_rate() -> None:
    clock = FakeClock()
    limiter = ResolverLimiter(10, clock=clock, burst=1)
    started = clock.now

    async def take(n: int) -> None:
        for _ in range(n):
            await limiter.acquire()
            limiter.release(timed_out=False)

    asyncio.run(take(21))
    assert abs((clock.now - started) - 2.0) < 1e-6  # 1 at once, then 20 at 10 per second


def test_no_more_queries_in_flight_than_the_cap_reach_the_resolver() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    silent.setblocking(False)
    port = silent.getsockname()[1]

    def received() -> int:
        count = 0
        while True:
            try:
                silent.recv(4096)
            except BlockingIOError:
                return count
            count += 1

    async def go() -> tuple[int, int]:
        async with Querier([("127.0.0.1", port)], rate_qps=None, max_in_flight=4, timeout=0.5) as querier:
            tasks = [asyncio.create_task(querier.query("127.0.0.1", port, f"n{i}.csam-gallery.test"))
                     for i in range(10)]
            await asyncio.sleep(0.2)
            first = received()  # nobody answers: only the first 4 can have been sent
            await asyncio.gather(*tasks)
            return first, querier.stats.timeouts

    try:
        first, timeouts = asyncio.run(go())
    finally:
        silent.close()
    assert first == 4 and timeouts == 10
