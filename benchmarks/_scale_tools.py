"""The tool ``bench_scale`` serves: one hot tool under a breaker and a rate limit that never
trip, so each call is the shared state's admission and settlement around a no-op."""

from __future__ import annotations

import toolwire as tw

POLICY = tw.Policy(
    breaker=tw.Breaker(window=50, min_calls=20, failure_rate=0.5),
    rate_limit=tw.RateLimit(rate=1_000_000, per=1.0),
)


@tw.tool(read_only=True, policy=POLICY)
def hot(n: int) -> int:
    """Returns ``n``."""
    return n
