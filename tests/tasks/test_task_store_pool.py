"""The Redis task store's connection pool under a burst: operations queued for a connection
wait their turn while connections keep coming free (load, not an outage); only a pool in
which none comes free for ``timeout`` seconds gives up. A single node's blocking pool and a
cluster node's pool (which raises ``MaxConnectionsError`` at once) alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from tasks_fixtures import TEARDOWN_S, redis_prefix_fixture, redis_task_store, redis_url_for  # noqa: F401

from toolwire.state._base import BackendUnavailable
from toolwire.state._tasks_redis import RedisTaskStore

pytestmark = pytest.mark.anyio

POOL_TIMEOUT_S = 0.5
HOLD_S = 0.1  # each claim holds the one connection this long (XREADGROUP BLOCK)
QUEUED = 10  # claims at once: the last one waits about QUEUED * HOLD_S, twice POOL_TIMEOUT_S


@pytest.fixture(name="small_pool", params=["redis", "redis-cluster"])
async def small_pool_fixture(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[RedisTaskStore]:
    async with redis_task_store(
        redis_url_for(request), redis_prefix, max_connections=1, timeout=POOL_TIMEOUT_S
    ) as store:
        yield store


async def test_a_burst_queued_for_the_pool_is_served_in_turn(small_pool: RedisTaskStore) -> None:
    await small_pool.claim("w0", count=1, lease=30, wait=0)  # the queue's group exists
    began = time.monotonic()
    outcomes = await asyncio.gather(
        *(small_pool.claim(f"w{i}", count=1, lease=30, wait=HOLD_S) for i in range(QUEUED)),
        return_exceptions=True,
    )
    took = time.monotonic() - began
    refused = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert not refused, (
        f"{len(refused)} of {QUEUED} claims queued behind one connection that came free every "
        f"{HOLD_S} s were refused after {took:.2f} s (pool timeout {POOL_TIMEOUT_S} s): "
        f"{refused[0]}"
    )
    assert outcomes == [[]] * QUEUED, f"an empty queue gave claims: {outcomes}"


async def test_a_pool_that_never_frees_a_connection_gives_up(small_pool: RedisTaskStore) -> None:
    # the one connection parked on a blocking pop (a key of the store's slot, on its node)
    held = small_pool.prefix + "hold:{tasks}"
    await small_pool.get("task_" + "0" * 32)  # the client is set up (a cluster: its slots)
    holder = asyncio.create_task(small_pool._pool.call(small_pool.client.blpop, [held], 1.5))
    await asyncio.sleep(0.2)
    assert not holder.done(), f"the blocking pop did not hold the connection: {holder!r}"
    began = time.monotonic()
    try:
        try:
            found = await small_pool.get("task_" + "0" * 32)
        except BackendUnavailable as exc:
            outcome: object = exc
        else:
            outcome = f"an answer ({found!r})"
        took = time.monotonic() - began
        assert isinstance(outcome, BackendUnavailable) and "pool" in str(outcome), (
            f"with the one connection held by a 1.5 s blocking pop, a get gave {outcome!r} "
            f"after {took:.2f} s, not the full pool's refusal after about {POOL_TIMEOUT_S} s"
        )
    finally:
        async with asyncio.timeout(TEARDOWN_S):
            await holder
