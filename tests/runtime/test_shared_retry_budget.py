"""Retry budgets on a shared store: every executor (process, replica) on one Redis prefix
draws from one budget per tool, where the memory store keeps one per process (issue #19).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from runtime_fixtures import _drop_prefix, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire._errors import ToolFailure
from toolwire.runtime import Executor
from toolwire.state import MemoryBackend, StateBackend

pytestmark = pytest.mark.anyio

# no earnings (budget 0): only the reserve of 10 retries, so the count is exact
RETRY = tw.Retry(retry_on=("execution_error",), attempts=3, backoff=0.0, budget=0.0)


@pytest.fixture(name="make_backend")
async def make_backend_fixture(
    redis_url: str, redis_prefix: str
) -> AsyncIterator[Callable[..., Any]]:
    from toolwire.state.redis import RedisBackend

    made: list[RedisBackend] = []

    def make() -> RedisBackend:
        made.append(RedisBackend(redis_url, prefix=redis_prefix))
        return made[-1]

    yield make
    if made:
        await _drop_prefix(made[0].client, redis_prefix)
    for be in made:
        await be.aclose()


def _box(backend: StateBackend, runs: list[str], who: str) -> tw.Toolbox:
    @tw.tool(read_only=True, policy=tw.Policy(retry=RETRY))
    async def flaky(i: int) -> int:
        runs.append(who)
        raise ToolFailure("execution_error", "the upstream is down")

    return tw.Toolbox([flaky], runtime=Executor(backend=backend))


async def _attempts(box: tw.Toolbox, n: int) -> list[int]:
    out = []
    for i in range(n):
        res = await box.call("flaky", {"i": i})
        assert not res.ok
        out.append(res.attempts)
    return out


async def test_two_toolboxes_on_one_store_draw_from_one_budget(
    make_backend: Callable[..., Any],
) -> None:
    runs: list[str] = []
    one, two = _box(make_backend(), runs, "one"), _box(make_backend(), runs, "two")
    try:
        assert await _attempts(one, 5) == [3, 3, 3, 3, 3]  # 10 retries: the whole reserve
        assert await _attempts(two, 3) == [1, 1, 1]  # nothing left for the other replica
        assert await _attempts(one, 1) == [1]
    finally:
        await one.runtime.aclose()
        await two.runtime.aclose()
    assert len(runs) == 15 + 3 + 1


async def test_memory_store_keeps_a_budget_per_process() -> None:
    runs: list[str] = []
    one, two = _box(MemoryBackend(), runs, "one"), _box(MemoryBackend(), runs, "two")
    assert await _attempts(one, 5) == [3, 3, 3, 3, 3]
    assert await _attempts(two, 3) == [3, 3, 3]  # its own reserve


async def test_earnings_of_one_store_client_pay_for_anothers_retries(
    make_backend: Callable[..., Any],
) -> None:
    earner, spender = make_backend(), make_backend()
    assert await earner.retry_budget("t", 10, 0.5, 0.0, False) is False  # 5 tokens earned
    spent = [await spender.retry_budget("t", 0, 0.5, 0.0, True) for _ in range(6)]
    assert spent == [True] * 5 + [False]
    # the cap: 1,000 calls' earnings, however many calls came before
    assert await earner.retry_budget("t", 10_000, 0.01, 0.0, False) is False
    spent = [await spender.retry_budget("t", 0, 0.01, 0.0, True) for _ in range(11)]
    assert spent == [True] * 10 + [False]


async def test_memory_and_redis_budgets_agree(make_backend: Callable[..., Any]) -> None:
    redis, memory = make_backend(), MemoryBackend()
    steps = [(3, False), (0, True), (7, True), (0, True), (0, True), (25, True), (0, True)]
    for deposits, spend in steps * 3:
        got = [await be.retry_budget("k", deposits, 0.2, 1.0, spend) for be in (redis, memory)]
        assert got[0] == got[1], (deposits, spend)
