"""A full Redis connection pool is load, not an outage: callers wait for a connection (bounded)
and shared policies keep working; only a real outage turns them off (tests in
test_redis_outage.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from runtime_fixtures import _drop_prefix, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state import BackendUnavailable
from toolwire.state.redis import RedisBackend

pytestmark = pytest.mark.anyio


def _limited() -> tw.Tool:
    @tw.tool(policy=tw.Policy(rate_limit=tw.RateLimit(rate=10, per=60.0)))
    async def ping() -> str:
        """Answer after a short pause (holds the call open so many are in flight at once)."""
        await asyncio.sleep(0.01)
        return "ok"

    return ping


@pytest.fixture(name="pooled")
async def pooled_fixture(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisBackend]:
    # A generous pool wait: on a machine loaded by other jobs, 300 calls queued behind 50
    # connections once waited past the default 5 s, and a pool wait that times out fails
    # open (by design), which admitted 2 calls beyond the limit and failed the count.
    backend = RedisBackend(redis_url, prefix=redis_prefix, pool_timeout=60.0)
    try:
        yield backend
    finally:
        await _drop_prefix(backend.client, redis_prefix)
        await backend.aclose()


async def _burst(backend: RedisBackend, n: int) -> dict[str, int]:
    box = tw.Toolbox([_limited()], runtime=Executor(backend=backend))
    calls = [tw.ToolCall(id=str(i), name="ping", arguments="{}") for i in range(n)]
    kinds: dict[str, int] = {}
    for r in await box.run(calls):
        kind = r.error.kind if r.error else "ok"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


async def test_burst_beyond_the_pool_keeps_the_rate_limit(pooled: RedisBackend) -> None:
    # 300 concurrent calls on a pool of 50: the rest wait for a connection instead of
    # being counted as an outage (which would fail open and run them unlimited)
    assert await _burst(pooled, 300) == {"ok": 10, "rate_limited": 290}
    assert pooled.available


async def test_tiny_pool_still_exact(redis_url: str, redis_prefix: str) -> None:
    backend = RedisBackend(redis_url, prefix=redis_prefix, max_connections=2)
    try:
        assert await _burst(backend, 120) == {"ok": 10, "rate_limited": 110}
        assert backend.available
    finally:
        await _drop_prefix(backend.client, redis_prefix)
        await backend.aclose()


async def _hold_one_connection(client: object, key: str) -> None:
    # a blocking pop parks one pooled connection on the server for a while
    await client.blpop([key], timeout=0.6)  # type: ignore[attr-defined]


async def test_pool_wait_timeout_is_not_an_outage(redis_url: str, redis_prefix: str) -> None:
    backend = RedisBackend(redis_url, prefix=redis_prefix, max_connections=1, pool_timeout=0.05)
    try:
        holder = asyncio.create_task(_hold_one_connection(backend.client, redis_prefix + "q"))
        await asyncio.sleep(0.1)
        with pytest.raises(BackendUnavailable, match="pool"):
            await backend.cache_get("k")
        assert backend.available  # not marked down: no blackout for retry_interval
        await holder
        # the connection is free again: the next call goes straight through
        assert await backend.cache_get("k") is None
    finally:
        await _drop_prefix(backend.client, redis_prefix)
        await backend.aclose()


async def test_own_client_with_a_non_blocking_pool(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    # redis-py's default pool raises MaxConnectionsError at once when full
    client = aioredis.Redis.from_url(redis_url, max_connections=1)
    backend = RedisBackend(client=client, prefix=redis_prefix, pool_timeout=5.0)
    try:
        holder = asyncio.create_task(_hold_one_connection(client, redis_prefix + "q"))
        await asyncio.sleep(0.1)
        # waits (bounded) for the connection instead of marking Redis down
        assert await backend.cache_get("k") is None
        assert backend.available
        await holder
        short = RedisBackend(client=client, prefix=redis_prefix, pool_timeout=0.05)
        holder = asyncio.create_task(_hold_one_connection(client, redis_prefix + "q"))
        await asyncio.sleep(0.1)
        with pytest.raises(BackendUnavailable, match="pool"):
            await short.cache_get("k")
        assert short.available
        await holder
    finally:
        await _drop_prefix(client, redis_prefix)
        await backend.aclose()


def test_pool_size_must_be_positive(redis_url: str) -> None:
    with pytest.raises(ValueError, match="max_connections"):
        RedisBackend(redis_url, max_connections=0)
