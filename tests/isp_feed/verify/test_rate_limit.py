"""The per-resolver rate limit holds, counted at the resolver: Unbound logs each query with its second."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

from isp_feed.verify.querier import Querier
from tests.support.resolvers import start_unbound

RATE = 20


def test_queries_per_second_at_the_resolver_stay_within_the_limit(tmp_path: Path) -> None:
    with start_unbound(tmp_path, None, log_queries=True) as unbound:
        before = len(unbound.log().splitlines())

        async def burst() -> None:
            async with Querier([(unbound.ip, unbound.port)], rate_qps=RATE) as querier:
                await asyncio.gather(*(querier.query(unbound.ip, unbound.port, f"n{i}.csam-gallery.test")
                                       for i in range(3 * RATE)))

        asyncio.run(burst())
        lines = unbound.log().splitlines()[before:]
    seconds = Counter(m.group(1) for line in lines if (m := re.match(r"\[(\d+)\].* info: 127\.0\.0\.1 n\d+\.", line)))
    assert sum(seconds.values()) == 3 * RATE  # every query reached the resolver, and was counted there
    # The bucket starts full (a burst of up to RATE), then refills at RATE per second.
    assert max(seconds.values()) <= 2 * RATE, seconds
    assert len(seconds) >= 2, seconds
