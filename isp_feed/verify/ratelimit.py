"""Per-resolver query pacing: a token bucket, a cap on queries in flight, and backoff when timeouts rise.

Pure asyncio. Time comes from a `Clock` so that tests can drive it with a fake one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Where the limiter reads the time and how it waits."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this many seconds."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """Seconds on time.monotonic()."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """asyncio.sleep."""
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class BackoffPolicy:
    """When to slow down and how to recover (multiplicative decrease, slow additive increase)."""

    window: int = 20  # outcomes looked at when judging the timeout share
    max_timeout_share: float = 0.2  # more timeouts than this share in the window halves the rate
    min_interval: float = 2.0  # seconds between two halvings: a burst of timeouts from one moment halves once
    min_rate: float = 1.0  # never go below this many qps
    recover_after: int = 50  # answered queries in a row before raising the rate one step
    recover_step: float = 0.1  # one step = this share of the configured rate


class TokenBucket:
    """A token bucket: `rate` tokens per second, holding at most `burst`."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1 (got rate={rate}, burst={burst})")
        self.rate = rate
        self.burst = burst
        self._max_burst = burst
        self._tokens = burst
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def take(self, now: float) -> float:
        """Take a token if one is there and return 0, else return how long to wait before asking again."""
        self._refill(now)
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    def set_rate(self, rate: float, now: float) -> None:
        """Change the rate from now on (tokens already earned stay, capped at the burst)."""
        self._refill(now)
        self.rate = rate
        # A lower rate also gets a burst no bigger than one second of it; recovery gives the burst back.
        self.burst = min(self._max_burst, max(1.0, rate))
        self._tokens = min(self._tokens, self.burst)


class ResolverLimiter:
    """Paces the queries to one resolver: a rate limit (None = unlimited), a cap on queries in flight, backoff."""

    def __init__(self, rate_qps: float | None = 50.0, *, max_in_flight: int = 64, burst: float | None = None,
                 backoff: BackoffPolicy | None = None, clock: Clock | None = None) -> None:
        if rate_qps is not None and rate_qps <= 0:
            raise ValueError(f"rate_qps must be positive or None for unlimited (got {rate_qps})")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1 (got {max_in_flight})")
        self.clock: Clock = clock or SystemClock()
        self.configured_rate = rate_qps
        self.max_in_flight = max_in_flight
        self.backoff = backoff or BackoffPolicy()
        # A small burst by default: a tenth of a second's worth, so that a resolver never sees much above the rate.
        burst_size = burst if burst is not None else max(1.0, (rate_qps or 1.0) / 10)
        self._bucket = TokenBucket(rate_qps, burst_size, self.clock.monotonic()) if rate_qps else None
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight = 0
        self._token_lock = asyncio.Lock()  # FIFO: waiters get tokens in arrival order
        self._outcomes: deque[bool] = deque(maxlen=self.backoff.window)
        self._answered_in_a_row = 0
        self._last_halving: float | None = None
        self.halvings = 0

    @property
    def rate(self) -> float | None:
        """The current rate in qps (lower than configured while backing off); None when unlimited."""
        return self._bucket.rate if self._bucket else None

    @property
    def in_flight(self) -> int:
        """Queries sent and not yet answered or timed out."""
        return self._in_flight

    async def acquire(self) -> None:
        """Wait for a free in-flight slot and a token; the caller must call release() when the query ends."""
        await self._slots.acquire()
        try:
            await self.take_token()
        except BaseException:
            self._slots.release()
            raise
        self._in_flight += 1

    async def take_token(self) -> None:
        """Wait for a token only (for a second packet of a query that already holds a slot, e.g. a TCP retry)."""
        if self._bucket is None:
            return
        async with self._token_lock:
            while True:
                wait = self._bucket.take(self.clock.monotonic())
                if wait <= 0:
                    return
                await self.clock.sleep(wait)

    def release(self, *, timed_out: bool) -> None:
        """Free the slot taken by acquire() and record whether the query timed out."""
        self._in_flight -= 1
        self._slots.release()
        self.record(timed_out=timed_out)

    def record(self, *, timed_out: bool) -> None:
        """Feed one outcome to the backoff: halve the rate when timeouts rise, recover slowly when they stop."""
        if self._bucket is None or self.configured_rate is None:
            return  # unlimited (benchmarks only): nothing to back off from
        self._outcomes.append(timed_out)
        policy = self.backoff
        now = self.clock.monotonic()
        if timed_out:
            self._answered_in_a_row = 0
            full = len(self._outcomes) >= policy.window
            share = sum(self._outcomes) / len(self._outcomes)
            recent = self._last_halving is not None and now - self._last_halving < policy.min_interval
            if full and share > policy.max_timeout_share and not recent:
                self._bucket.set_rate(max(policy.min_rate, self._bucket.rate / 2), now)
                self._last_halving = now
                self.halvings += 1
                self._outcomes.clear()  # judge the new rate on fresh outcomes
            return
        self._answered_in_a_row += 1
        if self._answered_in_a_row >= policy.recover_after and self._bucket.rate < self.configured_rate:
            step = self.configured_rate * policy.recover_step
            self._bucket.set_rate(min(self.configured_rate, self._bucket.rate + step), now)
            self._answered_in_a_row = 0
