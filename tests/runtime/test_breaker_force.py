"""A breaker forced (open, closed, disabled) before its tool's first call gets the tool's
settings; the memory breaker follows each call's settings."""

from __future__ import annotations

import pytest

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state import BreakerConfig, MemoryBackend

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("forced", [None, "closed", "disabled"])
async def test_breaker_forced_before_first_call_gets_the_tools_settings(
    forced: str | None,
) -> None:
    @tw.tool(policy=tw.Policy(breaker=tw.Breaker(window=2, min_calls=2, failure_rate=0.5)))
    def boom() -> str:
        """Fails."""
        raise RuntimeError("x")

    ex = Executor()
    box = tw.Toolbox([boom], runtime=ex)
    await ex.force_breaker("boom", forced)  # type: ignore[arg-type]
    if forced == "disabled":
        await ex.force_breaker("boom", None)
    for _ in range(3):
        r = await box.call("boom", {})
    assert await ex.breaker_state("boom") == "open"
    assert r.error is not None and r.error.kind == "circuit_open"


async def test_memory_breaker_follows_each_calls_settings() -> None:
    be = MemoryBackend()
    loose = BreakerConfig(window=10, min_calls=10, failure_rate=0.5)
    tight = BreakerConfig(window=2, min_calls=2, failure_rate=0.5)
    for _ in range(3):
        adm = await be.breaker_acquire("k", loose)
        await be.breaker_record("k", loose, adm.generation, "failure", False)
    assert await be.breaker_state("k") == "closed"
    adm = await be.breaker_acquire("k", tight)
    tr = await be.breaker_record("k", tight, adm.generation, "failure", False)
    assert tr.new == "open"
