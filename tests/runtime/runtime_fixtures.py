"""Fixtures for the runtime tests, imported by the test modules (kept out of a conftest.py
here so that the runtime tests share the root conftest's fixtures unchanged).

Every teardown is bounded: a Redis that stopped answering must fail the test, not hang it
(pytest-timeout cannot interrupt an async fixture's teardown).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from private_redis import RedisServer, private_redis_fixture  # noqa: F401 - re-exported

from toolwire.state import MemoryBackend, StateBackend

TEARDOWN_S = 10.0


async def _drop_prefix(client: object, prefix: str) -> None:
    async with asyncio.timeout(TEARDOWN_S):
        async for key in client.scan_iter(match=prefix + "*", count=500):  # type: ignore[attr-defined]
            await client.delete(key)  # type: ignore[attr-defined]


async def close_backend(backend: StateBackend, prefix: str | None = None) -> None:
    """Drop a Redis backend's keys (when ``prefix`` is given) and close it, bounded."""
    try:
        if prefix is not None:
            await _drop_prefix(backend.client, prefix)  # type: ignore[attr-defined]
    finally:
        async with asyncio.timeout(TEARDOWN_S):
            await backend.aclose()


@pytest.fixture(name="redis_prefix")
def redis_prefix_fixture() -> str:
    return f"twtest:{uuid.uuid4().hex[:12]}:"


class ComposedMemory(MemoryBackend):
    """Memory state driven like a shared store: the executor goes through ``admit`` and
    ``settle``, whose default implementations compose the per-policy methods."""

    shared = True


@pytest.fixture(name="backend", params=["memory", "composed", "redis"])
async def backend_fixture(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[StateBackend]:
    if request.param == "memory":
        yield MemoryBackend()
        return
    if request.param == "composed":
        yield ComposedMemory()
        return
    url = request.getfixturevalue("redis_url")
    from toolwire.state.redis import RedisBackend

    be = RedisBackend(url, prefix=redis_prefix)
    try:
        yield be
    finally:
        await close_backend(be, redis_prefix)


@pytest.fixture(name="redis_backend")
async def redis_backend_fixture(redis_url: str, redis_prefix: str) -> AsyncIterator[StateBackend]:
    from toolwire.state.redis import RedisBackend

    be = RedisBackend(redis_url, prefix=redis_prefix)
    try:
        yield be
    finally:
        await close_backend(be, redis_prefix)
