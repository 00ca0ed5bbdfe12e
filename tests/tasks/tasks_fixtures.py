"""Fixtures of the task tests: a task store of each kind (memory; Redis on the shared server
under a random prefix, dropped afterwards), every teardown bounded."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from toolwire.state._tasks import TaskStore
from toolwire.state._tasks_memory import MemoryTaskStore

TEARDOWN_S = 10.0


async def drop_prefix(client: object, prefix: str) -> None:
    async with asyncio.timeout(TEARDOWN_S):
        async for key in client.scan_iter(match=prefix + "*", count=500):  # type: ignore[attr-defined]
            await client.delete(key)  # type: ignore[attr-defined]


@pytest.fixture(name="redis_prefix")
def redis_prefix_fixture() -> str:
    return f"twtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(name="store", params=["memory", "redis", "redis-cluster"])
async def store_fixture(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[TaskStore]:
    if request.param == "memory":
        yield MemoryTaskStore()
        return
    async with redis_task_store(redis_url_for(request), redis_prefix) as store:
        yield store


def redis_url_for(request: pytest.FixtureRequest) -> str:
    """The Redis a ``redis`` / ``redis-cluster`` fixture parameter names: the single server,
    or the 3 primaries + 3 replicas of tests/redis_nodes.py."""
    if request.param == "redis-cluster":
        return str(request.getfixturevalue("redis_cluster").url)
    return str(request.getfixturevalue("redis_url"))


@contextlib.asynccontextmanager
async def redis_task_store(url: str, prefix: str, **options: Any) -> AsyncIterator[Any]:
    """A ``RedisTaskStore`` under ``prefix``, its keys dropped and the store closed afterwards
    (each bounded by TEARDOWN_S), also when the test fails."""
    from toolwire.state._tasks_redis import RedisTaskStore

    # connect_timeout is wall time on this event loop: with 1,000 tasks in flight on a loaded
    # CI host a loopback connect outlived the 0.5 s default (meant to notice a dead Redis fast)
    options.setdefault("connect_timeout", 5.0)
    store = RedisTaskStore(url, prefix=prefix, **options)
    try:
        yield store
    finally:
        try:
            await drop_prefix(store.client, prefix)
        finally:
            async with asyncio.timeout(TEARDOWN_S):
                await store.aclose()
