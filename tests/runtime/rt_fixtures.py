"""Fixtures for the runtime tests, imported by the test modules (kept out of a conftest.py
here so that the runtime tests share the root conftest's fixtures unchanged)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from toolwire.state import MemoryBackend, StateBackend


async def _drop_prefix(client: object, prefix: str) -> None:
    async for key in client.scan_iter(match=prefix + "*", count=500):  # type: ignore[attr-defined]
        await client.delete(key)  # type: ignore[attr-defined]


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
        await _drop_prefix(be.client, redis_prefix)
        await be.aclose()


@pytest.fixture(name="redis_backend")
async def redis_backend_fixture(redis_url: str, redis_prefix: str) -> AsyncIterator[StateBackend]:
    from toolwire.state.redis import RedisBackend

    be = RedisBackend(redis_url, prefix=redis_prefix)
    try:
        yield be
    finally:
        await _drop_prefix(be.client, redis_prefix)
        await be.aclose()
