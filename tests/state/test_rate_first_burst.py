"""The GCRA rate limiter admits a fresh bucket's whole burst at any clock value.

Found by the gRPC suite: ``(now + interval) - limit - now`` in floats rounds above 0 at some
clock values (e.g. ``now = 6126.826059427737`` with one call per hour), so the first call of a
fresh bucket was refused with ``retry_after`` of about 1e-12 s. Both limiters now count in
whole microseconds, where that sum is exact.
"""

from __future__ import annotations

import asyncio
import math
import uuid

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from toolwire.state import MemoryBackend

clocks = st.floats(min_value=0.0, max_value=1e10, allow_nan=False, allow_infinity=False)
rates = st.one_of(
    st.integers(min_value=1, max_value=200).map(float),
    st.floats(min_value=0.01, max_value=200.0, allow_nan=False),
)
periods = st.sampled_from([0.001, 0.1, 0.3, 0.7, 1.0, 1.5, 60.0, 3600.0, 86400.0]) | st.floats(
    min_value=0.001, max_value=1e6, allow_nan=False
)


def burst(rate: float) -> int:
    """How many calls a fresh bucket takes at once: ``floor(rate)``, and at least one."""
    return max(1, math.floor(rate))


def test_the_reported_clock_value_admits_the_first_call() -> None:
    backend = MemoryBackend(clock=lambda: 6126.826059427737)
    decision = asyncio.run(backend.rate_acquire("t", 1, 3600, 0.0))
    assert decision.allowed, decision


@settings(max_examples=400, deadline=None)
@given(now=clocks, rate=rates, per=periods)
@example(now=6126.826059427737, rate=1.0, per=3600.0)
@example(now=1e9 + 0.1, rate=3.0, per=1.0)
@example(now=12345.6789, rate=7.0, per=1.0)
def test_fresh_bucket_admits_its_burst_at_any_clock(now: float, rate: float, per: float) -> None:
    backend = MemoryBackend(clock=lambda: now)

    async def take() -> list[bool]:
        return [
            (await backend.rate_acquire("t", rate, per, 0.0)).allowed
            for _ in range(burst(rate) + 1)
        ]

    admitted = asyncio.run(take())
    assert admitted[:-1] == [True] * burst(rate), (now, rate, per)
    assert admitted[-1] is False, (now, rate, per)  # one more at the same instant is over


@pytest.mark.redis
@settings(max_examples=30, deadline=None)
@given(rate=rates, per=periods)
@example(rate=1.0, per=3600.0)
def test_redis_fresh_bucket_admits_its_burst(redis_url: str, rate: float, per: float) -> None:
    """The Lua limiter reads Redis's own clock (``TIME``), so the clock cannot be chosen: each
    example takes a fresh key at whatever time it is; the burst must pass with no wait."""
    from toolwire.state.redis import RedisBackend

    prefix = f"twtest:{uuid.uuid4().hex[:12]}:"

    async def take() -> list[tuple[bool, float]]:
        red = RedisBackend(redis_url, prefix=prefix)
        try:
            out = []
            for _ in range(burst(rate)):
                d = await red.rate_acquire("t", rate, per, 0.0)
                out.append((d.allowed, d.wait))
            return out
        finally:
            async with asyncio.timeout(10):
                try:
                    async for key in red.client.scan_iter(match=prefix + "*"):
                        await red.client.delete(key)
                finally:
                    await red.aclose()

    # a burst taken across a clock tick can see one interval refilled, never fewer admitted
    assert all(allowed and wait == 0 for allowed, wait in asyncio.run(take())), (rate, per)
